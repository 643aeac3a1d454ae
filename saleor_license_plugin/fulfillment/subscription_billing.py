"""Subscription billing run: close ended periods, collect the bills, apply the grace.

The beat task ``saleor_license_plugin.bill_subscriptions`` (or ``manage.py
subscription_billing``) runs, in order:

1. ``close_periods``: every live subscription whose period ended rolls over and gets its bill
   (``licensing.subscription_billing``);
2. ``finalize_arrears``: post-paid bills past the late-report window are fixed at the period's
   peak and the period closes;
3. charging: each due bill is claimed under a row lock (one attempt at a time, whatever the
   schedulers) and charged through the task host exactly like an auto-renewal: inside Saleor a
   checkout holding one bill line, completed off-session on the card saved when the
   subscription was bought (``TaskHost.charge_bill``). The attempt's reference is stored before
   the charge, so an attempt interrupted mid-charge resumes with the same checkout, payment and
   provider idempotency key. Declined: retried after ``AUTO_RENEW_RETRY_DAYS``, then left
   unpaid. No saved card, retries spent, or the card needs the customer (3-D Secure): the bill
   stays unpaid for the customer to pay, and the customer is emailed how, once per bill. Any
   bill not collected makes the subscription past due.
4. ``apply_grace``: past due → suspended → cancelled.

Staff (``STAFF_EMAILS``, else Django's ``ADMINS``) get one email per bill and outcome (outbox
keys ``subscription-bill:<id>:staff:<outcome>``): ``gave-up`` when a saved card's retries are
spent, ``suspended`` and ``cancelled`` when the grace suspends or cancels a subscription for
that unpaid bill (its oldest). An email the mail server refused, or whose worker died, is sent
again by the next run (``retry_staff_alerts``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings as django_settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from saleor_license_plugin.conf import get_settings, using
from saleor_license_plugin.fulfillment import outbox
from saleor_license_plugin.fulfillment.autorenew import ChargeResult
from saleor_license_plugin.fulfillment.failures import staff_recipients
from saleor_license_plugin.fulfillment.host import TaskHost
from saleor_license_plugin.licensing import subscription_billing as billing
from saleor_license_plugin.models import BillStatus, SubscriptionBill

logger = logging.getLogger(__name__)
LEASE = timedelta(minutes=30)  # a CHARGING bill older than this belongs to a dead worker
STAFF_KIND = "subscription_staff_alert"
GAVE_UP, SUSPENDED, CANCELLED = "gave-up", "suspended", "cancelled"


@dataclass(frozen=True)
class BillRequest:
    """One bill to charge off-session: the subscription's owner, the gateway holding the card
    saved at the purchase and the channel the subscription was bought in."""

    bill_id: int
    owner_id: str
    gateway: str
    channel: str
    reference: str  # the attempt: reused if it is resumed
    amount: Decimal
    currency: str


@dataclass
class BillingReport:
    close: billing.CloseReport = field(default_factory=billing.CloseReport)
    finalize: billing.FinalizeReport = field(default_factory=billing.FinalizeReport)
    charged: int = 0  # attempts made
    paid: list[str] = field(default_factory=list)  # order ids
    declined: int = 0  # to be retried
    unpaid: int = 0  # left for the customer to pay (no card, retries spent, 3-D Secure)
    grace: billing.GraceReport = field(default_factory=billing.GraceReport)
    charge_pages: int = 0


def run_subscription_billing(
    host: TaskHost, *, now: datetime | None = None, page_size: int = billing.PAGE_SIZE
) -> BillingReport:
    """One billing run with the settings the plugin's hooks see (inside Saleor: the
    Dashboard's grace and late-report days over the Django settings)."""
    with using(host.license_settings()):
        return _run(host, now or timezone.now(), page_size)


def _run(host: TaskHost, now: datetime, page_size: int) -> BillingReport:
    conf = get_settings()
    catalogs: dict[str, Any] = {}

    def catalog(channel: str) -> Any:
        """Bills are priced in the channel the subscription was bought in (one catalog per
        channel and run); the host's default catalog when that is not known."""
        if channel not in catalogs:
            catalogs[channel] = host.catalog_for_channel(channel) if channel else host.catalog()
        return catalogs[channel]

    report = BillingReport()
    retry_staff_alerts(now)
    report.close = billing.close_periods(catalog, now=now, page_size=page_size)
    report.finalize = billing.finalize_arrears(catalog, now=now, conf=conf, page_size=page_size)
    charge_due(host, now, page_size, report)
    claimed: list[tuple[int, str]] = []

    def claim_alert(subscription_id: int, bill_id: int, outcome: str) -> None:
        if _claim_staff_alert(bill_id, outcome, now):
            claimed.append((bill_id, outcome))

    report.grace = billing.apply_grace(now=now, conf=conf, on_change=claim_alert)
    for bill_id, outcome in claimed:
        _send_staff_alert(bill_id, outcome)
    logger.info(
        "Subscription billing: %d period(s) rolled, %d bill(s) created, %d issued at the peak, "
        "%d paid, %d declined, %d left unpaid, %d suspended, %d cancelled",
        report.close.rolled,
        report.close.bills,
        report.finalize.issued,
        len(report.paid),
        report.declined,
        report.unpaid,
        len(report.grace.suspended),
        len(report.grace.cancelled),
    )
    return report


