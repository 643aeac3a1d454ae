"""Subscriptions after the order (issue 11): provisioning results, plan changes, cancellation,
auto-renew and the domain.

Who reports provisioning results: staff, or the merchant's system with a Saleor app token that
has ``MANAGE_ORDERS``, through this API. Not a second, signed callback endpoint: the merchant's
system already talks to Saleor with an app token, so there is one way to authenticate, one
permission to grant and revoke, and no replay window to defend.
"""

from __future__ import annotations

from typing import Any

import graphene

from saleor_license_plugin.fulfillment import provisioning as delivery
from saleor_license_plugin.graphql.checkout import CheckoutLicenseLine, added_lines, checkout_host
from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.graphql.core import (
    BaseMutation,
    from_global_id,
    require_user,
    text,
)
from saleor_license_plugin.graphql.subscriptions import SubscriptionType
from saleor_license_plugin.licensing import access, plan_changes, provisioning
from saleor_license_plugin.licensing.checkout_lines import LineInput
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import ProvisioningRequest, Subscription


class SubscriptionProvisioning(graphene.ObjectType):
    status = graphene.String(
        required=True, description="pending, requested, manual (waiting for staff), ready, failed"
    )
    mode = graphene.String(required=True, description="manual, celery or webhook")
    request_id = graphene.String(
        required=True, description="What the merchant's system dedupes the request on."
    )
    attempts = graphene.Int(required=True, description="Deliveries tried (webhook, Celery).")
    last_error = graphene.String(required=True, description="The last delivery's failure.")
    requested_at = graphene.DateTime(description="When the merchant's system took it.")
    completed_at = graphene.DateTime(description="When it was reported ready or failed.")
    login_url = graphene.String(required=True, description="The instance's login page.")
    username = graphene.String(required=True, description="The instance administrator.")
    failure_reason = graphene.String(required=True)


def resolve_provisioning(root: Subscription, info: Any) -> ProvisioningRequest | None:
    return ProvisioningRequest.objects.filter(subscription=root).first()


def _subscription(ctx: ApiContext, id: Any) -> Subscription:
    """The one access rule: the owner, the partner managing the customer, staff."""
    require_user(ctx)
    return access.visible_subscription(from_global_id(id, "Subscription"), ctx.principal)


class SubscriptionProvisioned(BaseMutation):
    subscription = graphene.Field(SubscriptionType)
    credentials_sent = graphene.Int(description="Credentials e-mails this call sent.")

    class Arguments:
        id = graphene.ID(required=True, description="The subscription's id.")
        login_url = graphene.String(required=True)
        username = graphene.String(required=True)
        password = graphene.String(
            required=True,
            description="The initial password: e-mailed, kept sealed only until it is, never "
            "shown again.",
        )

    class Meta:
        description = (
            "Staff or the merchant's system (MANAGE_ORDERS): the instance is ready. Its login "
            "goes by e-mail to the partner or customer who ordered, and to the customer's "
            "contact if the order asked for it, once each."
        )

    staff_only = True

    @classmethod
    def perform(
        cls,
        ctx: ApiContext,
        id: Any = None,
        login_url: Any = None,
        username: Any = None,
        password: Any = None,
    ) -> Any:
        subscription = _subscription(ctx, id)
        request = provisioning.record_ready(
            subscription.pk,
            login_url=login_url,
            username=username,
            password=password,
            actor=ctx.actor,
            now=ctx.now,
        )
        sent = delivery.send_credentials(request.pk)
        return cls.success(subscription=subscription, credentials_sent=sent)


class SubscriptionProvisioningFailed(BaseMutation):
    subscription = graphene.Field(SubscriptionType)

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    class Meta:
        description = (
            "Staff or the merchant's system (MANAGE_ORDERS): the instance could not be built."
        )

    staff_only = True

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, reason: Any = None) -> Any:
        subscription = _subscription(ctx, id)
        provisioning.record_failed(
            subscription.pk, reason=text(reason, "reason"), actor=ctx.actor, now=ctx.now
        )
        return cls.success(subscription=subscription)


