"""Object types: licenses, deployments, quotes, verification, statistics."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import graphene
from graphene import relay

from saleor_license_plugin.graphql.core import CountableConnection, Money, context
from saleor_license_plugin.graphql.loaders import LastRenewalAttemptLoader, load
from saleor_license_plugin.licensing import partners
from saleor_license_plugin.licensing.offers import PricedLine
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import (
    Activation,
    Deployment,
    EndCustomer,
    License,
    LicenseEvent,
    LicenseKind,
    LicenseStatus,
    Partner,
)


class LicenseStatusEnum(graphene.Enum):
    class Meta:
        enum = LicenseStatus
        name = "LicenseStatus"
        description = "Where a license stands."


class LicenseKindEnum(graphene.Enum):
    class Meta:
        enum = LicenseKind
        name = "LicenseKind"
        description = "STANDARD, NOT_FOR_RESALE or TRIAL."


# What a storefront may ask for: every line action but the plugin's own subscription bills.
StorefrontLineAction = StrEnum(  # type: ignore[misc]
    "StorefrontLineAction",
    {a.name: a.value for a in LineAction if a is not LineAction.SUBSCRIPTION_BILL},
)


class LicenseActionEnum(graphene.Enum):
    class Meta:
        enum = StorefrontLineAction
        name = "LicenseAction"
        description = "What a checkout line does to a license."


class PartnerType(graphene.ObjectType):
    user_id = graphene.String(required=True)
    email = graphene.String()
    company = graphene.String()
    level = graphene.String(description="The merchant's code for its pricing, e.g. gold.")
    active = graphene.Boolean(required=True)
    trial_quota = graphene.Int(required=True, description="Open trials allowed (own or level's).")
    nfr_quota = graphene.Int(required=True, description="NFR licenses allowed (own or level's).")
    trials_open = graphene.Int(required=True)
    nfr_in_use = graphene.Int(required=True)
    customer_count = graphene.Int(required=True)
    created_at = graphene.DateTime(required=True)

    class Meta:
        name = "Partner"
        description = "A reseller the merchant works with: it manages its end customers."

    @staticmethod
    def resolve_trial_quota(root: Partner, info: Any) -> int:
        return partners.quota_of(root).trials

    @staticmethod
    def resolve_nfr_quota(root: Partner, info: Any) -> int:
        return partners.quota_of(root).nfr

    @staticmethod
    def resolve_trials_open(root: Partner, info: Any) -> int:
        return partners.open_trials(root, context(info).now).count()

    @staticmethod
    def resolve_nfr_in_use(root: Partner, info: Any) -> int:
        return partners.nfr_in_use(root).count()

    @staticmethod
    def resolve_customer_count(root: Partner, info: Any) -> int:
        return root.customers.count()


class EndCustomerType(graphene.ObjectType):
    public_id = graphene.String(required=True, description="The id to name it by, C-7KQ2MXW9.")
    company = graphene.String(required=True)
    contact_name = graphene.String()
    email = graphene.String()
    phone = graphene.String()
    domain = graphene.String()
    notes = graphene.String()
    account_linked = graphene.Boolean(
        required=True, description="The customer signs in and sees its own licenses."
    )
    user_id = graphene.String(description="Staff only: the linked account.")
    partner_user_id = graphene.String(required=True)
    license_count = graphene.Int(required=True)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)

    class Meta:
        name = "EndCustomer"
        interfaces = (relay.Node,)
        description = (
            "A partner's customer: licenses bought for it are its own, managed by the partner."
        )

    @staticmethod
    def resolve_account_linked(root: EndCustomer, info: Any) -> bool:
        return bool(root.user_id)

    @staticmethod
    def resolve_user_id(root: EndCustomer, info: Any) -> str | None:
        return (root.user_id or None) if context(info).principal.is_staff else None

    @staticmethod
    def resolve_partner_user_id(root: EndCustomer, info: Any) -> str:
        return root.partner.user_id

    @staticmethod
    def resolve_license_count(root: EndCustomer, info: Any) -> int:
        annotated = getattr(root, "license_count", None)
        return int(annotated) if annotated is not None else root.licenses.count()


def _customer(root: License | Deployment, info: Any) -> EndCustomer | None:
    """The end customer record, for its partner and staff only: the customer itself, seeing
    its own license, does not read the partner's notes about it."""
    if root.customer_id is None:
        return None
    principal = context(info).principal
    if not (principal.is_staff or root.reseller_id == principal.user_id):
        return None
    return root.customer


