"""Changes to a running subscription (issue 11): plan upgrades now, downgrades and
cancellations at the period's end, auto-renew, and the domain (staff only).

- **Upgrade now**: a ``PLAN_UPGRADE`` checkout line on the subscription's key names the target
  plan. Pre-paid, it costs the difference of the two plans' period prices times the share of
  the current period still to run (nothing in a free first period); post-paid, nothing now
  (the period is billed in arrears at the plan it has then). Once the order is paid,
  :func:`apply_upgrade` switches the plan (and the entitlement's user capacity) at once.
- **Downgrade at the period's end**: :func:`schedule_downgrade` records ``pending_plan``; the
  period roll-over calls :func:`apply_period_end`, which switches to it. A downgrade is refused
  while the period's peak users exceed the target plan's cap (the plan conditions, seed 004).
- **Cancel at the period's end**: ``cancel_at_period_end``, reversible until then;
  :func:`apply_period_end` cancels (the entitlement runs to the period's end and expires).
- **Auto-renew** (pre-paid only): whether the next period is billed in advance.
- **Domain**: "cannot be changed after ordering without staff" (seed 004): staff change it
  with a reason; it stays unique among live subscriptions.

Every change is a :class:`~saleor_license_plugin.models.LicenseEvent` on the subscription's
license, with the actor and the subscription's state before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from saleor_license_plugin.licensing.catalog import PaymentMode, PlanTerms
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Catalog, CatalogItem
from saleor_license_plugin.licensing.pricing import LineAction, Quote, _one
from saleor_license_plugin.licensing.subscriptions import DOMAIN, peak
from saleor_license_plugin.models import (
    License,
    LicenseEvent,
    Subscription,
    SubscriptionStatus,
)

LIVE = (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE)
MAX_REASON = 255


class Action:
    """The events a subscription's history records (beside the license's own)."""

    PLAN_UPGRADED = "plan_upgraded"
    DOWNGRADE_SCHEDULED = "plan_downgrade_scheduled"
    DOWNGRADE_WITHDRAWN = "plan_downgrade_withdrawn"
    PLAN_DOWNGRADED = "plan_downgraded"
    CANCEL_AT_PERIOD_END = "cancel_at_period_end_set"
    CANCELLED = "subscription_cancelled"
    AUTO_RENEW_SET = "subscription_auto_renew_set"
    DOMAIN_CHANGED = "domain_changed"


def state(subscription: Subscription) -> dict[str, Any]:
    """What a subscription event records before and after a change."""
    return {
        "status": subscription.status,
        "plan": subscription.plan,
        "plan_variant": subscription.plan_variant,
        "pending_plan": subscription.pending_plan,
        "pending_plan_variant": subscription.pending_plan_variant,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "auto_renew": subscription.auto_renew,
        "domain": subscription.domain,
        "current_period_end": subscription.current_period_end.isoformat(),
        "user_capacity": subscription.license.capacity,
        "license_revision": subscription.license.revision,
    }


def record(
    subscription: Subscription,
    action: str,
    *,
    actor: str,
    before: dict[str, Any] | None,
    note: str = "",
    order_id: str = "",
    order_line_id: str = "",
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> LicenseEvent:
    return LicenseEvent.objects.create(
        license_id=subscription.license_id,
        action=action,
        actor=actor[:128],
        before=before,
        after=state(subscription),
        order_id=order_id,
        order_line_id=order_line_id,
        idempotency_key=idempotency_key,
        note=note[:MAX_REASON],
        created_at=now or timezone.now(),
    )


def _locked(subscription_id: int) -> Subscription:
    found = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("license")
        .filter(pk=subscription_id)
        .first()
    )
    if found is None:
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such subscription.", "id")
    return found


def _ensure_live(subscription: Subscription) -> None:
    if subscription.status not in LIVE:
        raise LicenseError(
            LicenseErrorCode.LICENSE_NOT_ACTIVE,
            f"The subscription is {subscription.status.replace('_', ' ')}.",
            "id",
        )


def _change(
    subscription_id: int,
    action: str,
    mutate: Callable[[Subscription], str],
    *,
    actor: str,
    now: datetime | None,
    live: bool = True,
) -> Subscription:
    """Lock the subscription, check it, change it, record it; ``mutate`` returns the note."""
    with transaction.atomic():
        subscription = _locked(subscription_id)
        if live:
            _ensure_live(subscription)
        before = state(subscription)
        note = mutate(subscription)
        subscription.save()
        record(subscription, action, actor=actor, before=before, note=note, now=now)
        return subscription


# --- which plan may follow which -------------------------------------------------------------


def plan_item(catalog: Catalog, variant_id: Any, field: str = "variantId") -> CatalogItem:
    item = catalog.get(str(variant_id)) if variant_id else None
    if item is None or not isinstance(item.terms, PlanTerms):
        raise LicenseError(LicenseErrorCode.NOT_A_LICENSE_PRODUCT, "Not a plan on sale.", field)
    return item


def _terms(item: CatalogItem) -> PlanTerms:
    assert isinstance(item.terms, PlanTerms)
    return item.terms


def _rank(item: CatalogItem, mode: str) -> tuple[Decimal, int, int]:
    """How plans compare: by what the subscription's mode pays (the period price pre-paid,
    the per-user price post-paid), then the user cap, then the users included."""
    terms = _terms(item)
    price = item.price.amount if mode == PaymentMode.PREPAID else (terms.per_user_price or 0)
    return Decimal(price), terms.user_cap or 0, terms.included_users


def compare(subscription: Subscription, current: CatalogItem, target: CatalogItem) -> int:
    """+1 if ``target`` is an upgrade of the subscription's plan, -1 a downgrade; coded errors
    for the same plan and for plans it cannot move to (another period, instance type,
    currency, or a plan not sold in the subscription's payment mode)."""
    if target.variant_id == subscription.plan_variant:
        raise LicenseError(LicenseErrorCode.SAME_PLAN, "This is the current plan.", "variantId")
    terms = _terms(target)
    if (
        terms.period.value != subscription.period
        or terms.instance_type.value != subscription.instance_type
        or PaymentMode(subscription.mode) not in terms.modes
    ):
        raise LicenseError(
            LicenseErrorCode.PLAN_MISMATCH,
            "Plans change within the same period, instance type and payment mode.",
            "variantId",
        )
    if target.price.currency != current.price.currency:
        raise LicenseError(
            LicenseErrorCode.CURRENCY_MISMATCH,
            "The plans are priced in other currencies.",
            "variantId",
        )
    current_rank, target_rank = _rank(current, subscription.mode), _rank(target, subscription.mode)
    if target_rank == current_rank:
        raise LicenseError(
            LicenseErrorCode.SAME_PLAN, "This plan costs and holds the same.", "variantId"
        )
    return 1 if target_rank > current_rank else -1


def current_plan(catalog: Catalog, subscription: Subscription) -> CatalogItem:
    item = catalog.get(subscription.plan_variant)
    if item is None or not isinstance(item.terms, PlanTerms):
        raise LicenseError(
            LicenseErrorCode.NOT_A_LICENSE_PRODUCT,
            "This subscription's plan is no longer sold; contact the seller.",
            "licenseKey",
        )
    return item


def _period_share(subscription: Subscription, now: datetime) -> Decimal:
    start, end = subscription.current_period_start, subscription.current_period_end
    total = (end - start).total_seconds()
    left = min(max((end - now).total_seconds(), 0), total)
    return Decimal(left) / Decimal(total) if total > 0 else Decimal(0)


def quote_upgrade(
    subscription: Subscription, catalog: Catalog, target_variant: Any, now: datetime
) -> tuple[CatalogItem, Quote]:
    """The ``PLAN_UPGRADE`` line's price: pre-paid, (target − current period price) × the
    share of the period left; nothing post-paid or in a free first period."""
    _ensure_live(subscription)
    current = current_plan(catalog, subscription)
    target = plan_item(catalog, target_variant)
    if compare(subscription, current, target) < 0:
        raise LicenseError(
            LicenseErrorCode.NOT_AN_UPGRADE,
            "A cheaper plan starts at the period's end: schedule a downgrade.",
            "variantId",
        )
    currency = target.price.currency
    name = _terms(target).plan
    if subscription.mode == PaymentMode.POSTPAID:
        return target, _one(
            LineAction.PLAN_UPGRADE, currency, [(f"{name}: billed per peak user", Decimal(0))]
        )
    if subscription.status == SubscriptionStatus.TRIALING:
        return target, _one(
            LineAction.PLAN_UPGRADE, currency, [(f"{name}: free period", Decimal(0))]
        )
    difference = target.price.amount - current.price.amount
    share = _period_share(subscription, now)
    label = f"{name}, rest of the period ({share * 100:.0f}%)"
    return target, _one(LineAction.PLAN_UPGRADE, currency, [(label, difference * share)])


# --- the changes ---------------------------------------------------------------------------


def _switch(subscription: Subscription, variant_id: str, terms: PlanTerms) -> None:
    """The subscription is on ``terms`` from now: its entitlement carries the plan's name and
    user capacity (a new revision, so instances refresh)."""
    subscription.plan_variant = variant_id
    subscription.plan = terms.plan
    subscription.pending_plan_variant = ""
    subscription.pending_plan = ""
    license = License.objects.select_for_update().get(pk=subscription.license_id)
    license.edition = terms.plan
    license.product_code = variant_id
    license.capacity = terms.user_cap or terms.included_users
    license.revision += 1
    license.save(update_fields=["edition", "product_code", "capacity", "revision"])
    subscription.license = license


def apply_upgrade(
    license_id: int,
    *,
    variant_id: str,
    terms: PlanTerms,
    order_id: str,
    order_line_id: str,
    actor: str,
    now: datetime | None = None,
) -> Subscription:
    """A paid ``PLAN_UPGRADE`` line: the plan changes now, once per order line."""
    now = now or timezone.now()
    key = f"{order_line_id}:{Action.PLAN_UPGRADED}"
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update().filter(license_id=license_id).first()
        )
        if subscription is None:
            raise LicenseError(
                LicenseErrorCode.NOT_FOUND, "This key has no subscription.", "licenseKey"
            )
        if LicenseEvent.objects.filter(idempotency_key=key).exists():
            return subscription
        _ensure_live(subscription)
        before = state(subscription)
        _switch(subscription, variant_id, terms)
        subscription.save()
        record(
            subscription,
            Action.PLAN_UPGRADED,
            actor=actor,
            before=before,
            order_id=order_id,
            order_line_id=order_line_id,
            idempotency_key=key,
            note=f"upgraded to {terms.plan}",
            now=now,
        )
        return subscription


