"""Auto-renew: before a license expires, renew it on the customer's saved card.

A beat task (``saleor_license_plugin.auto_renew``) finds licenses with auto-renew on whose term
(annual licenses) or maintenance (perpetual ones) ends within ``AUTO_RENEW_LEAD_DAYS``, and asks
the host to place a renewal order for each customer (one order may carry several licenses) and
charge it off-session: inside Saleor a checkout with the renewal lines, completed with the
saved card, so the normal paid-order path extends the licenses.

Each (license, expiry) has one :class:`~saleor_license_plugin.models.AutoRenewal` row, locked
for an attempt: nothing is charged twice for one period, whatever the retries, crashes or
concurrent schedulers. An attempt's reference (its checkout, so its payment and the provider's
idempotency key) is stored before charging, so an attempt interrupted mid-charge resumes with
the same reference. Outcomes: paid; declined, retried after ``AUTO_RENEW_RETRY_DAYS`` and then
given up (the license expires as usual; staff are emailed and the license's history says so);
the card needs 3-D Secure: the customer gets an email with a link that opens the renewal.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings as django_settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.fulfillment import outbox
from saleor_license_plugin.fulfillment.failures import staff_recipients
from saleor_license_plugin.fulfillment.host import TaskHost
from saleor_license_plugin.licensing.lifecycle import record_event
from saleor_license_plugin.licensing.renewals import ExpiryKind, make_link_token
from saleor_license_plugin.models import AutoRenewal, License, LicenseStatus, RenewalStatus

logger = logging.getLogger(__name__)
RENEWABLE = (LicenseStatus.ACTIVE, LicenseStatus.EXPIRED)
LEASE = timedelta(minutes=30)  # a CHARGING row older than this belongs to a dead worker


@dataclass(frozen=True)
class RenewalItem:
    license_id: int
    kind: ExpiryKind
    variant_id: str


@dataclass(frozen=True)
class RenewalRequest:
    """One renewal order to place and charge: one customer, gateway and channel."""

    owner_id: str
    gateway: str
    channel: str
    items: tuple[RenewalItem, ...]
    reference: str  # the attempt: reused if it is resumed


@dataclass(frozen=True)
class ChargeResult:
    outcome: str  # "paid", "declined", "action_required"
    order_id: str = ""
    message: str = ""


@dataclass
class AutoRenewReport:
    due: int = 0
    paid: list[str] = field(default_factory=list)  # order ids
    declined: int = 0
    action_required: int = 0
    failed: int = 0


def _expiry(license: License) -> tuple[ExpiryKind, datetime] | None:
    if license.term_expires_at is not None:
        return ExpiryKind.TERM, license.term_expires_at
    if license.maintenance_expires_at is not None:
        return ExpiryKind.MAINTENANCE, license.maintenance_expires_at
    return None


def _claim(license: License, expires_at: datetime, now: datetime) -> AutoRenewal | None:
    """Lock this period's row for an attempt, or None if it is paid, given up, waiting for a
    retry, or held by another attempt."""
    try:
        with transaction.atomic():
            AutoRenewal.objects.get_or_create(
                license=license, expires_at=expires_at, defaults={"next_attempt_at": now}
            )
    except IntegrityError:
        pass  # a concurrent scheduler created it
    with transaction.atomic():
        row = AutoRenewal.objects.select_for_update().get(license=license, expires_at=expires_at)
        stale_charge = row.status == RenewalStatus.CHARGING and row.updated_at < now - LEASE
        due = row.status == RenewalStatus.SCHEDULED and row.next_attempt_at <= now
        if not (due or stale_charge):
            return None
        if not stale_charge:
            row.attempts += 1
            row.reference = ""
        row.status = RenewalStatus.CHARGING
        row.updated_at = now
        row.save(update_fields=["status", "attempts", "reference", "updated_at"])
        return row


def _pay_link_message(owner_email: str, owner_id: str, items: list[RenewalItem]) -> EmailMessage:
    conf = get_settings()
    token = make_link_token(owner_id, [(item.license_id, item.kind) for item in items])
    link = conf.renewal_url.replace("{token}", token) if conf.renewal_url else ""
    body = "Your bank asks you to confirm the automatic renewal of your licenses.\n\n" + (
        f"Confirm and pay here: {link}\n" if link else "Please renew them in our shop.\n"
    )
    return EmailMessage(
        subject="Please confirm your license renewal",
        body=body,
        from_email=getattr(django_settings, "DEFAULT_FROM_EMAIL", None),
        to=[owner_email],
    )


def _gave_up_message(license: License, reason: str) -> EmailMessage:
    return EmailMessage(
        subject=f"[licenses] Auto-renew of license …{license.key_hint} failed",
        body=(
            f"The automatic renewal of license …{license.key_hint} ({license.edition}, "
            f"owner {license.owner_email or license.owner_id}) failed after its last retry: "
            f"{reason}. The license will expire as usual.\n"
        ),
        from_email=getattr(django_settings, "DEFAULT_FROM_EMAIL", None),
        to=staff_recipients(),
    )


def run_auto_renewals(host: TaskHost, *, now: datetime | None = None) -> AutoRenewReport:
    now = now or timezone.now()
    conf = get_settings()
    horizon = now + timedelta(days=conf.auto_renew_lead_days)
    report = AutoRenewReport()
    candidates = License.objects.filter(auto_renew=True, status__in=RENEWABLE).filter(
        Q(term_expires_at__lte=horizon)
        | Q(term_expires_at__isnull=True, maintenance_expires_at__lte=horizon)
    )
    groups: dict[tuple[str, str, str], list[tuple[License, AutoRenewal, ExpiryKind]]] = defaultdict(
        list
    )
    for license in candidates.order_by("pk"):
        expiry = _expiry(license)
        if expiry is None:
            continue
        row = _claim(license, expiry[1], now)
        if row is None:
            continue
        report.due += 1
        key = (license.owner_id, license.auto_renew_gateway, license.auto_renew_channel)
        groups[key].append((license, row, expiry[0]))
    for (owner_id, gateway, channel), members in groups.items():
        _attempt(host, owner_id, gateway, channel, members, now, report)
    logger.info(
        "Auto-renew: %d due, %d order(s) paid, %d declined, %d need the customer, %d given up",
        report.due,
        len(report.paid),
        report.declined,
        report.action_required,
        report.failed,
    )
    return report


def _attempt(
    host: TaskHost,
    owner_id: str,
    gateway: str,
    channel: str,
    members: list[tuple[License, AutoRenewal, ExpiryKind]],
    now: datetime,
    report: AutoRenewReport,
) -> None:
    rows = [row for _, row, _ in members]
    # One reference per attempt: resumed (the same checkout, the same provider idempotency
    # key) if a previous worker died holding these rows.
    reference = next((row.reference for row in rows if row.reference), "")
    if not reference:
        reference = f"autorenew:{rows[0].pk}:{rows[0].attempts}"
        AutoRenewal.objects.filter(pk__in=[row.pk for row in rows]).update(reference=reference)
    items = tuple(
        RenewalItem(license.pk, kind, license.product_code) for license, _, kind in members
    )
    request = RenewalRequest(owner_id, gateway, channel, items, reference)
    try:
        result = host.charge_renewal(request)
    except Exception as exc:  # the host could not even try: retry like a decline
        logger.error("Auto-renew for %s could not be attempted: %s", owner_id, type(exc).__name__)
        result = ChargeResult("declined", message=type(exc).__name__)
    if result.outcome == "paid":
        report.paid.append(result.order_id)
        _finish(rows, RenewalStatus.PAID, result, now)
        for license, _, _ in members:
            note = f"auto-renewed by order {result.order_id}"
            record_event(license, "auto_renewed", actor="system:auto-renew", before=None, note=note)
        return
    if result.outcome == "action_required":
        report.action_required += 1
        _finish(rows, RenewalStatus.ACTION_REQUIRED, result, now)
        license = members[0][0]
        if license.owner_email:
            outbox.send_once(
                f"autorenew:{reference}:pay-link",
                kind="auto_renew_pay_link",
                recipient=license.owner_email,
                build=partial(_pay_link_message, license.owner_email, owner_id, list(items)),
            )
        return
    report.declined += 1
    retry_days = get_settings().auto_renew_retry_days
    for license, row, _ in members:
        if row.attempts <= len(retry_days):
            _finish([row], RenewalStatus.SCHEDULED, result, now, retry_days[row.attempts - 1])
            continue
        report.failed += 1
        _finish([row], RenewalStatus.FAILED, result, now)
        record_event(
            license,
            "auto_renew_failed",
            actor="system:auto-renew",
            before=None,
            note=f"gave up after {row.attempts} attempt(s): {result.message}"[:255],
        )
        if staff_recipients():
            outbox.send_once(
                f"autorenew:{row.pk}:gave-up",
                kind="staff_alert",
                recipient=",".join(staff_recipients())[:254],
                build=partial(_gave_up_message, license, result.message),
            )


def _finish(
    rows: list[AutoRenewal],
    status: str,
    result: ChargeResult,
    now: datetime,
    retry_in_days: int | None = None,
) -> None:
    update: dict[str, Any] = {
        "status": status,
        "order_id": result.order_id,
        "last_outcome": f"{result.outcome}: {result.message}"[:255],
        "updated_at": now,
    }
    if retry_in_days is not None:
        update["next_attempt_at"] = now + timedelta(days=retry_in_days)
    AutoRenewal.objects.filter(pk__in=[row.pk for row in rows]).update(**update)