class DeploymentType(graphene.ObjectType):
    public_id = graphene.String(required=True, description="The id people type, e.g. D-7KQ2MXW9.")
    name = graphene.String(required=True)
    owner_id = graphene.String(required=True)
    partner_id = graphene.String(description="The partner managing it for the owner, if any.")
    reseller_id = graphene.String(deprecation_reason="Use partnerId.")
    customer = graphene.Field(EndCustomerType, description="The partner's end customer it is for.")
    created_at = graphene.DateTime(required=True)

    class Meta:
        name = "Deployment"
        interfaces = (relay.Node,)
        description = "A place a license runs: a PBX, a server, a cloud tenant."

    @staticmethod
    def resolve_partner_id(root: Deployment, info: Any) -> str | None:
        return root.reseller_id or None

    @staticmethod
    def resolve_reseller_id(root: Deployment, info: Any) -> str | None:
        return root.reseller_id or None

    @staticmethod
    def resolve_customer(root: Deployment, info: Any) -> EndCustomer | None:
        return _customer(root, info)


class LicenseAddOn(graphene.ObjectType):
    code = graphene.String(required=True, description="The add-on, e.g. extensions.")
    kind = graphene.String(required=True, description="quantity or flat.")
    quantity = graphene.Int(required=True, description="Capacity units added (1 for services).")
    expires_at = graphene.DateTime(description="Co-termed expiry; null for perpetual licenses.")


def add_ons(license: License) -> list[LicenseAddOn]:
    found = []
    for code, value in sorted((license.add_ons or {}).items()):
        value = value if isinstance(value, dict) else {}
        expires = value.get("expires_at") or value.get("expires")
        found.append(
            LicenseAddOn(
                code=code,
                kind=str(value.get("kind", "quantity")),
                quantity=int(value.get("quantity", 1)),
                expires_at=graphene.DateTime.parse_value(expires) if expires else None,
            )
        )
    return found


class LicenseEndCustomer(graphene.ObjectType):
    company = graphene.String()
    name = graphene.String()
    email = graphene.String()
    phone = graphene.String()

    class Meta:
        name = "LicenseEndCustomer"
        description = (
            "Who a partner bought the license for: its end customer record, or what checkout "
            "metadata license.end_customer_* named."
        )


class LicenseEventType(graphene.ObjectType):
    action = graphene.String(
        required=True, description="issued, suspended, extended, key_revealed, activated, ..."
    )
    actor = graphene.String(
        required=True, description="Who: user:<id>, order:<id>, device, system."
    )
    note = graphene.String(description="The reason given, or what happened.")
    before = graphene.JSONString(description="The license before the change (null: no change).")
    after = graphene.JSONString(description="The license after the change.")
    order_id = graphene.String(description="The order whose line made the change.")
    created_at = graphene.DateTime(required=True)

    class Meta:
        name = "LicenseEvent"
        interfaces = (relay.Node,)
        description = "One entry of a license's append-only history (staff)."

    @staticmethod
    def resolve_note(root: LicenseEvent, info: Any) -> str | None:
        return root.note or None

    @staticmethod
    def resolve_order_id(root: LicenseEvent, info: Any) -> str | None:
        return root.order_id or None


class LicenseActivationType(graphene.ObjectType):
    device = graphene.String(
        required=True, description="The device's fingerprint hash (as in its entitlement)."
    )
    first_seen_at = graphene.DateTime(required=True)
    last_seen_at = graphene.DateTime(required=True)
    deactivated_at = graphene.DateTime(description="Null while the device holds a seat.")

    class Meta:
        name = "LicenseActivation"
        interfaces = (relay.Node,)
        description = "A device seat of a license."

    @staticmethod
    def resolve_device(root: Activation, info: Any) -> str:
        return root.fingerprint


