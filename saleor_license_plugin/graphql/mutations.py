"""Root mutation fields: verification and quotes, staff actions, deployments, activation."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import graphene
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.fulfillment import notify
from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.graphql.core import (
    BaseMutation,
    customer_by_public_id,
    deployment_by_public_id,
    fresh_license,
    from_global_id,
    license_edition,
    managed_customer,
    permission_denied,
    require_staff,
    require_user,
    text,
)
from saleor_license_plugin.graphql.types import (
    DeploymentType,
    EntitlementType,
    LicenseActionEnum,
    LicenseKindEnum,
    LicenseQuote,
    LicenseType,
    LicenseVerification,
    add_ons,
    quote_value,
)
from saleor_license_plugin.licensing import access, activation, lifecycle, partners
from saleor_license_plugin.licensing.catalog import EditionTerms
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.keys import format_key
from saleor_license_plugin.licensing.lookup import license_by_key, not_found, visible_license
from saleor_license_plugin.licensing.offers import LineRequest, offers_for, quote_line
from saleor_license_plugin.licensing.pricing import LineAction, YearBounds, check_years
from saleor_license_plugin.models import (
    CUSTOMER_OWNER_PREFIX,
    License,
    LicenseKind,
    Partner,
)

MAX_TRIAL_DAYS = 365


# --- verification and quotes ---------------------------------------------------------------


def _standing(license: License) -> dict[str, Any]:
    """What every verification shows, the minimal one included."""
    return {
        "status": license.status,
        "is_perpetual": license.is_perpetual,
        "term_expires_at": license.term_expires_at,
        "maintenance_expires_at": license.maintenance_expires_at,
    }


def minimal_verification(license: License) -> LicenseVerification:
    return LicenseVerification(
        minimal=True, **_standing(license), actions=[], upgrades=[], expansions=[]
    )


class VerifyLicenseKey(BaseMutation):
    verification = graphene.Field(LicenseVerification)

    class Arguments:
        key = graphene.String(required=True, description="The license key, as typed.")
        deployment_id = graphene.String(description="The deployment the key is meant for.")

    class Meta:
        description = (
            "What a key is, and what its owner may buy for it next (upgrades with prices, "
            "renewal and maintenance per year, expansions)."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, key: Any = None, deployment_id: Any = None) -> Any:
        anonymous = not ctx.principal.is_authenticated
        mode = get_settings().anonymous_verification
        if anonymous and mode != "minimal":
            raise permission_denied("Sign in to verify a license key.")
        _, license = license_by_key(key, action="verify", client_ip=ctx.client_ip)
        if license is None:
            raise not_found()
        if not ctx.principal.can_see(license):
            if mode == "minimal":
                return cls.success(verification=minimal_verification(license))
            raise not_found()
        matches = None
        if deployment_id is not None:
            deployment = deployment_by_public_id(ctx, deployment_id)
            matches = license.deployment_id in (None, deployment.pk)
        offers = offers_for(license, ctx.catalog, ctx.now)
        return cls.success(
            verification=LicenseVerification(
                minimal=False,
                **_standing(license),
                license=license,
                edition=license.edition,
                capacity=license.capacity,
                capacity_unit=license.capacity_unit,
                add_ons=add_ons(license),
                deployment=license.deployment,
                deployment_matches=matches,
                actions=[action.value for action in offers.actions],
                upgrades=[quote_value(p) for p in offers.upgrades],
                renewal=quote_value(offers.renewal) if offers.renewal else None,
                maintenance=quote_value(offers.maintenance) if offers.maintenance else None,
                expansions=[quote_value(p) for p in offers.expansions],
            )
        )


class QuoteLicenseActionInput(graphene.InputObjectType):
    action = LicenseActionEnum(required=True)
    license_key = graphene.String(description="Required for every action but NEW.")
    variant_id = graphene.String(description="Edition (NEW, UPGRADE) or add-on (EXPANSION).")
    years = graphene.Int(description="Renewals: years, default 1.")
    quantity = graphene.Int(description="NEW and EXPANSION: units, default 1.")
    maintenance_years = graphene.Int(description="NEW: maintenance years, default 0.")


class QuoteLicenseAction(BaseMutation):
    quote = graphene.Field(LicenseQuote)

    class Arguments:
        input = QuoteLicenseActionInput(required=True)

    class Meta:
        description = "Price one checkout line exactly as checkout will."

    @classmethod
    def perform(cls, ctx: ApiContext, input: Any = None) -> Any:
        data = dict(input or {})
        action = LineAction(data["action"])
        license = None
        if action is not LineAction.NEW:
            require_user(ctx)
            license = visible_license(
                data.get("license_key"),
                ctx.principal,
                action="verify",
                client_ip=ctx.client_ip,
                field="licenseKey",
            )
        variant_id = data.get("variant_id")
        request = LineRequest(
            action=action,
            variant_id=text(variant_id, "variantId", maximum=200) or None,
            license=license,
            years=_int(data, "years", 1),
            quantity=_int(data, "quantity", 1),
            maintenance_years=_int(data, "maintenance_years", 0),
        )
        return cls.success(quote=quote_value(quote_line(request, ctx.catalog, ctx.now)))


def _int(data: dict[str, Any], name: str, default: int) -> int:
    value = data.get(name)
    return default if value is None else int(value)


# --- staff ---------------------------------------------------------------------------------


class IssueLicenseInput(graphene.InputObjectType):
    variant_id = graphene.String(required=True, description="A license edition in the catalog.")
    owner_id = graphene.String(description="The customer's user id (or give customerId).")
    owner_email = graphene.String()
    partner_id = graphene.String(description="A partner's user id: it manages the license.")
    reseller_id = graphene.String(deprecation_reason="Use partnerId.")
    customer_id = graphene.String(
        description="A partner's end customer (C-…): the license is the customer's, managed by "
        "its partner (instead of ownerId and partnerId)."
    )
    kind = LicenseKindEnum(description="STANDARD (default), NFR or TRIAL.")
    years = graphene.Int(description="Term years of annual editions (default 1).")
    trial_days = graphene.Int(description="TRIAL: days until the term ends (default 30).")
    maintenance_years = graphene.Int()
    deployment_id = graphene.String(description="Bind to this deployment of the owner.")
    order_id = graphene.String(description="With orderLineId: the order line this fulfils.")
    order_line_id = graphene.String()
    idempotency_key = graphene.String(
        description="Issuing again with the same key and input returns the first license "
        "(without key); with another input, IDEMPOTENCY_CONFLICT."
    )
    note = graphene.String()


def _request_digest(data: dict[str, Any]) -> str:
    """What an idempotency key promises: the same request. Canonical JSON of the input
    without the key itself (enums by value, absent and null alike)."""
    request = {
        name: getattr(value, "value", value)
        for name, value in sorted(data.items())
        if name != "idempotency_key" and value is not None
    }
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IssueLicense(BaseMutation):
    license = graphene.Field(LicenseType)
    key = graphene.String(description="The full key, only in the response that created it.")
    created = graphene.Boolean()

    class Arguments:
        input = IssueLicenseInput(required=True)

    class Meta:
        description = (
            "Issue a license by hand: manual, not-for-resale, trial, or for an order line."
        )

    staff_only = True

    @classmethod
    def perform(cls, ctx: ApiContext, input: Any = None) -> Any:
        data = dict(input or {})
        item = license_edition(ctx, data.get("variant_id"))
        assert isinstance(item.terms, EditionTerms)
        owner = _issue_owner(ctx, data)
        order_id = text(data.get("order_id"), "orderId", maximum=128)
        line_id = text(data.get("order_line_id"), "orderLineId", maximum=128)
        if bool(order_id) != bool(line_id):
            raise LicenseError(
                LicenseErrorCode.REQUIRED, "Give both orderId and orderLineId.", "orderLineId"
            )
        trial_days = data.get("trial_days")
        if trial_days is not None and not 1 <= trial_days <= MAX_TRIAL_DAYS:
            raise LicenseError(
                LicenseErrorCode.INVALID,
                f"trialDays must be between 1 and {MAX_TRIAL_DAYS}.",
                "trialDays",
            )
        deployment = None
        if data.get("deployment_id") is not None:
            deployment = deployment_by_public_id(ctx, data["deployment_id"])
        idempotency_key = text(data.get("idempotency_key"), "idempotencyKey", maximum=200)
        if data.get("years") is not None:  # only annual editions use it; bounded for all
            conf = get_settings()
            check_years(data["years"], YearBounds(conf.min_years, conf.max_years))
        issued = lifecycle.issue_license(
            terms=item.terms,
            owner=owner,
            product_code=item.variant_id,
            order_line=lifecycle.OrderLineRef(order_id, line_id) if order_id else None,
            maintenance_years=_int(data, "maintenance_years", 0),
            term_years=_int(data, "years", 1),
            deployment=deployment,
            kind=data.get("kind") or LicenseKind.STANDARD,
            trial_days=trial_days,
            currency=item.price.currency,
            idempotency_key=f"manual:{idempotency_key}" if idempotency_key else None,
            request_digest=_request_digest(data) if idempotency_key else "",
            note=text(data.get("note"), "note"),
            actor=ctx.actor,
            now=ctx.now,
        )
        return cls.success(
            license=fresh_license(issued.license.pk),
            key=format_key(issued.key) if issued.key else None,
            created=issued.created,
        )


def _issue_owner(ctx: ApiContext, data: dict[str, Any]) -> lifecycle.Owner:
    """Whose license staff issue: an end customer's (managed by its partner), or a user's,
    managed by a partner if one is named."""
    if data.get("customer_id") is not None:
        if data.get("owner_id") is not None or data.get("partner_id") or data.get("reseller_id"):
            raise LicenseError(
                LicenseErrorCode.INVALID,
                "Give customerId, or ownerId (and partnerId), not both.",
                "customerId",
            )
        return partners.owner_for(customer_by_public_id(ctx, data["customer_id"]))
    owner_id = text(data.get("owner_id"), "ownerId", maximum=128, required=True)
    if owner_id.startswith(CUSTOMER_OWNER_PREFIX):
        raise LicenseError(
            LicenseErrorCode.INVALID, "Name an end customer with customerId.", "ownerId"
        )
    email = text(data.get("owner_email"), "ownerEmail", maximum=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise LicenseError(
                LicenseErrorCode.INVALID, "Not an e-mail address.", "ownerEmail"
            ) from None
    field = "partnerId" if data.get("partner_id") else "resellerId"
    partner_id = text(data.get("partner_id") or data.get("reseller_id"), field, maximum=128)
    if partner_id and not Partner.objects.filter(user_id=partner_id).exists():
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such partner.", field)
    return lifecycle.Owner(owner_id, email, partner_id)


class LicenseChangeArguments:
    id = graphene.ID(required=True, description="The license's global id.")
    reason = graphene.String(description="Recorded in the license's history.")


def _license_change(name: str, change: Any) -> type[BaseMutation]:
    """A staff mutation that applies one lifecycle change to a license, with a reason."""

    def perform(cls: Any, ctx: ApiContext, id: Any = None, reason: Any = None) -> Any:
        pk = _license_pk(id)
        license = change(pk, reason=text(reason, "reason"), actor=ctx.actor, now=ctx.now)
        return cls.success(license=license)

    attributes = {
        "license": graphene.Field(LicenseType),
        "Arguments": type("Arguments", (LicenseChangeArguments,), {}),
        "staff_only": True,
        "perform": classmethod(perform),
        "__module__": __name__,
    }
    return type(name, (BaseMutation,), attributes)


def _license_pk(id: Any) -> int:
    pk = from_global_id(id, "License")
    if not License.objects.filter(pk=pk).exists():
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "License not found.", "id")
    return pk


class ExtendLicense(BaseMutation):
    license = graphene.Field(LicenseType)

    class Arguments:
        id = graphene.ID(required=True, description="The license's global id.")
        term_days = graphene.Int(description="Days added to the term (annual licenses).")
        maintenance_days = graphene.Int(description="Days added to maintenance.")
        reason = graphene.String(required=True, description="Recorded in the history.")

    class Meta:
        description = (
            "Staff: push the term and/or maintenance expiry out by some days, from the expiry "
            "or from now if it lapsed (an expired license becomes active)."
        )

    staff_only = True

    @classmethod
    def perform(
        cls,
        ctx: ApiContext,
        id: Any = None,
        term_days: Any = None,
        maintenance_days: Any = None,
        reason: Any = None,
    ) -> Any:
        pk = _license_pk(id)
        license = lifecycle.extend_license(
            pk,
            term_days=term_days or 0,
            maintenance_days=maintenance_days or 0,
            reason=text(reason, "reason", required=True),
            actor=ctx.actor,
            now=ctx.now,
        )
        return cls.success(license=license)


class LicenseKeyReveal(BaseMutation):
    key = graphene.String(description="The full key, grouped.")

    class Arguments:
        id = graphene.ID(required=True, description="The license's global id.")

    class Meta:
        description = "Staff: show a license's full key; recorded as a key_revealed event."

    staff_only = True

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None) -> Any:
        return cls.success(key=lifecycle.reveal_key(_license_pk(id), actor=ctx.actor, now=ctx.now))


class LicenseActivationsReset(BaseMutation):
    license = graphene.Field(LicenseType)
    freed = graphene.Int(description="How many seats were freed.")

    class Arguments:
        id = graphene.ID(required=True, description="The license's global id.")
        activation_id = graphene.ID(description="Free this seat only; all seats without it.")
        reason = graphene.String(description="Recorded in the history.")

    class Meta:
        description = (
            "Staff: free one or all device seats of a license (not bound by the key holder's "
            "deactivation limit); recorded as an activations_reset event."
        )

    staff_only = True

    @classmethod
    def perform(
        cls, ctx: ApiContext, id: Any = None, activation_id: Any = None, reason: Any = None
    ) -> Any:
        pk = _license_pk(id)
        ids = None
        if activation_id is not None:
            ids = [from_global_id(activation_id, "LicenseActivation", "activationId")]
        _, freed = activation.reset_activations(
            pk, activation_ids=ids, reason=text(reason, "reason"), actor=ctx.actor, now=ctx.now
        )
        return cls.success(license=fresh_license(pk), freed=freed)


class LicenseKeysResend(BaseMutation):
    recipient = graphene.String(description="The address the key went to.")

    class Arguments:
        id = graphene.ID(required=True, description="The license's global id.")

    class Meta:
        description = (
            "Staff: e-mail the license's key to its owner again (through the outbox); "
            "recorded as a keys_resent event. EMAIL_FAILED if the mail could not be sent."
        )

    staff_only = True

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None) -> Any:
        license = fresh_license(_license_pk(id))
        return cls.success(
            recipient=notify.resend_license_key(license, actor=ctx.actor, now=ctx.now)
        )


class LicenseEntitlementIssue(BaseMutation):
    filename = graphene.String()
    content = graphene.String(description="The entitlement document, as a JSON string.")

    class Arguments:
        id = graphene.ID(required=True, description="The license's global id.")
        fingerprint = graphene.String(required=True, description="The device's fingerprint.")

    class Meta:
        description = (
            "Staff: the offline entitlement file for a device, by license id (takes or "
            "refreshes the device's seat, as licenseEntitlementFile does for key holders)."
        )

    staff_only = True

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, fingerprint: Any = None) -> Any:
        license = fresh_license(_license_pk(id))
        granted = activation.activate(license, fingerprint, actor=ctx.actor, now=ctx.now)
        return cls.success(
            filename=_entitlement_filename(granted),
            content=json.dumps(granted.document, indent=2),
        )


SuspendLicense = _license_change("SuspendLicense", lifecycle.suspend_license)
ReinstateLicense = _license_change("ReinstateLicense", lifecycle.reinstate_license)
RevokeLicense = _license_change("RevokeLicense", lifecycle.revoke_license)


# --- deployments ---------------------------------------------------------------------------


class DeploymentCreate(BaseMutation):
    deployment = graphene.Field(DeploymentType)

    class Arguments:
        name = graphene.String(required=True)
        customer_id = graphene.String(
            description="An end customer's public id (C-…): its partner, or staff, create the "
            "deployment for it (owned by the customer, managed by the partner)."
        )
        owner_id = graphene.String(description="Staff: create it for this user.")

    @classmethod
    def perform(
        cls, ctx: ApiContext, name: Any = None, customer_id: Any = None, owner_id: Any = None
    ) -> Any:
        user_id = require_user(ctx)
        name = text(name, "name", required=True)
        if customer_id is not None:
            customer = managed_customer(ctx, customer_id)
            owner = partners.owner_for(customer)
            deployment = lifecycle.create_deployment(
                name=name,
                owner_id=owner.user_id,
                reseller_id=owner.reseller_id,
                customer_id=customer.pk,
            )
            return cls.success(deployment=deployment)
        owner_id = text(owner_id, "ownerId", maximum=128)
        if owner_id and owner_id != user_id:
            require_staff(ctx)  # anyone else could put deployments into anyone's list
            if owner_id.startswith(CUSTOMER_OWNER_PREFIX):
                raise LicenseError(
                    LicenseErrorCode.INVALID, "Name an end customer with customerId.", "ownerId"
                )
        deployment = lifecycle.create_deployment(name=name, owner_id=owner_id or user_id)
        return cls.success(deployment=deployment)


# --- activation ----------------------------------------------------------------------------


def _activate(ctx: ApiContext, key: Any, fingerprint: Any, deployment_id: Any) -> Any:
    _, license = license_by_key(key, action="activate", client_ip=ctx.client_ip)
    # Inputs are checked before the key's existence shows, as on the device endpoint.
    activation.device_hash(fingerprint)
    public_id = None
    if deployment_id is not None:
        public_id = access.normalize_deployment_id(
            text(deployment_id, "deploymentId", required=True)
        )
    if license is None:
        raise not_found()
    deployment = access.named_deployment(public_id)
    granted = activation.activate(
        license, fingerprint, deployment=deployment, actor=ctx.actor, now=ctx.now
    )
    return EntitlementType(
        document=granted.document,
        kid=granted.document["kid"],
        device=granted.device,
        revision=granted.license.revision,
        filename=_entitlement_filename(granted),
    )


def _entitlement_filename(granted: activation.Entitlement) -> str:
    return f"license-{granted.license.key_hint}-{granted.device[:8]}.json"


class ActivateLicense(BaseMutation):
    entitlement = graphene.Field(EntitlementType)

    class Arguments:
        key = graphene.String(required=True)
        fingerprint = graphene.String(required=True, description="The device's fingerprint.")
        deployment_id = graphene.String()

    class Meta:
        description = "Take a device seat (or refresh it) and receive the signed entitlement."

    @classmethod
    def perform(
        cls, ctx: ApiContext, key: Any = None, fingerprint: Any = None, deployment_id: Any = None
    ) -> Any:
        return cls.success(entitlement=_activate(ctx, key, fingerprint, deployment_id))


class LicenseEntitlementFile(BaseMutation):
    filename = graphene.String()
    content = graphene.String(description="The entitlement document, as a JSON string.")

    class Arguments:
        key = graphene.String(required=True)
        fingerprint = graphene.String(required=True)
        deployment_id = graphene.String()

    class Meta:
        description = "Offline activation: take a device seat and download its entitlement file."

    @classmethod
    def perform(
        cls, ctx: ApiContext, key: Any = None, fingerprint: Any = None, deployment_id: Any = None
    ) -> Any:
        entitlement = _activate(ctx, key, fingerprint, deployment_id)
        return cls.success(
            filename=entitlement.filename,
            content=json.dumps(entitlement.document, indent=2),
        )


class DeactivateLicense(BaseMutation):
    deactivated = graphene.Boolean()

    class Arguments:
        key = graphene.String(required=True)
        fingerprint = graphene.String(required=True)

    class Meta:
        description = "Free a device's seat (a limited number of times per period)."

    @classmethod
    def perform(cls, ctx: ApiContext, key: Any = None, fingerprint: Any = None) -> Any:
        _, license = license_by_key(key, action="activate", client_ip=ctx.client_ip)
        activation.device_hash(fingerprint)  # before the key's existence shows
        if license is None:
            raise activation.no_seat()  # as for a key the device holds no seat on
        activation.deactivate(license, fingerprint, actor=ctx.actor, now=ctx.now)
        return cls.success(deactivated=True)


class Mutation(graphene.ObjectType):
    verify_license_key = VerifyLicenseKey.Field()
    quote_license_action = QuoteLicenseAction.Field()
    issue_license = IssueLicense.Field()
    suspend_license = SuspendLicense.Field()
    reinstate_license = ReinstateLicense.Field()
    revoke_license = RevokeLicense.Field()
    deployment_create = DeploymentCreate.Field()
    activate_license = ActivateLicense.Field()
    deactivate_license = DeactivateLicense.Field()
    license_entitlement_file = LicenseEntitlementFile.Field()
    extend_license = ExtendLicense.Field()
    license_key_reveal = LicenseKeyReveal.Field()
    license_activations_reset = LicenseActivationsReset.Field()
    license_keys_resend = LicenseKeysResend.Field()
    license_entitlement_issue = LicenseEntitlementIssue.Field()
