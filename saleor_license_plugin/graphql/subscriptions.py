"""Subscriptions in the API: the SUBSCRIBE line's input, the portal's list, usage reports."""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay

from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.graphql.core import (
    BaseMutation,
    Money,
    as_graphql_error,
    context,
    from_global_id,
    newest_first,
    require_user,
    to_global_id,
)
from saleor_license_plugin.graphql.queries import visible_licenses
from saleor_license_plugin.graphql.types import LicenseType
from saleor_license_plugin.licensing import subscriptions
from saleor_license_plugin.licensing.catalog import PlanTerms
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.lookup import license_by_key, not_found
from saleor_license_plugin.licensing.pricing import Money as MoneyValue
from saleor_license_plugin.licensing.pricing import quantize
from saleor_license_plugin.models import OPEN_BILL_STATUSES, Subscription, SubscriptionBill

BILLS_SHOWN = 24

PaymentModeEnum = graphene.Enum(
    "SubscriptionPaymentMode", [("PREPAID", "prepaid"), ("POSTPAID", "postpaid")]
)


class SubscriptionLineInput(graphene.InputObjectType):
    mode = PaymentModeEnum(required=True, description="PREPAID or POSTPAID (peak users).")
    domain = graphene.String(
        required=True, description="The instance's domain; fixed once ordered."
    )
    data_location = graphene.String(description="One of the plan's data locations.")
    admin_username = graphene.String(description="The instance administrator (default Admin).")
    company = graphene.String()
    contact_name = graphene.String()
    email = graphene.String()
    phone = graphene.String()
    send_credentials_to_customer = graphene.Boolean(
        description="Send the instance's login to the customer too (the orderer always gets it)."
    )


def line_details(raw: Any) -> dict[str, Any] | None:
    """The input's details as the domain reads them (snake_case, enums by value)."""
    if raw is None:
        return None
    details = dict(raw)
    mode = details.get("mode")
    details["mode"] = getattr(mode, "value", mode)
    return details


class SubscriptionBillType(graphene.ObjectType):
    id = graphene.ID(required=True)
    period_start = graphene.DateTime(required=True, description="The period billed.")
    period_end = graphene.DateTime(required=True)
    kind = graphene.String(
        required=True,
        description="in_advance (pre-paid: the coming period) or in_arrears (post-paid).",
    )
    users = graphene.Int(description="Post-paid: the period's peak user accounts.")
    amount = graphene.Field(Money, description="Null while a post-paid period still accrues.")
    status = graphene.String(
        required=True,
        description="accruing, due, charging, unpaid, paid or written_off",
    )
    issued_at = graphene.DateTime(description="When the amount became final.")
    paid_at = graphene.DateTime()
    order_id = graphene.String(
        required=True, description="The Saleor order that paid it (empty until paid)."
    )
    attempts = graphene.Int(required=True, description="Charges attempted on a saved card.")

    class Meta:
        name = "SubscriptionBill"
        description = "One period's bill of a subscription (billed once per period)."

    @staticmethod
    def resolve_id(root: SubscriptionBill, info: Any) -> str:
        return to_global_id("SubscriptionBill", root.pk)

    @staticmethod
    def resolve_amount(root: SubscriptionBill, info: Any) -> Any:
        if root.amount is None:
            return None
        return MoneyValue(quantize(root.amount, root.currency), root.currency)


