from datetime import timedelta
from decimal import Decimal

import pytest

from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.offers import LineRequest, offers_for, quote_line
from saleor_license_plugin.licensing.pricing import LineAction, Money
from tests.factories import CATALOG, issue

pytestmark = pytest.mark.django_db


def test_ordinary_products_are_left_out_of_the_catalog():
    assert CATALOG.get("tshirt") is None and len(CATALOG.items()) == 12  # 7 + 5 plans


def test_offers_for_a_perpetual_license(alice, now):
    license = issue("pro-8", alice, now, maintenance_years=1)
    offers = offers_for(license, CATALOG, now)
    assert [(p.item.variant_id, p.quote.total.amount) for p in offers.upgrades] == [
        ("ent-8", Decimal("200.00")),
        ("pro-16", Decimal("300.00")),
    ]
    assert offers.renewal is None  # perpetual
    assert offers.maintenance.quote.total == Money(Decimal("80.00"), "EUR")
    assert {p.item.variant_id for p in offers.expansions} == {"ext", "hs"}
    assert offers.actions == (
        LineAction.UPGRADE,
        LineAction.RENEW_MAINTENANCE,
        LineAction.EXPANSION,
    )


def test_term_license_offers_renewal_and_co_termed_expansion(alice, now):
    license = issue("cloud-8", alice, now)
    offers = offers_for(license, CATALOG, now)
    assert offers.renewal.quote.total == Money(Decimal("120.00"), "EUR")
    later = now + timedelta(days=365 - 73)  # a fifth of the term left
    ext = quote_line(LineRequest(LineAction.EXPANSION, "ext", license, quantity=5), CATALOG, later)
    assert ext.quote.unit_price == Money(
        Decimal("2.00"), "EUR"
    ) and ext.quote.total.amount == Decimal("10.00")


def test_suspended_and_revoked_licenses_offer_nothing(alice, now):
    license = issue("pro-8", alice, now, maintenance_years=1)
    lifecycle.suspend_license(license.pk, now=now)
    license.refresh_from_db()
    offers = offers_for(license, CATALOG, now)
    assert offers.actions == ()
    with pytest.raises(LicenseError) as info:
        quote_line(LineRequest(LineAction.UPGRADE, "pro-16", license), CATALOG, now)
    assert info.value.code is LicenseErrorCode.LICENSE_NOT_ACTIVE


@pytest.mark.parametrize(
    "request_kwargs, code",
    [
        ({"action": LineAction.NEW, "variant_id": "ext"}, LicenseErrorCode.NOT_A_LICENSE_PRODUCT),
        (
            {"action": LineAction.NEW, "variant_id": "tshirt"},
            LicenseErrorCode.NOT_A_LICENSE_PRODUCT,
        ),
        ({"action": LineAction.NEW, "variant_id": None}, LicenseErrorCode.NOT_A_LICENSE_PRODUCT),
        (
            {"action": LineAction.NEW, "variant_id": "pro-8", "quantity": 0},
            LicenseErrorCode.INVALID_QUANTITY,
        ),
        ({"action": LineAction.UPGRADE, "variant_id": "pro-16"}, LicenseErrorCode.REQUIRED),
    ],
)
def test_bad_line_requests(request_kwargs, code, now):
    with pytest.raises(LicenseError) as info:
        quote_line(LineRequest(**request_kwargs), CATALOG, now)
    assert info.value.code is code


def test_upgrade_to_a_lower_edition_is_refused_with_a_code(alice, now):
    license = issue("pro-16", alice, now)
    for target in ("std-8", "pro-8", "pro-16"):
        with pytest.raises(LicenseError) as info:
            quote_line(LineRequest(LineAction.UPGRADE, target, license), CATALOG, now)
        assert info.value.code in (
            LicenseErrorCode.DOWNGRADE_NOT_ALLOWED,
            LicenseErrorCode.NOT_AN_UPGRADE,
        )


def test_new_line_prices_quantity_and_maintenance(now):
    priced = quote_line(
        LineRequest(LineAction.NEW, "pro-8", quantity=2, maintenance_years=2), CATALOG, now
    )
    assert priced.quote.unit_price == Money(Decimal("560.00"), "EUR")
    assert priced.quote.total == Money(Decimal("1120.00"), "EUR")