class LicenseType(graphene.ObjectType):
    key = graphene.String(
        description="The full key, grouped; only for the owner, their partner and staff."
    )
    key_hint = graphene.String(required=True, description="The last group of the key.")
    kind = graphene.Field(LicenseKindEnum, required=True)
    status = graphene.Field(LicenseStatusEnum, required=True)
    variant_id = graphene.String(description="The catalog variant of the license's edition.")
    edition = graphene.String(required=True)
    edition_rank = graphene.Int(required=True)
    capacity = graphene.Int(required=True)
    capacity_unit = graphene.String(required=True)
    add_ons = graphene.List(graphene.NonNull(LicenseAddOn), required=True)
    auto_renew = graphene.Boolean(
        required=True, description="Renewed automatically before it expires (saved card)."
    )
    next_renewal_at = graphene.DateTime(
        description="With auto-renew: when the next automatic renewal is attempted."
    )
    last_renewal_attempt = graphene.Field(
        lambda: RenewalAttemptType, description="The last automatic renewal attempt."
    )
    is_perpetual = graphene.Boolean(required=True)
    term_expires_at = graphene.DateTime(description="Null for perpetual licenses.")
    maintenance_expires_at = graphene.DateTime()
    max_activations = graphene.Int(required=True)
    activation_count = graphene.Int(required=True, description="Devices active now.")
    revision = graphene.Int(required=True)
    deployment = graphene.Field(DeploymentType)
    owner_id = graphene.String(required=True)
    owner_email = graphene.String()
    partner_id = graphene.String(description="The partner managing it for the owner, if any.")
    reseller_id = graphene.String(deprecation_reason="Use partnerId.")
    customer = graphene.Field(EndCustomerType, description="The partner's end customer it is for.")
    order_id = graphene.String(description="The order the license was issued for, if any.")
    end_customer = graphene.Field(LicenseEndCustomer)
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)
    activations = graphene.List(
        graphene.NonNull(LicenseActivationType),
        include_inactive=graphene.Boolean(default_value=False),
        description="Device seats, oldest first; freed ones too with includeInactive.",
    )
    events = graphene.List(
        graphene.NonNull(LicenseEventType),
        description="The license's history, oldest first (staff; null for others).",
    )
    order_ids = graphene.List(
        graphene.NonNull(graphene.String),
        description="Every order that touched the license, first the one that issued it "
        "(staff; null for others).",
    )

    class Meta:
        name = "License"
        interfaces = (relay.Node,)
        description = "A software license."

    @staticmethod
    def resolve_next_renewal_at(root: License, info: Any) -> Any:
        from datetime import timedelta

        from saleor_license_plugin.conf import get_settings

        expiry = root.term_expires_at or root.maintenance_expires_at
        if not root.auto_renew or expiry is None:
            return None
        return expiry - timedelta(days=get_settings().auto_renew_lead_days)

    @staticmethod
    def resolve_last_renewal_attempt(root: License, info: Any) -> Any:
        return load(context(info), LastRenewalAttemptLoader, root.pk)

    @staticmethod
    def resolve_end_customer(root: License, info: Any) -> LicenseEndCustomer | None:
        customer = root.customer if root.customer_id is not None else None
        data = customer.as_end_customer() if customer is not None else (root.end_customer or {})
        if not data:
            return None
        return LicenseEndCustomer(**{k: data.get(k) for k in ("company", "name", "email", "phone")})

    @staticmethod
    def resolve_key(root: License, info: Any) -> str | None:
        return root.display_key() if context(info).principal.can_see(root) else None

    @staticmethod
    def resolve_variant_id(root: License, info: Any) -> str | None:
        return root.product_code or None

    @staticmethod
    def resolve_add_ons(root: License, info: Any) -> list[LicenseAddOn]:
        return add_ons(root)

    @staticmethod
    def resolve_is_perpetual(root: License, info: Any) -> bool:
        return root.is_perpetual

    @staticmethod
    def resolve_activation_count(root: License, info: Any) -> int:
        annotated = getattr(root, "live_activations", None)
        if annotated is not None:
            return int(annotated)
        return root.activations.filter(deactivated_at__isnull=True).count()

    @staticmethod
    def resolve_owner_email(root: License, info: Any) -> str | None:
        return root.owner_email or None

    @staticmethod
    def resolve_partner_id(root: License, info: Any) -> str | None:
        return root.reseller_id or None

    @staticmethod
    def resolve_reseller_id(root: License, info: Any) -> str | None:
        return root.reseller_id or None

    @staticmethod
    def resolve_customer(root: License, info: Any) -> EndCustomer | None:
        return _customer(root, info)

    @staticmethod
    def resolve_order_id(root: License, info: Any) -> str | None:
        return root.origin_order_id or None

    @staticmethod
    def resolve_activations(
        root: License, info: Any, include_inactive: bool = False
    ) -> list[Activation]:
        rows = root.activations.order_by("first_seen_at", "pk")
        if not include_inactive:
            rows = rows.filter(deactivated_at__isnull=True)
        return list(rows[:500])

    @staticmethod
    def resolve_events(root: License, info: Any) -> list[LicenseEvent] | None:
        if not context(info).principal.is_staff:
            return None
        return list(root.events.order_by("created_at", "pk")[:1000])

    @staticmethod
    def resolve_order_ids(root: License, info: Any) -> list[str] | None:
        if not context(info).principal.is_staff:
            return None
        found = [root.origin_order_id] if root.origin_order_id else []
        events = root.events.exclude(order_id="").order_by("created_at", "pk")
        for order_id in events.values_list("order_id", flat=True):
            if order_id not in found:
                found.append(order_id)
        return found


