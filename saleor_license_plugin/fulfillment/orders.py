"""Apply an order's license lines, idempotently, from plain values.

The payload is built by the Saleor hook (``plugin.py``) from the order: for each license line its
:class:`~saleor_license_plugin.checkout_lines.LineIntent` (copied from the checkout line's private
metadata to the order line's) and the line's catalog metadata. Every effect is keyed on
``(order line, action, unit)``, so running an order twice, or after a worker died half-way,
applies each line exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from saleor_license_plugin.licensing import (
    access,
    holds,
    lifecycle,
    partners,
    plan_changes,
    subscription_billing,
    subscriptions,
)
from saleor_license_plugin.licensing.catalog import AddOnTerms, EditionTerms, PlanTerms, parse_terms
from saleor_license_plugin.licensing.checkout_lines import LineIntent
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.lifecycle import Action, OrderLineRef, Owner
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import (
    Deployment,
    License,
    LicenseEvent,
    LicenseKind,
    LicenseStatus,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderLinePayload:
    line_id: str
    intent: dict[str, Any]  # LineIntent fields
    metadata: dict[str, str]  # product + variant metadata (license.* keys)


@dataclass(frozen=True)
class OrderPayload:
    order_id: str
    buyer_id: str
    email: str
    lines: tuple[OrderLinePayload, ...]
    currency: str = ""
    end_customer: dict[str, str] = field(default_factory=dict)
    paid: bool = True  # False: issue pending-payment licenses (offline orders with grace days)
    grace_days: int = 0
    # Auto-renew lines: the gateway that took the payment (holds the saved card), the channel.
    payment_gateway: str = ""
    channel: str = ""
    invoice: bool = False  # issue and email the order's invoice once it is fulfilled and paid
    customer: str = ""  # the end customer's public id, when a partner bought for one
    keys_to: str = "partner"  # who gets the keys email: partner (the buyer), customer, both
    customer_email: str = ""  # where "customer" keys go

    def owner(self) -> Owner:
        """Who the order's new licenses belong to: the end customer it names (one of the
        buyer's, checked again now: NOT_FOUND otherwise), else the buyer."""
        if not self.customer:
            return Owner(self.buyer_id, self.email, end_customer=self.end_customer)
        customer = partners.checkout_customer(self.customer, Principal(self.buyer_id or None))
        return partners.owner_for(customer)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OrderPayload:
        lines = tuple(OrderLinePayload(**line) for line in data.get("lines", ()))
        return cls(**{**data, "lines": lines})


@dataclass
class LineResult:
    line_id: str
    action: str
    licenses: list[int] = field(default_factory=list)
    error: dict[str, str] | None = None

    def for_metadata(self) -> dict[str, Any]:
        """What goes into the order line's private metadata: references, never keys."""
        data: dict[str, Any] = {"action": self.action, "licenses": self.licenses}
        if self.error:
            data["error"] = self.error
        return data


def _actor(order_id: str) -> str:
    return f"order:{order_id}"


def _terms[T](terms: object, kind: type[T], refusal: str) -> T:
    """The line's catalog terms as the action needs them; ``NOT_A_LICENSE_PRODUCT`` else."""
    if not isinstance(terms, kind):
        raise LicenseError(LicenseErrorCode.NOT_A_LICENSE_PRODUCT, refusal)
    return terms


def _deployment(public_id: str | None) -> Deployment | None:
    if not public_id:
        return None
    return access.find_deployment(public_id)


def apply_order(order: OrderPayload, now: datetime | None = None) -> list[LineResult]:
    """Apply every license line; a line that can no longer apply (the license was revoked
    since checkout, say) is reported with its error code and does not stop the others."""
    now = now or timezone.now()
    results = []
    total = len(order.lines)
    for position, line in enumerate(order.lines, start=1):
        intent = LineIntent(**line.intent)
        result = LineResult(line.line_id, intent.action)
        try:
            _apply_line(order, line, intent, result, now)
            logger.info(
                "Order %s: line %d/%d (%s) applied to %d license(s)",
                order.order_id,
                position,
                total,
                intent.action,
                len(result.licenses),
            )
        except LicenseError as exc:
            logger.error(
                "License line %s of order %s could not be applied: %s",
                line.line_id,
                order.order_id,
                exc.code.value,
            )
            result.error = {"code": exc.code.value, "message": exc.message}
        results.append(result)
    return results


