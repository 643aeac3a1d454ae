from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from saleor_license_plugin.licensing.catalog import AddOnKind, AddOnTerms, EditionTerms, Term
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.pricing import (
    LineAction,
    Money,
    UpgradePolicy,
    YearBounds,
    quantize,
    quote_expansion,
    quote_new,
    quote_renew_license,
    quote_renew_maintenance,
    quote_upgrade,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)
BOUNDS = YearBounds(1, 10)
DEFAULT_POLICY = UpgradePolicy()
EUR = "EUR"
amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=2)
currencies = st.sampled_from(["EUR", "USD", "JPY", "KWD"])


def eur(value):
    return Money(Decimal(value), EUR)


def edition(rank=1, capacity=8, **kw):
    return EditionTerms(edition=f"E{rank}", rank=rank, capacity=capacity, **kw)


def upgrade(
    current_price, target_price, expires=None, policy=DEFAULT_POLICY, currency=EUR, target=None
):
    return quote_upgrade(
        current_rank=1,
        current_capacity=8,
        current_price=Money(current_price, currency),
        term_expires_at=expires,
        target=target or edition(2, 16),
        target_price=Money(target_price, currency),
        now=NOW,
        policy=policy,
    )


def test_new_is_price_times_quantity_plus_maintenance():
    quote = quote_new(edition(maintenance_rate=Decimal("0.15")), eur("395"), 3, 2, BOUNDS)
    assert quote.action is LineAction.NEW
    assert quote.unit_price == eur("513.50")  # 395 + 2 × 59.25
    assert quote.total == eur("1540.50") and quote.quantity == 3
    assert [line.amount for line in quote.breakdown] == [eur("395.00"), eur("118.50")]


def test_new_with_maintenance_needs_a_maintenance_price():
    with pytest.raises(LicenseError) as info:
        quote_new(edition(), eur("395"), 1, 1, BOUNDS)
    assert info.value.code is LicenseErrorCode.NOT_RENEWABLE


@given(amounts, amounts)
def test_upgrade_is_never_negative_and_never_above_the_difference(current, target):
    quote = upgrade(current, target, expires=NOW + timedelta(days=100))
    full = max(target - current, Decimal(0))
    assert Decimal(0) <= quote.total.amount <= quantize(full, EUR)


@given(
    amounts,
    amounts,
    st.integers(min_value=0, max_value=365),
    st.integers(min_value=0, max_value=365),
)
def test_more_remaining_term_never_costs_less(current, target, days_a, days_b):
    a, b = sorted((days_a, days_b))
    short = upgrade(current, target, expires=NOW + timedelta(days=a))
    long = upgrade(current, target, expires=NOW + timedelta(days=b))
    assert short.total.amount <= long.total.amount


@given(
    amounts,
    amounts,
    st.decimals(min_value=0, max_value=1, places=2),
    st.integers(min_value=0, max_value=365),
)
def test_floor_holds_when_prorating(current, target, rate, days):
    assume(target > current)
    policy = UpgradePolicy(prorate=True, floor_rate=rate)
    quote = upgrade(current, target, expires=NOW + timedelta(days=days), policy=policy)
    assert quote.total.amount >= quantize((target - current) * rate, EUR)


def test_upgrade_prorates_on_the_remaining_term_only_when_configured():
    half = NOW + timedelta(days=182, hours=12)
    assert upgrade(Decimal(100), Decimal(300), expires=half).total == eur("100.00")
    assert upgrade(
        Decimal(100), Decimal(300), expires=half, policy=UpgradePolicy(prorate=False)
    ).total == eur("200.00")
    assert upgrade(Decimal(100), Decimal(300), expires=None).total == eur(
        "200.00"
    )  # perpetual: full
    floored = upgrade(
        Decimal(100),
        Decimal(300),
        expires=NOW + timedelta(days=1),
        policy=UpgradePolicy(floor_amount=Decimal("25")),
    )
    assert floored.total == eur("25.00")


@pytest.mark.parametrize(
    "target, code",
    [
        (edition(0, 16), LicenseErrorCode.DOWNGRADE_NOT_ALLOWED),
        (edition(2, 4), LicenseErrorCode.DOWNGRADE_NOT_ALLOWED),
        (edition(1, 8), LicenseErrorCode.NOT_AN_UPGRADE),
    ],
)
def test_downgrades_and_sideways_moves_are_refused(target, code):
    with pytest.raises(LicenseError) as info:
        upgrade(Decimal(500), Decimal(100), target=target)
    assert info.value.code is code


