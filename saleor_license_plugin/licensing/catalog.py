"""Catalog terms, read from metadata a merchant sets on Saleor products and variants.

A product is a license product when ``license.kind`` is set on the product or variant; variant
keys win over product keys, so one product ("Professional") can carry the edition and each
variant ("8 calls", "16 calls") its capacity. All values are strings, as the Dashboard stores
them. The README lists every key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from saleor_license_plugin.licensing.errors import CatalogError

PREFIX = "license."


class Term(StrEnum):
    PERPETUAL = "perpetual"
    ANNUAL = "annual"


class AddOnKind(StrEnum):
    QUANTITY = "quantity"  # per unit: extra extensions, extra concurrent calls
    FLAT = "flat"  # a service, on or off: hot standby, disaster recovery


@dataclass(frozen=True)
class EditionTerms:
    edition: str
    rank: int
    capacity: int
    capacity_unit: str = "simultaneous_calls"
    term: Term = Term.PERPETUAL
    renewal_price: Decimal | None = None  # per year; None: the variant price (annual terms only)
    maintenance_price: Decimal | None = None  # per year, absolute
    maintenance_rate: Decimal | None = None  # per year, as a fraction of the variant price
    requires_deployment: bool = False
    max_activations: int | None = None
    max_years: int | None = None

    def maintenance_per_year(self, variant_price: Decimal) -> Decimal | None:
        if self.maintenance_price is not None:
            return self.maintenance_price
        if self.maintenance_rate is not None:
            return variant_price * self.maintenance_rate
        return None

    def renewal_per_year(self, variant_price: Decimal) -> Decimal | None:
        if self.term is Term.PERPETUAL:
            return None
        return self.renewal_price if self.renewal_price is not None else variant_price


class PlanPeriod(StrEnum):
    MONTHLY = "monthly"
    YEARLY = "yearly"


class PaymentMode(StrEnum):
    PREPAID = "prepaid"  # the plan price for each period in advance, whatever the user count
    POSTPAID = "postpaid"  # at each period's end: the per-user price x the period's peak users


class InstanceType(StrEnum):
    CLOUD = "cloud"
    SAAS = "saas"


@dataclass(frozen=True)
class PlanTerms:
    """A cloud or SaaS subscription plan (seed 004): the variant price is the pre-paid price
    of one period; ``per_user_price`` is what a post-paid period costs per peak user."""

    plan: str
    period: PlanPeriod = PlanPeriod.MONTHLY
    modes: tuple[PaymentMode, ...] = (PaymentMode.PREPAID, PaymentMode.POSTPAID)
    instance_type: InstanceType = InstanceType.CLOUD
    included_users: int = 0
    per_user_price: Decimal | None = None
    user_cap: int | None = None
    data_locations: tuple[str, ...] = ()
    free_first_period: bool = False  # postponed billing: the first period is free
    requires_deployment: bool = False


@dataclass(frozen=True)
class AddOnTerms:
    code: str
    kind: AddOnKind
    units: int = 1  # capacity units one purchased unit adds
    max_quantity: int = 1000
    requires_deployment: bool = False


def parse_terms(
    product_metadata: Mapping[str, str] | None, variant_metadata: Mapping[str, str] | None = None
) -> EditionTerms | AddOnTerms | PlanTerms | None:
    """Terms of a product/variant, ``None`` for an ordinary product, :class:`CatalogError` if the
    merchant's metadata is inconsistent (naming the key)."""
    meta = {**(product_metadata or {}), **(variant_metadata or {})}
    kind = meta.get(PREFIX + "kind")
    if kind is None:
        return None
    if kind == "edition":
        return EditionTerms(
            edition=_required(meta, "edition"),
            rank=_int(meta, "edition_rank", 0) or 0,
            capacity=_int(meta, "capacity", 0, minimum=0) or 0,
            capacity_unit=meta.get(PREFIX + "capacity_unit", "simultaneous_calls"),
            term=_enum(meta, "term", Term, Term.PERPETUAL),
            renewal_price=_decimal(meta, "renewal_price"),
            maintenance_price=_decimal(meta, "maintenance_price"),
            maintenance_rate=_decimal(meta, "maintenance_rate"),
            requires_deployment=_bool(meta, "requires_deployment"),
            max_activations=_int(meta, "max_activations", None, minimum=1),
            max_years=_int(meta, "max_years", None, minimum=1),
        )
    if kind == "add_on":
        return AddOnTerms(
            code=_required(meta, "add_on"),
            kind=_enum(meta, "add_on_kind", AddOnKind, AddOnKind.QUANTITY),
            units=_int(meta, "add_on_units", 1, minimum=1) or 1,
            max_quantity=_int(meta, "add_on_max_quantity", 1000, minimum=1) or 1000,
            requires_deployment=_bool(meta, "requires_deployment"),
        )
    if kind == "plan":
        modes = _list(meta, "plan_modes") or ["prepaid", "postpaid"]
        try:
            parsed_modes = tuple(PaymentMode(mode) for mode in modes)
        except ValueError:
            raise CatalogError(
                f"{PREFIX}plan_modes lists prepaid and/or postpaid.", field=PREFIX + "plan_modes"
            ) from None
        return PlanTerms(
            plan=_required(meta, "plan"),
            period=_enum(meta, "plan_period", PlanPeriod, PlanPeriod.MONTHLY),
            modes=parsed_modes,
            instance_type=_enum(meta, "instance_type", InstanceType, InstanceType.CLOUD),
            included_users=_int(meta, "included_users", 0, minimum=0) or 0,
            per_user_price=_decimal(meta, "per_user_price"),
            user_cap=_int(meta, "user_cap", None, minimum=1),
            data_locations=tuple(_list(meta, "data_locations")),
            free_first_period=_bool(meta, "free_first_period"),
        )
    raise CatalogError(
        f"{PREFIX}kind must be 'edition', 'add_on' or 'plan'.", field=PREFIX + "kind"
    )