class SubscriptionType(graphene.ObjectType):
    license = graphene.Field(LicenseType, required=True, description="Its entitlement.")
    plan = graphene.String(required=True)
    mode = graphene.String(required=True, description="prepaid or postpaid")
    period = graphene.String(required=True, description="monthly or yearly")
    instance_type = graphene.String(required=True, description="cloud or saas")
    status = graphene.String(
        required=True, description="trialing, active, past_due, suspended or cancelled"
    )
    current_period_start = graphene.DateTime(required=True)
    current_period_end = graphene.DateTime(required=True)
    data_location = graphene.String(required=True)
    domain = graphene.String(required=True)
    admin_username = graphene.String(required=True)
    company = graphene.String(required=True)
    peak_users = graphene.Int(required=True, description="The most users so far this period.")
    next_bill_estimate = graphene.Field(
        Money, description="What this period's bill is so far (null: the plan left the catalog)."
    )
    auto_renew = graphene.Boolean(required=True, description="Pre-paid: bill the next period.")
    pending_plan = graphene.String(description="The plan a scheduled downgrade moves to.")
    pending_plan_variant_id = graphene.String(description="That plan's variant.")
    cancel_at_period_end = graphene.Boolean(
        required=True, description="Cancels when the period ends (reversible until then)."
    )
    provisioning = graphene.Field(
        lambda: _provisioning_type(),
        description="The instance's provisioning request and its outcome (null: none yet).",
    )
    bills = graphene.List(
        graphene.NonNull(SubscriptionBillType),
        required=True,
        description=f"The latest {BILLS_SHOWN} bills, newest period first.",
    )

    class Meta:
        name = "Subscription"
        interfaces = (relay.Node,)

    @staticmethod
    def resolve_bills(root: Subscription, info: Any) -> Any:
        return list(root.bills.order_by("-period_start")[:BILLS_SHOWN])

    @staticmethod
    def resolve_pending_plan(root: Subscription, info: Any) -> str | None:
        return root.pending_plan or None

    @staticmethod
    def resolve_pending_plan_variant_id(root: Subscription, info: Any) -> str | None:
        return root.pending_plan_variant or None

    @staticmethod
    def resolve_provisioning(root: Subscription, info: Any) -> Any:
        from saleor_license_plugin.graphql.provisioning import resolve_provisioning

        return resolve_provisioning(root, info)

    @staticmethod
    def resolve_peak_users(root: Subscription, info: Any) -> int:
        return subscriptions.peak(root, root.current_period_start, root.current_period_end)

    @staticmethod
    def resolve_next_bill_estimate(root: Subscription, info: Any) -> Any:
        item = context(info).catalog.get(root.plan_variant)
        if item is None or not isinstance(item.terms, PlanTerms):
            return None
        return subscriptions.estimate(root, item.terms, item.price)


def _provisioning_type() -> Any:
    from saleor_license_plugin.graphql.provisioning import SubscriptionProvisioning

    return SubscriptionProvisioning


class SubscriptionCountableConnection(relay.Connection):
    total_count = graphene.Int()

    class Meta:
        node = SubscriptionType


def resolve_subscriptions(root: Any, info: Any, first: Any = None, after: Any = None) -> Any:
    ctx = context(info)
    try:
        queryset = Subscription.objects.filter(license__in=visible_licenses(ctx)).select_related(
            "license"
        )
        return newest_first(
            SubscriptionCountableConnection, queryset, first=first, after=after, field="created_at"
        )
    except LicenseError as error:
        raise as_graphql_error(error) from None


class SubscriptionUsageReport(BaseMutation):
    peak_users = graphene.Int(description="The day's peak after this report.")

    class Arguments:
        license_key = graphene.String(required=True, description="The subscription's key.")
        users = graphene.Int(required=True, description="User accounts registered now.")
        at = graphene.DateTime(description="When they were counted (default now).")

    class Meta:
        description = (
            "Report a subscription's user accounts: by the instance with its key, or by the "
            "merchant's system. The day's peak can only rise; a closed period refuses reports."
        )

    @classmethod
    def perform(
        cls, ctx: ApiContext, license_key: Any = None, users: Any = None, at: Any = None
    ) -> Any:
        _, license = license_by_key(
            license_key, action="activate", client_ip=ctx.client_ip, field="licenseKey"
        )
        subscription = (
            Subscription.objects.filter(license=license).first() if license is not None else None
        )
        if subscription is None:
            raise not_found("licenseKey")
        if not isinstance(users, int):
            raise LicenseError(LicenseErrorCode.INVALID, "users must be a number.", "users")
        row = subscriptions.report_usage(subscription, users, at, now=ctx.now)
        return cls.success(peak_users=row.peak_users)


class SubscriptionBillCheckoutCreate(BaseMutation):
    checkout_id = graphene.ID(description="A new checkout holding the bill's line.")

    class Arguments:
        bill_id = graphene.ID(required=True, description="An unpaid SubscriptionBill.")

    class Meta:
        description = (
            "Pay an unpaid subscription bill: a new checkout of yours (in the request's "
            "channel) holding one line for the bill's amount; pay and complete it with Saleor "
            "like any checkout (card, or offline: the bill is settled when staff mark the order "
            "paid). A past-due or suspended subscription is active again once nothing is owed."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, bill_id: Any = None) -> Any:
        pk = from_global_id(bill_id, "SubscriptionBill", "billId")
        if ctx.checkout is None:
            raise LicenseError(
                LicenseErrorCode.NOT_FOUND, "Checkouts are served inside Saleor only.", "billId"
            )
        require_user(ctx)
        bill = (
            SubscriptionBill.objects.select_related("subscription__license")
            .filter(pk=pk, status__in=OPEN_BILL_STATUSES)
            .first()
        )
        if bill is None or not ctx.principal.can_see(bill.subscription.license):
            raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such unpaid bill.", "billId")
        checkout_id = ctx.checkout.create_bill_checkout(
            ctx.principal, bill.pk, client_ip=ctx.client_ip
        )
        return cls.success(checkout_id=checkout_id)