def schedule_downgrade(
    subscription_id: int,
    catalog: Catalog,
    variant_id: Any,
    *,
    actor: str,
    now: datetime | None = None,
) -> Subscription:
    """The subscription moves to a cheaper plan at the period's end; ``variant_id`` None
    withdraws a scheduled downgrade."""
    now = now or timezone.now()

    def mutate(subscription: Subscription) -> str:
        if variant_id is None:
            if not subscription.pending_plan_variant:
                raise LicenseError(
                    LicenseErrorCode.INVALID_TRANSITION, "No downgrade is scheduled.", "variantId"
                )
            subscription.pending_plan_variant = subscription.pending_plan = ""
            return "scheduled downgrade withdrawn"
        current = current_plan(catalog, subscription)
        target = plan_item(catalog, variant_id)
        if compare(subscription, current, target) > 0:
            raise LicenseError(
                LicenseErrorCode.NOT_A_DOWNGRADE,
                "A dearer plan starts now: buy it as a PLAN_UPGRADE line.",
                "variantId",
            )
        cap = _terms(target).user_cap
        users = peak(
            subscription, subscription.current_period_start, subscription.current_period_end
        )
        if cap is not None and users > cap:
            raise LicenseError(
                LicenseErrorCode.DOWNGRADE_NOT_ALLOWED,
                f"This period reached {users} users; the plan allows {cap}.",
                "variantId",
            )
        subscription.pending_plan_variant = target.variant_id
        subscription.pending_plan = _terms(target).plan
        return f"downgrade to {subscription.pending_plan} at the period's end"

    action = Action.DOWNGRADE_WITHDRAWN if variant_id is None else Action.DOWNGRADE_SCHEDULED
    return _change(subscription_id, action, mutate, actor=actor, now=now)


