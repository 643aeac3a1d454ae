"""What a license may do next, and what each line costs.

:func:`quote_line` prices one checkout line (any line type) against the catalog and the license's
current state; the API's ``quoteLicenseAction``, ``checkoutLicenseLinesAdd`` and the completion
guard all call it, so a price is computed one way. :func:`offers_for` lists the allowed actions
with quotes, as ``verifyLicenseKey`` shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from saleor_license_plugin.conf import LicenseSettings, get_settings
from saleor_license_plugin.licensing import plan_changes
from saleor_license_plugin.licensing.catalog import AddOnTerms, EditionTerms, PlanTerms
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.lifecycle import ALLOWED_STATES, Action, ensure_allowed
from saleor_license_plugin.licensing.ports import Catalog, CatalogItem
from saleor_license_plugin.licensing.pricing import (
    LineAction,
    Quote,
    UpgradePolicy,
    YearBounds,
    ensure_service_not_active,
    perpetual_not_renewed,
    quote_expansion,
    quote_new,
    quote_renew_license,
    quote_renew_maintenance,
    quote_subscribe,
    quote_upgrade,
)
from saleor_license_plugin.models import License, Subscription

_SERVICE_ACTION = {
    LineAction.UPGRADE: Action.UPGRADED,
    LineAction.RENEW_LICENSE: Action.RENEWED,
    LineAction.RENEW_MAINTENANCE: Action.MAINTENANCE_RENEWED,
    LineAction.EXPANSION: Action.EXPANDED,
    LineAction.PLAN_UPGRADE: Action.UPGRADED,
}


@dataclass(frozen=True)
class LineRequest:
    action: LineAction
    variant_id: str | None = None  # edition (new, upgrade target) or add-on (expansion)
    license: License | None = None  # every action but NEW
    years: int = 1  # renewals
    quantity: int = 1  # new, expansion
    maintenance_years: int = 0  # new
    mode: str = "prepaid"  # subscribe: prepaid or postpaid


@dataclass(frozen=True)
class PricedLine:
    request: LineRequest
    item: CatalogItem  # what the line buys (the license's own edition for renewals)
    quote: Quote


@dataclass(frozen=True)
class Offers:
    upgrades: tuple[PricedLine, ...]
    renewal: PricedLine | None  # one year
    maintenance: PricedLine | None  # one year
    expansions: tuple[PricedLine, ...]  # one unit each

    @property
    def actions(self) -> tuple[LineAction, ...]:
        found = []
        if self.upgrades:
            found.append(LineAction.UPGRADE)
        if self.renewal:
            found.append(LineAction.RENEW_LICENSE)
        if self.maintenance:
            found.append(LineAction.RENEW_MAINTENANCE)
        if self.expansions:
            found.append(LineAction.EXPANSION)
        return tuple(found)


def _policy(conf: LicenseSettings) -> UpgradePolicy:
    return UpgradePolicy(conf.prorate_upgrades, conf.upgrade_floor_amount, conf.upgrade_floor_rate)


def _item(catalog: Catalog, variant_id: str | None, field: str = "variantId") -> CatalogItem:
    item = catalog.get(variant_id) if variant_id else None
    if item is None:
        raise LicenseError(
            LicenseErrorCode.NOT_A_LICENSE_PRODUCT, "Not a license product on sale.", field
        )
    return item


def _edition(item: CatalogItem) -> EditionTerms:
    if not isinstance(item.terms, EditionTerms):
        raise LicenseError(
            LicenseErrorCode.NOT_A_LICENSE_PRODUCT,
            "This product is not a license edition.",
            "variantId",
        )
    return item.terms


def current_item(catalog: Catalog, license: License) -> CatalogItem:
    """The catalog entry of the license's own edition (for its current price)."""
    item = catalog.get(license.product_code) if license.product_code else None
    if item is None or not isinstance(item.terms, EditionTerms):
        raise LicenseError(
            LicenseErrorCode.NOT_A_LICENSE_PRODUCT,
            "This license's edition is no longer sold; contact the seller.",
            "licenseKey",
        )
    return item