def _due(now: datetime) -> Q:
    return Q(status=BillStatus.DUE, next_attempt_at__lte=now) | Q(
        status=BillStatus.CHARGING, updated_at__lt=now - LEASE
    )


def _claim_page(now: datetime, cursor: int, page_size: int) -> list[SubscriptionBill]:
    """Take a page of due bills for this run: rows locked ``SKIP LOCKED`` (a concurrent run
    takes others) and marked CHARGING in the same transaction, so no other run attempts them
    until this one records the outcome (or its lease runs out: the attempt resumes)."""
    with transaction.atomic():
        page = list(
            SubscriptionBill.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription__license")
            .filter(_due(now), pk__gt=cursor)
            .order_by("pk")[:page_size]
        )
        for bill in page:
            if bill.status == BillStatus.DUE:  # a new attempt; a stale CHARGING one resumes
                bill.attempts += 1
                # The attempt's reference (its checkout, payment and provider idempotency
                # key), stored before any charge.
                bill.reference = f"subscription-bill:{bill.pk}:{bill.attempts}"
            bill.status = BillStatus.CHARGING
            bill.updated_at = now
        billing.update_rows(
            SubscriptionBill, page, ["status", "attempts", "reference", "updated_at"]
        )
    return page


def charge_due(host: TaskHost, now: datetime, page_size: int, report: BillingReport) -> None:
    cursor = 0
    while True:
        page = _claim_page(now, cursor, page_size)
        if not page:
            return
        report.charge_pages += 1
        cursor = page[-1].pk
        offline = [bill for bill in page if not bill.subscription.license.auto_renew_gateway]
        for bill in page:
            if bill.subscription.license.auto_renew_gateway:
                _attempt(host, bill, now, report)
        if offline:
            _leave_unpaid(offline, ChargeResult("unpaid", message="no saved card"), now, report)


def _attempt(host: TaskHost, bill: SubscriptionBill, now: datetime, report: BillingReport) -> None:
    license = bill.subscription.license
    reference = bill.reference
    request = BillRequest(
        bill_id=bill.pk,
        owner_id=license.owner_id,
        gateway=license.auto_renew_gateway,
        channel=license.auto_renew_channel,
        reference=reference,
        amount=bill.amount or Decimal("0"),
        currency=bill.currency,
    )
    report.charged += 1
    try:
        result = host.charge_bill(request)
    except Exception as exc:  # the host could not even try: retried like a decline
        logger.error("Bill %s could not be charged: %s", bill.pk, type(exc).__name__)
        result = ChargeResult("declined", message=type(exc).__name__)
    if result.outcome == "paid":
        report.paid.append(result.order_id)
        billing.settle(bill.pk, order_id=result.order_id, now=now)
        return
    if result.outcome == "action_required":
        _leave_unpaid([bill], result, now, report)
        return
    retry_days = get_settings().auto_renew_retry_days
    if bill.attempts <= len(retry_days):
        report.declined += 1
        _finish(
            [bill],
            BillStatus.DUE,
            result,
            now,
            next_attempt_at=now + timedelta(days=retry_days[bill.attempts - 1]),
        )
        billing.mark_past_due([bill.subscription_id])
        return
    _leave_unpaid([bill], result, now, report, staff_outcome=GAVE_UP)


def _finish(
    bills: list[SubscriptionBill],
    status: str,
    result: ChargeResult,
    now: datetime,
    next_attempt_at: datetime | None = None,
) -> int:
    """Record an attempt's outcome on bills this run still holds (a bill a paid order
    settled meanwhile stays paid)."""
    update: dict[str, Any] = {
        "status": status,
        "last_outcome": f"{result.outcome}: {result.message}"[:255],
        "updated_at": now,
    }
    if result.order_id:
        update["order_id"] = result.order_id
    if next_attempt_at is not None:
        update["next_attempt_at"] = next_attempt_at
    return SubscriptionBill.objects.filter(
        pk__in=[bill.pk for bill in bills], status=BillStatus.CHARGING
    ).update(**update)


def _leave_unpaid(
    bills: list[SubscriptionBill],
    result: ChargeResult,
    now: datetime,
    report: BillingReport,
    staff_outcome: str = "",
) -> None:
    """Not collected: the customer pays it (the email says how, once per bill); past due.
    With ``staff_outcome`` (one bill) staff are told too, their email claimed in the
    transaction that records the outcome."""
    with transaction.atomic():
        left = _finish(bills, BillStatus.UNPAID, result, now)
        alert = bool(staff_outcome and left and _claim_staff_alert(bills[0].pk, staff_outcome, now))
    if alert:
        _send_staff_alert(bills[0].pk, staff_outcome)
    billing.mark_past_due([bill.subscription_id for bill in bills])
    report.unpaid += len(bills)
    for bill in bills:
        recipient = bill.subscription.license.owner_email
        if recipient:
            outbox.send_once(
                f"subscription-bill:{bill.pk}:pay",
                kind="subscription_bill",
                recipient=recipient,
                build=partial(_pay_message, bill, recipient, result.outcome),
                now=now,
            )