def set_cancel_at_period_end(
    subscription_id: int, cancel: bool, *, actor: str, now: datetime | None = None
) -> Subscription:
    def mutate(subscription: Subscription) -> str:
        subscription.cancel_at_period_end = cancel
        return "cancels at the period's end" if cancel else "cancellation withdrawn"

    return _change(subscription_id, Action.CANCEL_AT_PERIOD_END, mutate, actor=actor, now=now)


def set_auto_renew(
    subscription_id: int, enabled: bool, *, actor: str, now: datetime | None = None
) -> Subscription:
    """Pre-paid subscriptions only: whether the next period is billed in advance."""

    def mutate(subscription: Subscription) -> str:
        if subscription.mode != PaymentMode.PREPAID:
            raise LicenseError(
                LicenseErrorCode.PLAN_MISMATCH,
                "Post-paid subscriptions are billed for usage; cancel them instead.",
                "enabled",
            )
        subscription.auto_renew = enabled
        return "auto-renew on" if enabled else "auto-renew off"

    return _change(subscription_id, Action.AUTO_RENEW_SET, mutate, actor=actor, now=now)


def change_domain(
    subscription_id: int, domain: Any, reason: Any, *, actor: str, now: datetime | None = None
) -> Subscription:
    """Staff only (the API checks): a new domain for the instance, with the reason."""
    new = str(domain or "").strip().lower().rstrip(".")
    why = str(reason or "").strip()
    if not DOMAIN.match(new):
        raise LicenseError(
            LicenseErrorCode.INVALID, "Give the instance's domain, e.g. pbx.example.com.", "domain"
        )
    if not why or len(why) > MAX_REASON or not why.isprintable():
        raise LicenseError(
            LicenseErrorCode.REQUIRED,
            f"Give the reason (at most {MAX_REASON} characters).",
            "reason",
        )

    def mutate(subscription: Subscription) -> str:
        if subscription.domain == new:
            raise LicenseError(LicenseErrorCode.INVALID, "This is the domain already.", "domain")
        taken = (
            Subscription.objects.filter(domain=new)
            .exclude(status=SubscriptionStatus.CANCELLED)
            .exclude(pk=subscription.pk)
            .exists()
        )
        if taken:
            raise LicenseError(
                LicenseErrorCode.DOMAIN_TAKEN, "This domain is already in use.", "domain"
            )
        note = f"{subscription.domain} -> {new}: {why}"
        subscription.domain = new
        return note

    try:
        return _change(
            subscription_id, Action.DOMAIN_CHANGED, mutate, actor=actor, now=now, live=False
        )
    except IntegrityError:  # taken by a concurrent change between the check and the write
        raise LicenseError(
            LicenseErrorCode.DOMAIN_TAKEN, "This domain is already in use.", "domain"
        ) from None