def quote_line(
    request: LineRequest, catalog: Catalog, now: datetime, conf: LicenseSettings | None = None
) -> PricedLine:
    """Price a line, or raise the LicenseError that says why it cannot be bought."""
    conf = conf or get_settings()
    bounds = YearBounds(conf.min_years, conf.max_years)
    if request.action is LineAction.SUBSCRIBE:
        item = _item(catalog, request.variant_id)
        if not isinstance(item.terms, PlanTerms):
            raise LicenseError(
                LicenseErrorCode.NOT_A_LICENSE_PRODUCT, "This product is not a plan.", "variantId"
            )
        quote = quote_subscribe(item.terms, item.price, request.mode)
        return PricedLine(request, item, quote)
    if request.action is LineAction.NEW:
        item = _item(catalog, request.variant_id)
        quote = quote_new(
            _edition(item), item.price, request.quantity, request.maintenance_years, bounds
        )
        return PricedLine(request, item, quote)

    license = request.license
    if license is None:
        raise LicenseError(
            LicenseErrorCode.REQUIRED, "This line needs a license key.", "licenseKey"
        )
    ensure_allowed(license, _SERVICE_ACTION[request.action])

    if request.action is LineAction.PLAN_UPGRADE:
        subscription = Subscription.objects.filter(license=license).first()
        if subscription is None:
            raise LicenseError(
                LicenseErrorCode.NOT_A_LICENSE_PRODUCT,
                "This key is not a subscription's.",
                "licenseKey",
            )
        target, quote = plan_changes.quote_upgrade(subscription, catalog, request.variant_id, now)
        return PricedLine(request, target, quote)
    if request.action is LineAction.UPGRADE:
        target = _item(catalog, request.variant_id)
        current = current_item(catalog, license)
        quote = quote_upgrade(
            current_rank=license.edition_rank,
            current_capacity=license.capacity,
            current_price=current.price,
            term_expires_at=license.term_expires_at,
            target=_edition(target),
            target_price=target.price,
            now=now,
            policy=_policy(conf),
        )
        return PricedLine(request, target, quote)
    if request.action is LineAction.RENEW_LICENSE:
        item = current_item(catalog, license)
        if license.term_expires_at is None:
            raise perpetual_not_renewed()
        return PricedLine(
            request, item, quote_renew_license(_edition(item), item.price, request.years, bounds)
        )
    if request.action is LineAction.RENEW_MAINTENANCE:
        item = current_item(catalog, license)
        quote = quote_renew_maintenance(_edition(item), item.price, request.years, bounds)
        return PricedLine(request, item, quote)
    # expansion
    item = _item(catalog, request.variant_id)
    if not isinstance(item.terms, AddOnTerms):
        raise LicenseError(
            LicenseErrorCode.NOT_A_LICENSE_PRODUCT, "This product is not an add-on.", "variantId"
        )
    ensure_service_not_active(item.terms, license.add_ons.get(item.terms.code))
    quote = quote_expansion(item.terms, item.price, request.quantity, license.term_expires_at, now)
    return PricedLine(request, item, quote)


def _is_upgrade(license: License, target: EditionTerms) -> bool:
    """The same test as pricing.check_upgrade_path, without raising."""
    if target.rank < license.edition_rank or target.capacity < license.capacity:
        return False
    return (target.rank, target.capacity) != (license.edition_rank, license.capacity)


def offers_for(
    license: License, catalog: Catalog, now: datetime, conf: LicenseSettings | None = None
) -> Offers:
    """Every action the license allows now, each with its quote (one year, one unit)."""
    conf = conf or get_settings()

    def attempt(request: LineRequest) -> PricedLine | None:
        try:
            return quote_line(request, catalog, now, conf)
        except LicenseError:
            return None

    upgrades: list[PricedLine] = []
    expansions: list[PricedLine] = []
    if license.status in ALLOWED_STATES[Action.UPGRADED]:
        for item in catalog.items():
            if not isinstance(item.terms, EditionTerms) or not _is_upgrade(license, item.terms):
                continue  # (quote_line would refuse it; skipping is just cheaper than raising)
            request = LineRequest(LineAction.UPGRADE, item.variant_id, license)
            if priced := attempt(request):
                upgrades.append(priced)
    if license.status in ALLOWED_STATES[Action.EXPANDED]:
        for item in catalog.items():
            request = LineRequest(LineAction.EXPANSION, item.variant_id, license)
            if not item.is_edition and (priced := attempt(request)):
                expansions.append(priced)
    upgrades.sort(key=lambda p: (p.quote.total.amount, p.item.name))
    return Offers(
        upgrades=tuple(upgrades),
        renewal=attempt(LineRequest(LineAction.RENEW_LICENSE, None, license, years=1)),
        maintenance=attempt(LineRequest(LineAction.RENEW_MAINTENANCE, None, license, years=1)),
        expansions=tuple(expansions),
    )