def _apply_line(
    order: OrderPayload,
    line: OrderLinePayload,
    intent: LineIntent,
    result: LineResult,
    now: datetime,
) -> None:
    ref = OrderLineRef(order.order_id, line.line_id)
    terms = parse_terms(line.metadata)
    actor = _actor(order.order_id)
    action = intent.line_action
    if action is LineAction.NEW and intent.license_id is None:
        edition = _terms(terms, EditionTerms, "Not an edition.")
        pending = not order.paid
        issued = lifecycle.issue_order_line(
            terms=edition,
            owner=order.owner(),
            order_line=ref,
            quantity=intent.quantity,
            product_code=intent.variant_id,
            maintenance_years=intent.maintenance_years,
            term_years=intent.years,
            deployment=_deployment(intent.deployment_id),
            status=LicenseStatus.PENDING_PAYMENT if pending else LicenseStatus.ACTIVE,
            pending_payment_until=now + timedelta(days=order.grace_days) if pending else None,
            currency=order.currency,
            actor=actor,
            now=now,
        )
        for unit, done in enumerate(issued):
            license = done.license
            if order.paid and license.status == LicenseStatus.PENDING_PAYMENT:
                license = lifecycle.mark_paid(
                    license.pk, idempotency_key=ref.key("paid", unit), actor=actor, now=now
                )
            result.licenses.append(license.pk)
        _auto_renew(order, ref, intent, result, now)
        return
    if not order.paid:
        return  # changes to existing licenses, and subscriptions, wait for the money
    if action is LineAction.SUBSCRIPTION_BILL:
        # A subscription's bill paid through a Saleor order (off-session, or the customer
        # paying an unpaid bill): recorded once, reactivating a past-due subscription.
        subscription_billing.settle(
            int((intent.details or {}).get("bill") or 0),
            order_id=order.order_id,
            order_line=ref,
            actor=actor,
            now=now,
        )
        if intent.license_id is not None:
            result.licenses.append(intent.license_id)
        return
    if action is LineAction.SUBSCRIBE:
        plan = _terms(terms, PlanTerms, "Not a plan.")
        subscription = subscriptions.start(
            terms=plan,
            details=subscriptions.clean_details_again(plan, intent.details or {}, ref),
            owner=order.owner(),
            plan_variant=intent.variant_id,
            order_line=ref,
            currency=order.currency,
            actor=actor,
            now=now,
        )
        result.licenses.append(subscription.license_id)
        # Its bills are priced in this order's channel and paid with the card this order
        # saved for off-session use, if it did (subscription billing).
        License.objects.filter(pk=subscription.license_id, auto_renew_channel="").update(
            auto_renew_channel=order.channel
        )
        if order.payment_gateway:
            License.objects.filter(pk=subscription.license_id, auto_renew_gateway="").update(
                auto_renew_gateway=order.payment_gateway
            )
        return
    license_id = int(intent.license_id or 0)
    how = lifecycle.ChangeOptions(order_line=ref, actor=actor, now=now)
    if action is LineAction.NEW:  # names a trial: it becomes this paid license
        lifecycle.convert_trial(
            license_id,
            terms=_terms(terms, EditionTerms, "Not an edition."),
            product_code=intent.variant_id,
            maintenance_years=intent.maintenance_years,
            term_years=intent.years,
            **how,
        )
    elif action is LineAction.UPGRADE:
        target = _terms(terms, EditionTerms, "Not an edition.")
        lifecycle.upgrade_license(license_id, target=target, product_code=intent.variant_id, **how)
    elif action is LineAction.RENEW_LICENSE:
        lifecycle.renew_license(license_id, years=intent.years, **how)
    elif action is LineAction.RENEW_MAINTENANCE:
        lifecycle.renew_maintenance(license_id, years=intent.years, **how)
    elif action is LineAction.EXPANSION:
        add_on = _terms(terms, AddOnTerms, "Not an add-on.")
        lifecycle.expand_license(license_id, add_on=add_on, quantity=intent.quantity, **how)
    elif action is LineAction.PLAN_UPGRADE:
        plan_changes.apply_upgrade(
            license_id,
            variant_id=intent.variant_id,
            terms=_terms(terms, PlanTerms, "Not a plan."),
            order_id=order.order_id,
            order_line_id=line.line_id,
            actor=actor,
            now=now,
        )
    deployment = _deployment(intent.deployment_id)
    if deployment is not None:
        lifecycle.bind_deployment(
            license_id, deployment, idempotency_key=ref.key("bind"), actor=actor, now=now
        )
    result.licenses.append(license_id)
    _auto_renew(order, ref, intent, result, now)