def apply_period_end(
    subscription_id: int, catalog: Catalog, *, now: datetime | None = None
) -> str | None:
    """What the period roll-over does before the next period starts: cancel a subscription
    that asked to be (``"cancelled"``), or move it to its scheduled plan (``"downgraded"``);
    None if neither. Once per period: a second call for the same period does nothing. A
    scheduled plan that left the catalog is dropped (recorded), the subscription keeps its
    plan."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription = _locked(subscription_id)
        key = f"subscription:{subscription.pk}:{subscription.current_period_end.isoformat()}:end"
        if LicenseEvent.objects.filter(idempotency_key=key).exists():
            return None
        before = state(subscription)
        if (
            subscription.cancel_at_period_end
            and subscription.status != SubscriptionStatus.CANCELLED
        ):
            subscription.status = SubscriptionStatus.CANCELLED
            subscription.save()
            record(
                subscription,
                Action.CANCELLED,
                actor="system",
                before=before,
                note="cancelled at the period's end",
                idempotency_key=key,
                now=now,
            )
            return "cancelled"
        if not subscription.pending_plan_variant:
            return None
        item = catalog.get(subscription.pending_plan_variant)
        if item is None or not isinstance(item.terms, PlanTerms):
            subscription.pending_plan_variant = subscription.pending_plan = ""
            subscription.save()
            record(
                subscription,
                Action.DOWNGRADE_WITHDRAWN,
                actor="system",
                before=before,
                note="the scheduled plan is no longer sold",
                idempotency_key=key,
                now=now,
            )
            return None
        _switch(subscription, item.variant_id, item.terms)
        subscription.save()
        record(
            subscription,
            Action.PLAN_DOWNGRADED,
            actor="system",
            before=before,
            note=f"downgraded to {item.terms.plan}",
            idempotency_key=key,
            now=now,
        )
        return "downgraded"