class LicenseCountableConnection(CountableConnection):
    class Meta:
        node = LicenseType


class DeploymentCountableConnection(CountableConnection):
    class Meta:
        node = DeploymentType


class LicenseQuoteLine(graphene.ObjectType):
    description = graphene.String(required=True)
    amount = graphene.Field(Money, required=True)


class LicenseQuote(graphene.ObjectType):
    """Resolved straight from a :class:`~saleor_license_plugin.offers.PricedLine`: a portal
    asks for a few fields of many quotes, so nothing is built for the fields it leaves out."""

    action = graphene.Field(LicenseActionEnum, required=True)
    variant_id = graphene.String(required=True, description="What the checkout line buys.")
    name = graphene.String(required=True)
    edition = graphene.String(description="Target edition (new licenses, upgrades, renewals).")
    capacity = graphene.Int(description="Target capacity (new licenses, upgrades, renewals).")
    add_on = graphene.String(description="The add-on code (expansions).")
    years = graphene.Int(description="Years renewed (renewals).")
    quantity = graphene.Int(required=True)
    unit_price = graphene.Field(Money, required=True)
    total = graphene.Field(Money, required=True)
    breakdown = graphene.List(graphene.NonNull(LicenseQuoteLine), required=True)

    class Meta:
        description = "The price of one checkout line, as checkout will charge it."

    @staticmethod
    def resolve_action(root: PricedLine, info: Any) -> str:
        return root.request.action.value

    @staticmethod
    def resolve_variant_id(root: PricedLine, info: Any) -> str:
        return root.item.variant_id

    @staticmethod
    def resolve_name(root: PricedLine, info: Any) -> str:
        return root.item.name

    @staticmethod
    def resolve_edition(root: PricedLine, info: Any) -> str | None:
        return getattr(root.item.terms, "edition", None)

    @staticmethod
    def resolve_capacity(root: PricedLine, info: Any) -> int | None:
        return getattr(root.item.terms, "capacity", None)

    @staticmethod
    def resolve_add_on(root: PricedLine, info: Any) -> str | None:
        return getattr(root.item.terms, "code", None)

    @staticmethod
    def resolve_years(root: PricedLine, info: Any) -> int | None:
        renewal = root.request.action in (LineAction.RENEW_LICENSE, LineAction.RENEW_MAINTENANCE)
        return root.request.years if renewal else None

    @staticmethod
    def resolve_quantity(root: PricedLine, info: Any) -> int:
        return root.quote.quantity

    @staticmethod
    def resolve_unit_price(root: PricedLine, info: Any) -> Any:
        return root.quote.unit_price

    @staticmethod
    def resolve_total(root: PricedLine, info: Any) -> Any:
        return root.quote.total

    @staticmethod
    def resolve_breakdown(root: PricedLine, info: Any) -> Any:
        return root.quote.breakdown  # QuoteLine(description, amount): LicenseQuoteLine's shape