class SubscriptionUpgradeCheckoutCreate(BaseMutation):
    checkout_id = graphene.ID(description="A new checkout holding the PLAN_UPGRADE line.")
    lines = graphene.List(graphene.NonNull(CheckoutLicenseLine))

    class Arguments:
        id = graphene.ID(required=True, description="The subscription's id.")
        variant_id = graphene.ID(required=True, description="The dearer plan.")

    class Meta:
        description = (
            "Upgrade a subscription now: a new checkout with a PLAN_UPGRADE line (pre-paid: "
            "the price difference for the rest of the period). The plan changes once the "
            "order is paid. The same line can be added to any checkout with "
            "checkoutLicenseLinesAdd."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, variant_id: Any = None) -> Any:
        subscription = _subscription(ctx, id)
        host = checkout_host(ctx, "id")
        line = LineInput(
            variant_id=text(variant_id, "variantId", required=True),
            action=LineAction.PLAN_UPGRADE,
            license_id=subscription.license_id,
        )
        checkout_id, added = host.create_checkout(ctx.principal, [line], client_ip=ctx.client_ip)
        return cls.success(checkout_id=checkout_id, lines=added_lines(added))


class SubscriptionDowngradeSchedule(BaseMutation):
    subscription = graphene.Field(SubscriptionType)

    class Arguments:
        id = graphene.ID(required=True)
        variant_id = graphene.ID(description="The cheaper plan; null withdraws the scheduled one.")

    class Meta:
        description = (
            "Move to a cheaper plan at the end of the current period (pendingPlan until then). "
            "Refused while this period's peak users exceed the plan's cap."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, variant_id: Any = None) -> Any:
        subscription = _subscription(ctx, id)
        changed = plan_changes.schedule_downgrade(
            subscription.pk, ctx.catalog, variant_id, actor=ctx.actor, now=ctx.now
        )
        return cls.success(subscription=changed)


class SubscriptionCancelAtPeriodEnd(BaseMutation):
    subscription = graphene.Field(SubscriptionType)

    class Arguments:
        id = graphene.ID(required=True)
        cancel = graphene.Boolean(required=True, description="false takes it back.")

    class Meta:
        description = "Cancel a subscription at the end of its period; reversible until then."

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, cancel: Any = None) -> Any:
        subscription = _subscription(ctx, id)
        changed = plan_changes.set_cancel_at_period_end(
            subscription.pk, bool(cancel), actor=ctx.actor, now=ctx.now
        )
        return cls.success(subscription=changed)


class SubscriptionAutoRenewSet(BaseMutation):
    subscription = graphene.Field(SubscriptionType)

    class Arguments:
        id = graphene.ID(required=True)
        enabled = graphene.Boolean(required=True)

    class Meta:
        description = "Pre-paid subscriptions: bill the next period in advance, or not."

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, enabled: Any = None) -> Any:
        subscription = _subscription(ctx, id)
        changed = plan_changes.set_auto_renew(
            subscription.pk, bool(enabled), actor=ctx.actor, now=ctx.now
        )
        return cls.success(subscription=changed)


class SubscriptionDomainChange(BaseMutation):
    subscription = graphene.Field(SubscriptionType)
    provisioning_mode = graphene.String(
        description=(
            "How the merchant's provisioning system hears of the change: celery or webhook (a "
            "signed subscription.domain_changed request, sent once); manual: nothing is sent, "
            "update the instance yourself; null: the subscription has no provisioning request."
        )
    )

    class Arguments:
        id = graphene.ID(required=True)
        domain = graphene.String(required=True)
        reason = graphene.String(required=True, description="Recorded in the history.")

    class Meta:
        description = (
            "Staff: change a subscription's domain (fixed once ordered for everyone else); it "
            "stays unique among live subscriptions."
        )

    staff_only = True

    @classmethod
    def perform(
        cls, ctx: ApiContext, id: Any = None, domain: Any = None, reason: Any = None
    ) -> Any:
        subscription = _subscription(ctx, id)
        changed = plan_changes.change_domain(
            subscription.pk, domain, reason, actor=ctx.actor, now=ctx.now
        )
        mode = delivery.notify_domain_change(changed.pk)
        return cls.success(subscription=changed, provisioning_mode=mode)