def _pay_message(bill: SubscriptionBill, recipient: str, outcome: str) -> EmailMessage:
    subscription = bill.subscription
    why = {
        "action_required": "Your bank asks you to confirm this payment, so it was not charged.",
        "declined": "Your card was declined.",
    }.get(outcome, "There is no card on file for this subscription.")
    conf = get_settings()
    body = (
        f"Your bill for {subscription.plan} ({subscription.domain}) is due: "
        f"{bill.amount} {bill.currency} for {bill.period_start:%Y-%m-%d} to "
        f"{bill.period_end:%Y-%m-%d}"
        + (f", {bill.users} users at the period's peak" if bill.users is not None else "")
        + f".\n\n{why}\n\n"
        "Pay it from your subscriptions in our shop (subscription bill "
        f"SB-{bill.pk}), or by bank transfer quoting reference SB-{bill.pk}.\n"
        f"If it is not paid within {conf.subscription_grace_days} days the subscription is "
        "suspended.\n"
    )
    return EmailMessage(
        subject=f"Subscription bill SB-{bill.pk}: {bill.amount} {bill.currency} due",
        body=body,
        from_email=getattr(django_settings, "DEFAULT_FROM_EMAIL", None),
        to=[recipient],
    )


# --- staff ---------------------------------------------------------------------------------


def staff_key(bill_id: int, outcome: str) -> str:
    return f"subscription-bill:{bill_id}:staff:{outcome}"


def _claim_staff_alert(bill_id: int, outcome: str, now: datetime) -> bool:
    """Claim the staff email of a bill's outcome, in the transaction that records the outcome:
    True for the one run that sends it (``_send_staff_alert`` once that commits). Should the
    worker die before sending, the claim's lease runs out and ``retry_staff_alerts`` sends it.
    False when no staff address is configured."""
    staff = staff_recipients()
    if not staff:
        return False
    key = staff_key(bill_id, outcome)
    return outbox.claim(key, kind=STAFF_KIND, recipient=",".join(staff)[:254], now=now)


def _send_staff_alert(bill_id: int, outcome: str) -> bool:
    def send() -> None:
        _staff_message(bill_id, outcome, staff_recipients()).send(fail_silently=False)

    return outbox.perform(staff_key(bill_id, outcome), kind=STAFF_KIND, action=send)


def retry_staff_alerts(now: datetime) -> int:
    """Send the staff emails a mail server refused or a dead worker held, once each."""
    sent = 0
    for message in outbox.due_for_retry(now, kind=STAFF_KIND):
        _, bill_id, _, outcome = message.key.split(":")
        if _claim_staff_alert(int(bill_id), outcome, now):
            sent += _send_staff_alert(int(bill_id), outcome)
    return sent


def _staff_message(bill_id: int, outcome: str, staff: list[str]) -> EmailMessage:
    bill = SubscriptionBill.objects.select_related("subscription__license").get(pk=bill_id)
    subscription = bill.subscription
    license = subscription.license
    conf = get_settings()
    what = {
        GAVE_UP: (
            "was not collected",
            f"Charging the saved card failed {bill.attempts} time(s), the last retry included. "
            "The bill is left for the customer to pay (they were emailed how); the subscription "
            f"is past due and is suspended {conf.subscription_grace_days} day(s) after the "
            "bill was issued unless it is paid.",
        ),
        SUSPENDED: (
            "suspended the subscription",
            f"The subscription ({subscription.domain}) and its license are suspended for "
            f"non-payment. It is cancelled {conf.subscription_cancel_days} day(s) from now "
            "unless the bill is paid; paying it reactivates the subscription.",
        ),
        CANCELLED: (
            "cancelled the subscription",
            f"The subscription ({subscription.domain}) was cancelled for non-payment: its "
            "license is revoked and its unpaid bills are written off.",
        ),
    }[outcome]
    body = (
        f"Subscription bill SB-{bill.pk} {what[0]}.\n\n{what[1]}\n\n"
        f"Plan: {subscription.plan} ({subscription.mode}), license …{license.key_hint}\n"
        f"Customer: {license.owner_email or license.owner_id}"
        + (f", {subscription.company}" if subscription.company else "")
        + f"\nBill: {bill.amount} {bill.currency} for {bill.period_start:%Y-%m-%d} to "
        f"{bill.period_end:%Y-%m-%d}, issued {bill.issued_at:%Y-%m-%d}\n"
        f"Last attempt: {bill.last_outcome or '-'}\n"
    )
    return EmailMessage(
        subject=f"[licenses] Subscription bill SB-{bill.pk} {what[0]}",
        body=body,
        from_email=getattr(django_settings, "DEFAULT_FROM_EMAIL", None),
        to=staff,
    )
