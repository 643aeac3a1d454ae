"""Partners in the API: partner accounts (staff), end customers (their partner), transfers,
trial and not-for-resale licenses, and the renewals report of a partner portal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import graphene
from django.db.models import Count, Q, QuerySet

from saleor_license_plugin.graphql.checkout import CheckoutLicenseLine, added_lines, buyer_checkout
from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.graphql.core import (
    BaseMutation,
    CountableConnection,
    alphabetical,
    connection_field,
    context,
    customer_by_public_id,
    deployment_by_public_id,
    fresh_license,
    from_global_id,
    keyset_page,
    license_edition,
    managed_customer,
    none_if_not_found,
    query,
    require_staff,
    require_user,
    text,
)
from saleor_license_plugin.graphql.types import (
    DeploymentType,
    EndCustomerType,
    LicenseActionEnum,
    LicenseQuote,
    LicenseType,
    PartnerType,
    quote_value,
)
from saleor_license_plugin.licensing import access, partners, renewals
from saleor_license_plugin.licensing.catalog import EditionTerms
from saleor_license_plugin.licensing.checkout_lines import LineInput
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.offers import LineRequest, quote_line
from saleor_license_plugin.models import Deployment, EndCustomer, License, LicenseKind, Partner

MAX_REPORT_DAYS = 3660
MAX_RENEWAL_ITEMS = 50


def license_for(ctx: ApiContext, id: Any, field: str = "id") -> License:
    """A license the caller may see, by global id; ``NOT_FOUND`` for any other."""
    pk = from_global_id(id, "License", field)
    license = License.objects.select_related("deployment", "customer").filter(pk=pk).first()
    if license is None or not ctx.principal.can_see(license):
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such license.", field)
    return license


def customer_for(ctx: ApiContext, value: Any, field: str = "customerId") -> EndCustomer:
    require_user(ctx)
    return customer_by_public_id(ctx, value, field)


def _partner_by_user(value: Any, field: str = "partnerUserId") -> Partner:
    partner = Partner.objects.filter(user_id=text(value, field, maximum=128, required=True)).first()
    if partner is None:
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such partner.", field)
    return partner


# --- partners (staff) ------------------------------------------------------------------------


class PartnerInput(graphene.InputObjectType):
    email = graphene.String()
    company = graphene.String()
    level = graphene.String(
        description="The merchant's code for the partner's pricing and quotas, e.g. gold."
    )
    trial_quota = graphene.Int(description="Open trials allowed; null: the level's quota.")
    nfr_quota = graphene.Int(description="Not-for-resale licenses allowed; null: the level's.")
    active = graphene.Boolean(description="false: no ordering for customers, no trials.")


class PartnerSet(BaseMutation):
    partner = graphene.Field(PartnerType)
    created = graphene.Boolean()

    class Arguments:
        user_id = graphene.String(required=True, description="The user who becomes a partner.")
        input = PartnerInput(required=True)

    class Meta:
        description = "Staff: make a user a partner, or change a partner's level and quotas."

    staff_only = True

    @classmethod
    def perform(cls, ctx: ApiContext, user_id: Any = None, input: Any = None) -> Any:
        data = dict(input or {})
        changes: dict[str, Any] = {}
        for name in ("email", "company", "level"):
            if name in data:
                changes[name] = text(data[name], name, maximum=254 if name == "email" else 255)
        for name in ("trial_quota", "nfr_quota", "active"):
            if name in data:
                changes[name] = data[name]
        if "active" in changes and changes["active"] is None:
            changes.pop("active")
        partner, created = partners.set_partner(
            text(user_id, "userId", maximum=128, required=True), changes
        )
        return cls.success(partner=partner, created=created)


# --- end customers ---------------------------------------------------------------------------


class EndCustomerInput(graphene.InputObjectType):
    company = graphene.String(description="Required when creating.")
    contact_name = graphene.String()
    email = graphene.String(description="Where keys go when an order sends them to customers.")
    phone = graphene.String()
    domain = graphene.String(description="e.g. acme.example (cloud tenants are named by it).")
    notes = graphene.String(description="The partner's own notes (up to 2000 characters).")


def _customer_data(input: Any) -> dict[str, Any]:
    names = {
        "company": "company",
        "contact_name": "contactName",
        "email": "email",
        "phone": "phone",
        "domain": "domain",
        "notes": "notes",
    }
    return {names[key]: value for key, value in dict(input or {}).items() if key in names}


class EndCustomerCreate(BaseMutation):
    customer = graphene.Field(EndCustomerType)

    class Arguments:
        input = EndCustomerInput(required=True)

    class Meta:
        description = "A partner adds an end customer."

    @classmethod
    def perform(cls, ctx: ApiContext, input: Any = None) -> Any:
        partner = partners.require_partner(ctx.principal)
        return cls.success(customer=partners.create_customer(partner, _customer_data(input)))


class EndCustomerUpdate(BaseMutation):
    customer = graphene.Field(EndCustomerType)

    class Arguments:
        id = graphene.String(required=True, description="The customer's public id, C-….")
        input = EndCustomerInput(required=True)

    class Meta:
        description = "Its partner (or staff) changes an end customer; fields left out stay."

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, input: Any = None) -> Any:
        customer = managed_customer(ctx, id, "id")
        return cls.success(customer=partners.update_customer(customer, _customer_data(input)))


class EndCustomerDelete(BaseMutation):
    deleted = graphene.Boolean()

    class Arguments:
        id = graphene.String(required=True)

    class Meta:
        description = "Remove an end customer that has no licenses or deployments."

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None) -> Any:
        partners.delete_customer(managed_customer(ctx, id, "id"))
        return cls.success(deleted=True)


class EndCustomerInvite(BaseMutation):
    token = graphene.String(
        description="Give it to the customer: signed in, they accept it with "
        "endCustomerInviteAccept and see their licenses. Valid 14 days."
    )

    class Arguments:
        id = graphene.String(required=True)

    class Meta:
        description = "An invitation that links an end customer to the account that accepts it."

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None) -> Any:
        return cls.success(token=partners.invite_token(managed_customer(ctx, id, "id")))


class EndCustomerInviteAccept(BaseMutation):
    customer_id = graphene.String(description="The public id of the customer record linked.")

    class Arguments:
        token = graphene.String(required=True)

    class Meta:
        description = (
            "A signed-in customer accepts its partner's invitation: the licenses the partner "
            "bought for it become its own (the partner still manages them)."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, token: Any = None) -> Any:
        customer = partners.accept_invite(token, ctx.principal, actor=ctx.actor, now=ctx.now)
        return cls.success(customer_id=customer.public_id)


class EndCustomerLinkAccount(BaseMutation):
    customer = graphene.Field(EndCustomerType)

    class Arguments:
        id = graphene.String(required=True)
        user_id = graphene.String(description="The customer's account; empty or null unlinks.")

    class Meta:
        description = "Staff: link an end customer to its account (or unlink it)."

    staff_only = True

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, user_id: Any = None) -> Any:
        customer = customer_for(ctx, id, "id")
        user = text(user_id, "userId", maximum=128)
        return cls.success(
            customer=partners.link_account(customer, user, actor=ctx.actor, now=ctx.now)
        )


class EndCustomerMove(BaseMutation):
    customer = graphene.Field(EndCustomerType)

    class Arguments:
        id = graphene.String(required=True)
        partner_user_id = graphene.String(required=True)

    class Meta:
        description = (
            "Staff: an end customer, its deployments and licenses go to another partner (each "
            "license gets a transferred event)."
        )

    staff_only = True

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, partner_user_id: Any = None) -> Any:
        customer = customer_for(ctx, id, "id")
        partner = _partner_by_user(partner_user_id)
        return cls.success(
            customer=partners.move_customer(customer, partner, actor=ctx.actor, now=ctx.now)
        )


# --- transfers -------------------------------------------------------------------------------


class LicenseTransfer(BaseMutation):
    license = graphene.Field(LicenseType)

    class Arguments:
        id = graphene.ID(required=True, description="The license's global id.")
        customer_id = graphene.String(required=True, description="The end customer, C-….")
        reason = graphene.String(description="Recorded in the license's history.")

    class Meta:
        description = (
            "Move a license to another end customer: a partner between its own customers, "
            "staff to any partner's. A license bound to a deployment moves with it "
            "(deploymentTransfer): DEPLOYMENT_BINDING_LOCKED."
        )

    @classmethod
    def perform(
        cls, ctx: ApiContext, id: Any = None, customer_id: Any = None, reason: Any = None
    ) -> Any:
        require_user(ctx)
        license = license_for(ctx, id)
        customer = managed_customer(ctx, customer_id)
        moved = partners.transfer_license(
            license,
            customer,
            ctx.principal,
            reason=text(reason, "reason"),
            actor=ctx.actor,
            now=ctx.now,
        )
        return cls.success(license=moved)


class DeploymentTransfer(BaseMutation):
    deployment = graphene.Field(DeploymentType)
    licenses = graphene.List(graphene.NonNull(LicenseType), description="The licenses moved.")

    class Arguments:
        deployment_id = graphene.String(required=True)
        customer_id = graphene.String(required=True)
        reason = graphene.String()

    class Meta:
        description = (
            "Move a deployment and every license bound to it to another end customer; the "
            "bindings hold."
        )

    @classmethod
    def perform(
        cls, ctx: ApiContext, deployment_id: Any = None, customer_id: Any = None, reason: Any = None
    ) -> Any:
        require_user(ctx)
        deployment = deployment_by_public_id(ctx, deployment_id)
        customer = managed_customer(ctx, customer_id)
        deployment, moved = partners.transfer_deployment(
            deployment,
            customer,
            ctx.principal,
            reason=text(reason, "reason"),
            actor=ctx.actor,
            now=ctx.now,
        )
        return cls.success(deployment=deployment, licenses=moved)


# --- trials and NFR --------------------------------------------------------------------------


class PartnerLicenseKind(graphene.Enum):
    TRIAL = LicenseKind.TRIAL.value
    NOT_FOR_RESALE = LicenseKind.NOT_FOR_RESALE.value

    class Meta:
        description = "What a partner creates within its quotas."


class PartnerLicenseCreateInput(graphene.InputObjectType):
    variant_id = graphene.String(required=True, description="A license edition in the catalog.")
    kind = PartnerLicenseKind(required=True)
    customer_id = graphene.String(description="TRIAL: for this end customer (else yourself).")
    deployment_id = graphene.String(
        description="Bind to this deployment (yours or the customer's)."
    )


class PartnerLicenseCreate(BaseMutation):
    license = graphene.Field(LicenseType)
    key = graphene.String(description="The full key (also in license.key).")

    class Arguments:
        input = PartnerLicenseCreateInput(required=True)

    class Meta:
        description = (
            "A partner creates a trial (TRIAL_DAYS long; converted by buying a NEW line that "
            "names its key) or a not-for-resale license, within its quotas (QUOTA_EXCEEDED)."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, input: Any = None) -> Any:
        partner = partners.require_partner(ctx.principal)
        data = dict(input or {})
        item = license_edition(ctx, data.get("variant_id"))
        assert isinstance(item.terms, EditionTerms)
        customer = None
        if data.get("customer_id") is not None:
            customer = customer_for(ctx, data["customer_id"])
        deployment = None
        if data.get("deployment_id") is not None:
            deployment = deployment_by_public_id(ctx, data["deployment_id"])
        kind = str(getattr(data["kind"], "value", data["kind"]))
        issued = partners.create_partner_license(
            partner,
            terms=item.terms,
            kind=kind,
            product_code=item.variant_id,
            customer=customer,
            deployment=deployment,
            currency=item.price.currency,
            actor=ctx.actor,
            now=ctx.now,
        )
        license = fresh_license(issued.license.pk)
        return cls.success(license=license, key=license.display_key())


# --- renewals report -------------------------------------------------------------------------


class RenewalKindEnum(graphene.Enum):
    class Meta:
        enum = renewals.ExpiryKind
        name = "RenewalKind"
        description = "TERM (annual licenses) or MAINTENANCE."


class PartnerRenewalItem(graphene.ObjectType):
    kind = graphene.Field(RenewalKindEnum, required=True)
    action = graphene.Field(LicenseActionEnum, required=True, description="The line that renews.")
    expires_at = graphene.DateTime(required=True)
    quote = graphene.Field(LicenseQuote, description="One year; null if no longer sold.")


class PartnerRenewal(graphene.ObjectType):
    license = graphene.Field(LicenseType, required=True)
    customer = graphene.Field(EndCustomerType)
    deployment = graphene.Field(DeploymentType)
    due_at = graphene.DateTime(required=True, description="The earliest expiry in the window.")
    items = graphene.List(graphene.NonNull(PartnerRenewalItem), required=True)

    class Meta:
        description = "A license with a renewal due: what, when and for how much."

    @staticmethod
    def resolve_license(root: License, info: Any) -> License:
        return root

    @staticmethod
    def resolve_customer(root: License, info: Any) -> EndCustomer | None:
        return root.customer

    @staticmethod
    def resolve_deployment(root: License, info: Any) -> Deployment | None:
        return root.deployment

    @staticmethod
    def resolve_due_at(root: License, info: Any) -> Any:
        return root.due_at  # type: ignore[attr-defined]

    @staticmethod
    def resolve_items(root: License, info: Any) -> list[PartnerRenewalItem]:
        ctx = context(info)
        found = []
        for kind, expires_at in renewals.expiries_within(root, root.window_from, root.window_to):  # type: ignore[attr-defined]
            request = LineRequest(
                action=kind.line_action, variant_id=root.product_code, license=root, years=1
            )
            try:
                quote = quote_value(quote_line(request, ctx.catalog, ctx.now))
            except LicenseError:
                quote = None
            found.append(
                PartnerRenewalItem(
                    kind=kind.value,
                    action=kind.line_action.value,
                    expires_at=expires_at,
                    quote=quote,
                )
            )
        return found


class PartnerRenewalCountableConnection(CountableConnection):
    class Meta:
        node = PartnerRenewal


def _days(value: Any, default: int, field: str) -> int:
    if value is None:
        return default
    if not 0 <= value <= MAX_REPORT_DAYS:
        raise LicenseError(
            LicenseErrorCode.INVALID, f"{field} must be between 0 and {MAX_REPORT_DAYS}.", field
        )
    return int(value)


@query
def resolve_partner_renewals(
    ctx: ApiContext,
    due_within_days: Any = None,
    overdue_days: Any = None,
    customer_id: Any = None,
    deployment_id: Any = None,
    first: Any = None,
    after: Any = None,
) -> Any:
    require_user(ctx)
    until = ctx.now + timedelta(days=_days(due_within_days, 90, "dueWithinDays"))
    since = ctx.now - timedelta(days=_days(overdue_days, 30, "overdueDays"))
    queryset = access.visible_licenses(ctx.principal)
    if customer_id is not None:
        queryset = queryset.filter(customer=customer_for(ctx, customer_id))
    if deployment_id is not None:
        queryset = queryset.filter(deployment=deployment_by_public_id(ctx, deployment_id))
    rows = renewals.due_between(queryset, since, until).select_related("deployment", "customer")
    page = keyset_page(
        PartnerRenewalCountableConnection,
        rows,
        first=first,
        after=after,
        field="due_at",
        descending=False,
        dates=True,
    )
    for edge in page.edges:
        edge.node.window_from, edge.node.window_to = since, until
    return page


class RenewalItemInput(graphene.InputObjectType):
    license_id = graphene.ID(required=True)
    kind = RenewalKindEnum(required=True)
    years = graphene.Int(description="Default 1.")


class CheckoutRenewalLinesAdd(BaseMutation):
    checkout_id = graphene.ID(description="The checkout the lines were added to.")
    lines = graphene.List(graphene.NonNull(CheckoutLicenseLine))

    class Arguments:
        checkout_id = graphene.ID(description="Your checkout; none: a new one is created.")
        items = graphene.List(graphene.NonNull(RenewalItemInput), required=True)

    class Meta:
        description = (
            "Put renewals chosen from the renewals report into a checkout (RENEW_LICENSE or "
            "RENEW_MAINTENANCE lines, priced as checkoutLicenseLinesAdd prices them), by "
            "license id: no keys to type."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, checkout_id: Any = None, items: Any = None) -> Any:
        host = buyer_checkout(ctx, items, MAX_RENEWAL_ITEMS, "items")
        lines = []
        for item in items:
            license = license_for(ctx, item.get("license_id"), "licenseId")
            kind = renewals.ExpiryKind(getattr(item["kind"], "value", item["kind"]))
            years = item.get("years")
            lines.append(
                LineInput(
                    variant_id=license.product_code,
                    action=kind.line_action,
                    license_id=license.pk,
                    years=1 if years is None else int(years),
                )
            )
        if checkout_id is None:
            gid, added = host.create_checkout(ctx.principal, lines, client_ip=ctx.client_ip)
        else:
            gid, added = host.add_license_lines(
                text(checkout_id, "checkoutId", maximum=200, required=True),
                ctx.principal,
                lines,
                client_ip=ctx.client_ip,
            )
        return cls.success(checkout_id=gid, lines=added_lines(added))


# --- queries ---------------------------------------------------------------------------------


class EndCustomerCountableConnection(CountableConnection):
    class Meta:
        node = EndCustomerType


class PartnerCountableConnection(CountableConnection):
    class Meta:
        node = PartnerType


def search_customers(queryset: QuerySet[EndCustomer], term: str) -> QuerySet[EndCustomer]:
    return queryset.filter(
        Q(company__icontains=term)
        | Q(contact_name__icontains=term)
        | Q(email__icontains=term)
        | Q(domain__icontains=term)
        | Q(public_id__iexact=term)
    )


@query
def resolve_end_customers(
    ctx: ApiContext,
    search: Any = None,
    partner_user_id: Any = None,
    first: Any = None,
    after: Any = None,
) -> Any:
    require_user(ctx)
    queryset = access.visible_customers(ctx.principal)
    if partner_user_id is not None:
        require_staff(ctx)
        queryset = queryset.filter(
            partner__user_id=text(partner_user_id, "partnerUserId", maximum=128)
        )
    if term := text(search, "search", maximum=100):
        queryset = search_customers(queryset, term)
    queryset = queryset.select_related("partner").annotate(license_count=Count("licenses"))
    return alphabetical(
        EndCustomerCountableConnection, queryset, first=first, after=after, field="company"
    )


@query
def resolve_end_customer(ctx: ApiContext, id: Any = None) -> EndCustomer | None:
    return none_if_not_found(lambda: customer_for(ctx, id, "id"))


@query
def resolve_partner(ctx: ApiContext, user_id: Any = None) -> Partner | None:
    """The caller's partner account, or (staff) anyone's; null when there is none."""
    if user_id is None:
        if ctx.principal.user_id is None:
            return None
        return Partner.objects.filter(user_id=ctx.principal.user_id).first()
    require_staff(ctx)
    return Partner.objects.filter(user_id=text(user_id, "userId", maximum=128)).first()


@query
def resolve_partners(
    ctx: ApiContext, search: Any = None, first: Any = None, after: Any = None
) -> Any:
    require_staff(ctx)
    queryset = Partner.objects.all()
    if term := text(search, "search", maximum=100):
        queryset = queryset.filter(
            Q(company__icontains=term)
            | Q(email__icontains=term)
            | Q(level__iexact=term)
            | Q(user_id=term)
        )
    return alphabetical(
        PartnerCountableConnection, queryset, first=first, after=after, field="company"
    )


class PartnerQueries(graphene.ObjectType):
    partner = graphene.Field(
        PartnerType,
        user_id=graphene.String(description="Staff: another user's partner account."),
        description="Your partner account (null if you are not a partner).",
        resolver=resolve_partner,
    )
    partners = connection_field(
        PartnerCountableConnection,
        search=graphene.String(),
        description="Staff: every partner.",
        resolver=resolve_partners,
    )
    end_customers = connection_field(
        EndCustomerCountableConnection,
        search=graphene.String(
            description="Part of the company, contact, e-mail or domain; or a public id."
        ),
        partner_user_id=graphene.String(description="Staff: one partner's customers."),
        description="Your end customers, by company (typeahead); staff see every partner's.",
        resolver=resolve_end_customers,
    )
    end_customer = graphene.Field(
        EndCustomerType,
        id=graphene.String(required=True, description="The customer's public id, C-…."),
        description="One of your end customers; null if there is none you manage.",
        resolver=resolve_end_customer,
    )
    partner_renewals = connection_field(
        PartnerRenewalCountableConnection,
        due_within_days=graphene.Int(description="Due from now to this many days on (90)."),
        overdue_days=graphene.Int(description="And lapsed up to this many days ago (30)."),
        customer_id=graphene.String(description="One end customer's."),
        deployment_id=graphene.String(description="One deployment's."),
        description=(
            "Renewals by deployment: every license you (or your customers) hold with a term "
            "or maintenance expiry in the window, soonest first, with one-year quotes."
        ),
        resolver=resolve_partner_renewals,
    )


class PartnerMutations(graphene.ObjectType):
    partner_set = PartnerSet.Field()
    end_customer_create = EndCustomerCreate.Field()
    end_customer_update = EndCustomerUpdate.Field()
    end_customer_delete = EndCustomerDelete.Field()
    end_customer_invite = EndCustomerInvite.Field()
    end_customer_invite_accept = EndCustomerInviteAccept.Field()
    end_customer_link_account = EndCustomerLinkAccount.Field()
    end_customer_move = EndCustomerMove.Field()
    license_transfer = LicenseTransfer.Field()
    deployment_transfer = DeploymentTransfer.Field()
    partner_license_create = PartnerLicenseCreate.Field()
    checkout_renewal_lines_add = CheckoutRenewalLinesAdd.Field()