def test_upgrade_prices_must_share_a_currency():
    with pytest.raises(LicenseError) as info:
        quote_upgrade(
            current_rank=1,
            current_capacity=8,
            current_price=eur("1"),
            term_expires_at=None,
            target=edition(2, 16),
            target_price=Money(Decimal(2), "USD"),
            now=NOW,
            policy=UpgradePolicy(),
        )
    assert info.value.code is LicenseErrorCode.CURRENCY_MISMATCH


@pytest.mark.parametrize("years", [0, -1, 11, 100, True, 1.5, "2"])
def test_renewal_years_are_bounded(years):
    for quote in (quote_renew_license, quote_renew_maintenance):
        with pytest.raises(LicenseError) as info:
            quote(
                edition(term=Term.ANNUAL, maintenance_price=Decimal(1)), eur("100"), years, BOUNDS
            )
        assert info.value.code is LicenseErrorCode.INVALID_YEARS


def test_renewals():
    annual = edition(
        term=Term.ANNUAL,
        renewal_price=Decimal("99.99"),
        maintenance_rate=Decimal("0.2"),
        max_years=3,
    )
    assert quote_renew_license(annual, eur("150"), 3, BOUNDS).total == eur("299.97")
    assert quote_renew_maintenance(annual, eur("150"), 2, BOUNDS).total == eur("60.00")
    with pytest.raises(LicenseError) as info:
        quote_renew_license(annual, eur("150"), 4, BOUNDS)  # the product allows 3
    assert info.value.code is LicenseErrorCode.INVALID_YEARS
    with pytest.raises(LicenseError) as info:
        quote_renew_license(edition(), eur("150"), 1, BOUNDS)
    assert info.value.code is LicenseErrorCode.NOT_RENEWABLE


def test_expansion_is_co_termed_to_the_license():
    ext = AddOnTerms(code="extensions", kind=AddOnKind.QUANTITY)
    quarter = NOW + timedelta(days=91, hours=6)
    assert quote_expansion(ext, eur("40"), 5, quarter, NOW).unit_price == eur("10.00")
    assert quote_expansion(ext, eur("40"), 5, quarter, NOW).total == eur("50.00")
    assert quote_expansion(ext, eur("40"), 5, None, NOW).total == eur("200.00")  # perpetual: once
    standby = AddOnTerms(code="hot_standby", kind=AddOnKind.FLAT)
    assert quote_expansion(standby, eur("300"), 1, None, NOW).total == eur("300.00")
    with pytest.raises(LicenseError) as info:
        quote_expansion(standby, eur("300"), 2, None, NOW)
    assert info.value.code is LicenseErrorCode.INVALID_QUANTITY


@given(
    amounts,
    st.integers(min_value=1, max_value=1000),
    st.integers(min_value=0, max_value=10),
    currencies,
)
def test_totals_are_rounded_unit_prices_times_quantity(price, quantity, years, currency):
    terms = edition(maintenance_rate=Decimal("0.173"))
    quote = quote_new(terms, Money(price, currency), quantity, years, BOUNDS)
    assert quote.unit_price.amount == quantize(quote.unit_price.amount, currency)
    assert quote.total.amount == quote.unit_price.amount * quantity
    assert quote.total.currency == currency


@pytest.mark.parametrize("quantity", [0, -3, 1001, True, 2.0])
def test_bad_quantities(quantity):
    with pytest.raises(LicenseError) as info:
        quote_new(edition(), eur("1"), quantity, 0, BOUNDS)
    assert info.value.code is LicenseErrorCode.INVALID_QUANTITY


def test_money_refuses_nonsense():
    for amount, currency in ((Decimal("NaN"), EUR), (Decimal(1), "EURO"), (1, EUR)):
        with pytest.raises(LicenseError):
            Money(amount, currency)


@pytest.mark.parametrize("currency", ["MGA", "UYI", "JPY", "KWD", "CLF", "EUR", "ISK", "IQD"])
@given(days=st.integers(min_value=1, max_value=364))
def test_prorated_quotes_are_amounts_the_payment_layer_accepts(currency, days):
    """The bug: MGA quotes were rounded to cents (one table) and then refused by the payment
    layer (another table, MGA has no minor unit). One precision table now serves both."""
    from saleor_license_plugin.payments.money import from_minor, to_minor

    quote = upgrade(
        Decimal("1000"), Decimal("3333"), expires=NOW + timedelta(days=days), currency=currency
    )
    for amount in (quote.unit_price.amount, quote.total.amount):
        assert from_minor(to_minor(amount, currency), currency) == amount


def test_precision_is_saleors_table():
    from saleor_license_plugin.licensing.pricing import currency_precision

    assert [currency_precision(c) for c in ("MGA", "EUR", "kwd", "JPY", "CLF")] == [0, 2, 3, 0, 4]