def quote_value(priced: PricedLine) -> PricedLine:
    """What a ``LicenseQuote`` field returns: the priced line itself."""
    return priced


class LicenseVerification(graphene.ObjectType):
    minimal = graphene.Boolean(
        required=True,
        description="True when the caller may see status and expiries only (anonymous callers "
        'with ANONYMOUS_VERIFICATION "minimal").',
    )
    status = graphene.Field(LicenseStatusEnum, required=True)
    is_perpetual = graphene.Boolean(required=True)
    term_expires_at = graphene.DateTime()
    maintenance_expires_at = graphene.DateTime()
    license = graphene.Field(LicenseType, description="Null when minimal.")
    edition = graphene.String()
    capacity = graphene.Int()
    capacity_unit = graphene.String()
    add_ons = graphene.List(graphene.NonNull(LicenseAddOn))
    deployment = graphene.Field(DeploymentType)
    deployment_matches = graphene.Boolean(
        description="Whether the license may run on the deployment named in the request "
        "(bound to it, or unbound); null when none was named."
    )
    actions = graphene.List(graphene.NonNull(LicenseActionEnum), required=True)
    upgrades = graphene.List(graphene.NonNull(LicenseQuote), required=True)
    renewal = graphene.Field(LicenseQuote, description="One year of term renewal.")
    maintenance = graphene.Field(LicenseQuote, description="One year of maintenance.")
    expansions = graphene.List(graphene.NonNull(LicenseQuote), required=True)


class LicenseStatusCount(graphene.ObjectType):
    status = graphene.Field(LicenseStatusEnum, required=True)
    count = graphene.Int(required=True)


class LicenseStatistics(graphene.ObjectType):
    total = graphene.Int(required=True)
    by_status = graphene.List(graphene.NonNull(LicenseStatusCount), required=True)
    expiring_within_30_days = graphene.Int(
        required=True, description="Active licenses whose term or maintenance ends within 30 days."
    )
    expiring_within_60_days = graphene.Int(required=True)
    expiring_within_90_days = graphene.Int(required=True)
    issued_this_month = graphene.Int(required=True)
    trials_open = graphene.Int(required=True, description="Active trials not yet expired.")

    class Meta:
        description = "Counts for a portal dashboard, over the licenses the caller may see."


class LicensingPublicKey(graphene.ObjectType):
    kid = graphene.String(required=True, description="Key id, as in entitlement documents.")
    algorithm = graphene.String(required=True)
    public_key = graphene.String(required=True, description="Raw public key, base64url.")


class EntitlementType(graphene.ObjectType):
    document = graphene.JSONString(
        required=True, description="The signed document a device stores (JSON)."
    )
    kid = graphene.String(required=True)
    device = graphene.String(
        required=True, description="The fingerprint hash the document is bound to."
    )
    revision = graphene.Int(required=True)
    filename = graphene.String(required=True, description="A file name for offline activation.")

    class Meta:
        name = "Entitlement"


class RenewalAttemptType(graphene.ObjectType):
    at = graphene.DateTime(required=True)
    status = graphene.String(
        required=True, description="paid, scheduled (a retry), action_required, failed, charging"
    )
    attempts = graphene.Int(required=True)
    order_id = graphene.String()

    class Meta:
        name = "LicenseRenewalAttempt"

    @staticmethod
    def resolve_at(root: Any, info: Any) -> Any:
        return root.updated_at

    @staticmethod
    def resolve_order_id(root: Any, info: Any) -> Any:
        return root.order_id or None
