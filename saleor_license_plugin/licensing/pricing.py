"""Quotes for every line type. Pure functions on Decimal money; no database, no Saleor.

Amounts are rounded once, per unit, to the currency's minor unit (half up); a line's total is
the rounded unit price times the quantity, which is how Saleor totals a checkout line whose unit
price is overridden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from babel.numbers import get_currency_precision

from saleor_license_plugin.licensing.catalog import AddOnKind, AddOnTerms, EditionTerms, PlanTerms
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode

YEAR = timedelta(days=365)


class LineAction(StrEnum):
    NEW = "new"
    UPGRADE = "upgrade"
    RENEW_LICENSE = "renew_license"
    RENEW_MAINTENANCE = "renew_maintenance"
    EXPANSION = "expansion"
    SUBSCRIBE = "subscribe"
    # A subscription's period bill (``subscription_billing``): placed by the plugin itself,
    # never by a storefront (not in the API's LicenseAction enum).
    SUBSCRIPTION_BILL = "subscription_bill"
    PLAN_UPGRADE = "plan_upgrade"  # a subscription moves to a dearer plan now (plan_changes)


def currency_precision(currency: str) -> int:
    """Decimal places of ``currency``, from CLDR through Babel: the table Saleor itself rounds
    prices with (``saleor.core.prices``), so our amounts are always ones Saleor can hold."""
    return int(get_currency_precision(currency.upper()))


def quantize(amount: Decimal, currency: str) -> Decimal:
    exponent = currency_precision(currency)
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise LicenseError(LicenseErrorCode.INVALID, "Amount must be a finite decimal.")
        if len(self.currency) != 3 or not self.currency.isalpha():
            raise LicenseError(LicenseErrorCode.INVALID, "Currency must be a 3-letter code.")

    def rounded(self) -> Money:
        return Money(quantize(self.amount, self.currency), self.currency)


@dataclass(frozen=True)
class QuoteLine:
    description: str
    amount: Money


@dataclass(frozen=True)
class Quote:
    """What one checkout line costs: ``unit_price`` × ``quantity`` = ``total``."""

    action: LineAction
    unit_price: Money
    quantity: int
    breakdown: tuple[QuoteLine, ...]

    @property
    def total(self) -> Money:
        return Money(self.unit_price.amount * self.quantity, self.unit_price.currency)


@dataclass(frozen=True)
class UpgradePolicy:
    prorate: bool = True
    floor_amount: Decimal = Decimal("0")
    floor_rate: Decimal = Decimal("0")  # fraction of the full (unprorated) difference


@dataclass(frozen=True)
class YearBounds:
    minimum: int = 1
    maximum: int = 10


def check_years(years: int, bounds: YearBounds, field: str = "years") -> int:
    if isinstance(years, bool) or not isinstance(years, int):
        raise LicenseError(LicenseErrorCode.INVALID_YEARS, "Years must be a whole number.", field)
    if not bounds.minimum <= years <= bounds.maximum:
        raise LicenseError(
            LicenseErrorCode.INVALID_YEARS,
            f"Years must be between {bounds.minimum} and {bounds.maximum}.",
            field,
        )
    return years


def check_quantity(quantity: int, maximum: int = 1000) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= maximum:
        raise LicenseError(
            LicenseErrorCode.INVALID_QUANTITY,
            f"Quantity must be between 1 and {maximum}.",
            "quantity",
        )
    return quantity


def _one(
    action: LineAction, currency: str, parts: list[tuple[str, Decimal]], quantity: int = 1
) -> Quote:
    breakdown = tuple(
        QuoteLine(label, Money(amount, currency).rounded()) for label, amount in parts
    )
    unit = quantize(sum((amount for _, amount in parts), Decimal(0)), currency)
    return Quote(action, Money(unit, currency), quantity, breakdown)


def quote_new(
    terms: EditionTerms, price: Money, quantity: int, maintenance_years: int, bounds: YearBounds
) -> Quote:
    """Variant price × quantity, plus maintenance years per unit."""
    check_quantity(quantity)
    parts = [(f"{terms.edition} {terms.capacity}", price.amount)]
    if maintenance_years:
        check_years(maintenance_years, YearBounds(1, bounds.maximum), "maintenanceYears")
        per_year = terms.maintenance_per_year(price.amount)
        if per_year is None:
            raise LicenseError(
                LicenseErrorCode.NOT_RENEWABLE,
                "This edition sells no maintenance.",
                "maintenanceYears",
            )
        parts.append((f"Maintenance, {maintenance_years} year(s)", per_year * maintenance_years))
    return _one(LineAction.NEW, price.currency, parts, quantity)


def remaining_fraction(
    expires_at: datetime | None, now: datetime, term: timedelta = YEAR
) -> Decimal:
    """Share of a term still to run; 1 for perpetual licenses (no expiry)."""
    if expires_at is None:
        return Decimal(1)
    seconds = max((expires_at - now).total_seconds(), 0)
    return Decimal(seconds) / Decimal(term.total_seconds())


def check_upgrade_path(current_rank: int, current_capacity: int, target: EditionTerms) -> None:
    if target.rank < current_rank or target.capacity < current_capacity:
        raise LicenseError(
            LicenseErrorCode.DOWNGRADE_NOT_ALLOWED,
            "Licenses can only move to a higher edition or capacity.",
            "variantId",
        )
    if target.rank == current_rank and target.capacity == current_capacity:
        raise LicenseError(
            LicenseErrorCode.NOT_AN_UPGRADE,
            "The license already has this edition and capacity.",
            "variantId",
        )


def quote_upgrade(
    *,
    current_rank: int,
    current_capacity: int,
    current_price: Money,
    term_expires_at: datetime | None,
    target: EditionTerms,
    target_price: Money,
    now: datetime,
    policy: UpgradePolicy,
) -> Quote:
    """Target − current, prorated on the remaining term (term licenses, when configured), never
    below the floor, never above the full difference, never negative."""
    check_upgrade_path(current_rank, current_capacity, target)
    if current_price.currency != target_price.currency:
        raise LicenseError(
            LicenseErrorCode.CURRENCY_MISMATCH, "Prices are in different currencies."
        )
    full = max(target_price.amount - current_price.amount, Decimal(0))
    amount = full
    if policy.prorate and term_expires_at is not None:
        amount = full * min(remaining_fraction(term_expires_at, now), Decimal(1))
    floor = max(policy.floor_amount, full * policy.floor_rate)
    amount = min(max(amount, floor), full)
    label = f"Upgrade to {target.edition} {target.capacity}"
    return _one(LineAction.UPGRADE, target_price.currency, [(label, amount)])


def perpetual_not_renewed() -> LicenseError:
    """Perpetual licenses renew maintenance only; their term is never renewed."""
    return LicenseError(
        LicenseErrorCode.NOT_RENEWABLE, "Perpetual licenses are not renewed.", "years"
    )


def ensure_service_not_active(add_on: AddOnTerms, current: object) -> None:
    """A flat-rate service is on or off: it cannot be bought again while it is on."""
    if add_on.kind is AddOnKind.FLAT and current:
        raise LicenseError(
            LicenseErrorCode.ADD_ON_ALREADY_ACTIVE, "This service is already active.", "addOn"
        )


def quote_subscribe(terms: PlanTerms, price: Money, mode: str) -> Quote:
    """What a SUBSCRIBE line costs at checkout: pre-paid, the plan price of the first period
    (nothing when the first period is free); post-paid, nothing now (billed in arrears)."""
    if mode == "postpaid":
        label = "Post-paid: billed at the end of each period for the peak users"
        return _one(LineAction.SUBSCRIBE, price.currency, [(label, Decimal(0))])
    if terms.free_first_period:
        label = f"{terms.plan}: first {terms.period.value.removesuffix('ly')} free"
        return _one(LineAction.SUBSCRIBE, price.currency, [(label, Decimal(0))])
    label = f"{terms.plan}, first {terms.period.value.removesuffix('ly')}"
    return _one(LineAction.SUBSCRIBE, price.currency, [(label, price.amount)])


def quote_renew_license(terms: EditionTerms, price: Money, years: int, bounds: YearBounds) -> Quote:
    per_year = terms.renewal_per_year(price.amount)
    if per_year is None:
        raise perpetual_not_renewed()
    check_years(years, _bounded(terms, bounds))
    return _one(
        LineAction.RENEW_LICENSE, price.currency, [(f"License, {years} year(s)", per_year * years)]
    )


def quote_renew_maintenance(
    terms: EditionTerms, price: Money, years: int, bounds: YearBounds
) -> Quote:
    per_year = terms.maintenance_per_year(price.amount)
    if per_year is None:
        raise LicenseError(
            LicenseErrorCode.NOT_RENEWABLE, "This edition sells no maintenance.", "years"
        )
    check_years(years, _bounded(terms, bounds))
    label = f"Maintenance, {years} year(s)"
    return _one(LineAction.RENEW_MAINTENANCE, price.currency, [(label, per_year * years)])


def quote_expansion(
    add_on: AddOnTerms,
    price: Money,
    quantity: int,
    term_expires_at: datetime | None,
    now: datetime,
) -> Quote:
    """Per unit (quantity add-ons) or flat (services), co-termed to the license: a term license
    pays the annual price for the share of the term left; a perpetual one pays it once."""
    check_quantity(quantity, 1 if add_on.kind is AddOnKind.FLAT else add_on.max_quantity)
    factor = remaining_fraction(term_expires_at, now)
    label = f"{add_on.code}" + (" (co-termed)" if term_expires_at else "")
    return _one(LineAction.EXPANSION, price.currency, [(label, price.amount * factor)], quantity)


def _bounded(terms: EditionTerms, bounds: YearBounds) -> YearBounds:
    if terms.max_years is None:
        return bounds
    return YearBounds(bounds.minimum, min(bounds.maximum, terms.max_years))