def _list(meta: Mapping[str, str], name: str) -> list[str]:
    return [part.strip() for part in str(meta.get(PREFIX + name) or "").split(",") if part.strip()]


def _required(meta: Mapping[str, str], name: str) -> str:
    value = (meta.get(PREFIX + name) or "").strip()
    if not value:
        raise CatalogError(f"{PREFIX}{name} is required.", field=PREFIX + name)
    return value


def _number[N: (int, Decimal)](
    meta: Mapping[str, str], name: str, parse: Callable[[str], N], what: str
) -> N | None:
    """The value of ``name`` read by ``parse``; None when absent or empty."""
    raw = meta.get(PREFIX + name)
    if raw is None or raw == "":
        return None
    try:
        return parse(str(raw).strip())
    except (ValueError, InvalidOperation):
        raise CatalogError(f"{PREFIX}{name} must be {what}.", field=PREFIX + name) from None


def _int(
    meta: Mapping[str, str], name: str, default: int | None, minimum: int | None = None
) -> int | None:
    value = _number(meta, name, int, "a whole number")
    if value is None:
        return default
    if minimum is not None and value < minimum:
        raise CatalogError(f"{PREFIX}{name} must be at least {minimum}.", field=PREFIX + name)
    return value


def _decimal(meta: Mapping[str, str], name: str) -> Decimal | None:
    value = _number(meta, name, Decimal, "a decimal number")
    if value is None:
        return None
    if not value.is_finite() or value < 0:
        raise CatalogError(f"{PREFIX}{name} must be zero or more.", field=PREFIX + name)
    return value


def _bool(meta: Mapping[str, str], name: str) -> bool:
    raw = str(meta.get(PREFIX + name, "false")).strip().lower()
    if raw in {"true", "1", "yes"}:
        return True
    if raw in {"false", "0", "no", ""}:
        return False
    raise CatalogError(f"{PREFIX}{name} must be true or false.", field=PREFIX + name)


def _enum[E: StrEnum](meta: Mapping[str, str], name: str, enum: type[E], default: E) -> E:
    raw = meta.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        return enum(str(raw).strip().lower())
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise CatalogError(
            f"{PREFIX}{name} must be one of: {allowed}.", field=PREFIX + name
        ) from None
