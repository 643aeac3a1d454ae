from decimal import Decimal

import pytest

from saleor_license_plugin.licensing.catalog import (
    AddOnKind,
    AddOnTerms,
    EditionTerms,
    Term,
    parse_terms,
)
from saleor_license_plugin.licensing.errors import CatalogError, LicenseErrorCode


def test_ordinary_products_are_not_license_products():
    assert parse_terms({"color": "red"}, {}) is None
    assert parse_terms(None, None) is None


def test_variant_keys_override_product_keys():
    product = {
        "license.kind": "edition",
        "license.edition": "Professional",
        "license.edition_rank": "2",
        "license.maintenance_rate": "0.20",
        "license.capacity": "4",
    }
    variant = {"license.capacity": "16", "license.requires_deployment": "true"}
    terms = parse_terms(product, variant)
    assert terms == EditionTerms(
        edition="Professional",
        rank=2,
        capacity=16,
        maintenance_rate=Decimal("0.20"),
        requires_deployment=True,
    )
    assert terms.maintenance_per_year(Decimal("500")) == Decimal("100.00")
    assert terms.renewal_per_year(Decimal("500")) is None  # perpetual


def test_annual_edition_renews_at_its_renewal_price_or_the_variant_price():
    meta = {"license.kind": "edition", "license.edition": "Cloud", "license.term": "Annual"}
    assert parse_terms(meta).renewal_per_year(Decimal("120")) == Decimal("120")
    terms = parse_terms({**meta, "license.renewal_price": "99.50"})
    assert terms.term is Term.ANNUAL and terms.renewal_per_year(Decimal("120")) == Decimal("99.50")


def test_add_on_terms():
    terms = parse_terms(
        {"license.kind": "add_on", "license.add_on": "hot_standby", "license.add_on_kind": "flat"}
    )
    assert terms == AddOnTerms(code="hot_standby", kind=AddOnKind.FLAT)


@pytest.mark.parametrize(
    "meta, field",
    [
        ({"license.kind": "bundle"}, "license.kind"),
        ({"license.kind": "edition"}, "license.edition"),
        (
            {"license.kind": "edition", "license.edition": "X", "license.capacity": "eight"},
            "license.capacity",
        ),
        (
            {"license.kind": "edition", "license.edition": "X", "license.capacity": "-1"},
            "license.capacity",
        ),
        (
            {"license.kind": "edition", "license.edition": "X", "license.maintenance_price": "NaN"},
            "license.maintenance_price",
        ),
        (
            {"license.kind": "edition", "license.edition": "X", "license.term": "monthly"},
            "license.term",
        ),
        (
            {
                "license.kind": "edition",
                "license.edition": "X",
                "license.requires_deployment": "maybe",
            },
            "license.requires_deployment",
        ),
        (
            {"license.kind": "add_on", "license.add_on": "x", "license.add_on_kind": "tiered"},
            "license.add_on_kind",
        ),
    ],
)
def test_bad_metadata_names_the_key(meta, field):
    with pytest.raises(CatalogError) as info:
        parse_terms(meta)
    assert info.value.code is LicenseErrorCode.INVALID_CATALOG_METADATA
    assert info.value.field == field