def _auto_renew(
    order: OrderPayload, ref: OrderLineRef, intent: LineIntent, result: LineResult, now: datetime
) -> None:
    """A paid line that asked for auto-renew turns it on for its licenses (once per line)."""
    if not (intent.auto_renew and order.paid and order.payment_gateway):
        return
    for unit, license_id in enumerate(result.licenses):
        lifecycle.set_auto_renew(
            license_id,
            enabled=True,
            gateway=order.payment_gateway,
            channel=order.channel,
            idempotency_key=ref.key("auto_renew", unit),
            actor=_actor(order.order_id),
            now=now,
        )


def licenses_of_order(order_id: str) -> tuple[list[int], list[int]]:
    """(licenses the order issued, existing licenses the order changed)."""
    events = LicenseEvent.objects.filter(order_id=order_id).values_list("license_id", "action")
    issued = sorted({lid for lid, action in events if action == Action.ISSUED})
    changed = sorted({lid for lid, action in events if action != Action.ISSUED} - set(issued))
    return issued, changed


# verb -> (the word in stored idempotency keys, frozen; the change). The words are the ones
# earlier versions derived from function names, so keys already stored still match.
WITHDRAWALS: dict[str, tuple[str, Any]] = {
    "revoke": ("revoke_license", lifecycle.revoke_license),
    "suspend": ("suspend_license", lifecycle.suspend_license),
}


def withdraw_order(order_id: str, *, reason: str, revoke_issued: bool = True) -> dict[str, int]:
    """After a cancellation or refund: revoke (or, for a partial refund, suspend) what the order
    issued, and suspend what it changed on existing licenses for staff to review: the customer
    owned those before. Idempotent per order and reason."""
    holds.release(holds.order_holder(order_id))
    issued, changed = licenses_of_order(order_id)
    actor = _actor(order_id)
    counts = {"revoked": 0, "suspended": 0}
    ref = OrderLineRef(order_id, "")
    # Stored idempotency keys name the change explicitly: renaming a function must not
    # change them (they were built from function names before).
    plan = [(lid, "revoke" if revoke_issued else "suspend") for lid in issued]
    plan += [(lid, "suspend") for lid in changed]
    for license_id, verb in plan:
        key = f"{order_id}:{reason}:{WITHDRAWALS[verb][0]}:{license_id}"
        if _withdraw(WITHDRAWALS[verb][1], license_id, key, reason, actor, ref):
            counts["revoked" if verb == "revoke" else "suspended"] += 1
    return counts


def _withdraw(
    change: Any,
    license_id: int,
    key: str,
    reason: str,
    actor: str,
    ref: OrderLineRef | None = None,
) -> bool:
    """True if this call changed the license (not already done under this key, not already
    revoked or suspended some other way)."""
    if LicenseEvent.objects.filter(idempotency_key=key).exists():
        return False
    try:
        change(license_id, reason=reason, order_line=ref, idempotency_key=key, actor=actor)
    except LicenseError as exc:
        if exc.code in (LicenseErrorCode.LICENSE_REVOKED, LicenseErrorCode.INVALID_TRANSITION):
            return False  # already revoked or suspended: nothing to do
        raise
    return True


def expire_due(now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Periodic: suspend pending-payment licenses past their grace (up to ``batch`` a run),
    expire lapsed terms (every one, ``batch`` a page). ``skipped`` stays for callers: a license
    being renewed while the sweep runs is locked, left alone and counted nowhere."""
    now = now or timezone.now()
    counts = {"suspended": 0, "expired": 0, "skipped": 0}
    overdue: Iterable[int] = License.objects.filter(
        status=LicenseStatus.PENDING_PAYMENT, pending_payment_until__lte=now
    ).values_list("pk", flat=True)[:batch]
    for license_id in list(overdue):
        key = f"grace:{license_id}:suspend"
        if _withdraw(lifecycle.suspend_license, license_id, key, "payment overdue", "system"):
            counts["suspended"] += 1
    # Lapsed terms, a page at a time in a few statements each (whatever the page size), until
    # none is left: a renewal under way keeps its row locked and is left to the next sweep. A
    # live subscription's entitlement follows its periods (subscription billing rolls the term
    # over at each period's end, suspends and cancels it): not expired here.
    live_subscription = Q(kind=LicenseKind.SUBSCRIPTION) & Q(
        subscription__status__in=subscription_billing.LIVE
    )
    while expired := lifecycle.expire_lapsed(now=now, limit=batch, exclude=live_subscription):
        counts["expired"] += expired
        if expired < batch:
            break
    return counts
