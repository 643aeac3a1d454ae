"""Renewal reminders: one sweep, exactly once per license, expiry and step, one email per
customer listing everything due, with a one-step renewal link and an unsubscribe link.

Exactly once: each (license, expiry kind, expiry, step) is claimed with one
``INSERT ... ON CONFLICT DO NOTHING`` per page before anything is sent; only the rows this
sweep inserted are reminded. The customer's email is an outbox message named by the claims'
batch, so a sweep that dies after claiming is finished by the next one, and two sweeps at once
remind once. Cost: licenses come in keyset pages of ``page_size`` (one query each, plus one
claim statement); only customers with something due cost an email.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings as django_settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from saleor_license_plugin.conf import LicenseSettings, get_settings
from saleor_license_plugin.fulfillment import outbox
from saleor_license_plugin.fulfillment.host import TaskHost
from saleor_license_plugin.licensing.errors import LicenseError
from saleor_license_plugin.licensing.offers import LineRequest, quote_line
from saleor_license_plugin.licensing.ports import Catalog
from saleor_license_plugin.licensing.renewals import (
    REMINDED,
    Due,
    ExpiryKind,
    due_for,
    make_link_token,
    make_unsubscribe_token,
    window,
)
from saleor_license_plugin.models import (
    CUSTOMER_OWNER_PREFIX,
    CustomerPreference,
    License,
    OutboxMessage,
    OutboxStatus,
    ReminderClaim,
)

logger = logging.getLogger(__name__)
KIND = "renewal_reminder"
RECOVER_DAYS = 3  # batches claimed this recently and never sent are finished by a later sweep


@dataclass
class ReminderReport:
    licenses_checked: int = 0
    pages: int = 0
    claimed: int = 0
    emails_sent: int = 0
    recovered: int = 0
    # Statements per page (counted when Django records queries: DEBUG or a test's capture).
    queries_per_page: list[int] = field(default_factory=list)


def _claim(dues: list[Due], batches: dict[int, str], now: datetime) -> set[tuple[int, str, int]]:
    """Insert the claims of one page; the (license, kind, step) this call inserted."""
    if not dues:
        return set()
    table = ReminderClaim._meta.db_table
    rows = [
        (d.license_id, d.kind.value, d.expires_at, d.step, batches[d.license_id], now) for d in dues
    ]
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    sql = (
        f"INSERT INTO {table} (license_id, kind, expires_at, step, batch, created_at) "  # noqa: S608
        f"VALUES {placeholders} ON CONFLICT DO NOTHING RETURNING license_id, kind, step"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])
        return {(int(pk), str(kind), int(step)) for pk, kind, step in cursor.fetchall()}


def _price(license: License, kind: ExpiryKind, catalog: Catalog | None, now: datetime) -> str:
    if catalog is None:
        return ""
    request = LineRequest(
        action=kind.line_action, variant_id=license.product_code, license=license, years=1
    )
    try:
        quote = quote_line(request, catalog, now).quote
    except LicenseError:
        return ""  # the product left the catalog: the link's checkout will say so
    return f"{quote.total.amount} {quote.total.currency}"


Item = tuple[License, ExpiryKind, datetime]


@dataclass(frozen=True)
class Run:
    """What every email of one sweep shares."""

    conf: LicenseSettings
    catalog: Catalog | None
    now: datetime


def _message(owner_id: str, email: str, items: list[Item], run: Run) -> EmailMultiAlternatives:
    conf, now = run.conf, run.now
    token = make_link_token(owner_id, [(lic.pk, kind) for lic, kind, _ in items])
    renewal_url = conf.renewal_url.replace("{token}", token) if conf.renewal_url else ""
    unsubscribe_url = ""
    if conf.public_api_url:
        base = conf.public_api_url.rstrip("/")
        unsubscribe_url = f"{base}/reminders/unsubscribe/?token={make_unsubscribe_token(owner_id)}"
    context: dict[str, Any] = {
        "items": [
            {
                "edition": lic.edition,
                "capacity": lic.capacity,
                "capacity_unit": lic.capacity_unit.replace("_", " "),
                "key_hint": lic.key_hint,
                "deployment": (
                    f"{lic.deployment.name} ({lic.deployment.public_id})" if lic.deployment else ""
                ),
                "what": "The license" if kind is ExpiryKind.TERM else "Maintenance",
                "expires_on": f"{expires_at:%Y-%m-%d}",
                "past": expires_at <= now,
                "price": _price(lic, kind, run.catalog, now),
            }
            for lic, kind, expires_at in items
        ],
        "renewal_url": renewal_url,
        "unsubscribe_url": unsubscribe_url,
    }
    message = EmailMultiAlternatives(
        subject="Your licenses are due for renewal",
        body=render_to_string("saleor_license_plugin/renewal_reminder.txt", context),
        from_email=getattr(django_settings, "DEFAULT_FROM_EMAIL", None),
        to=[email],
    )
    message.attach_alternative(
        render_to_string("saleor_license_plugin/renewal_reminder.html", context), "text/html"
    )
    if unsubscribe_url:  # RFC 2369 / RFC 8058 one-click unsubscribe
        message.extra_headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message.extra_headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def _send_batch(batch: str, run: Run) -> bool:
    """Send one customer's email of one sweep (the claims named ``batch``), once."""
    claims = list(
        ReminderClaim.objects.filter(batch=batch)
        .select_related("license__deployment")
        .order_by("pk")
    )
    if not claims or not claims[0].license.owner_email:
        return False
    license = claims[0].license
    items: list[Item] = []
    seen: set[tuple[int, str]] = set()
    for claim in claims:
        if (claim.license_id, claim.kind) not in seen:
            seen.add((claim.license_id, claim.kind))
            items.append((claim.license, ExpiryKind(claim.kind), claim.expires_at))
    return outbox.send_once(
        f"reminders:{batch}",
        kind=KIND,
        recipient=license.owner_email,
        build=partial(_message, license.owner_id, license.owner_email, items, run),
    )


def send_reminders(
    host: TaskHost, *, now: datetime | None = None, page_size: int = 500
) -> ReminderReport:
    """One sweep: claim what is due, page by page; then one email per customer."""
    now = now or timezone.now()
    conf = get_settings()
    report = ReminderReport()
    if not conf.reminders_enabled:
        return report
    schedule = conf.reminder_schedule
    low, high = window(now, schedule)
    opted_out = CustomerPreference.objects.filter(reminders_opted_out=True).values("owner_id")
    expiring = Q(term_expires_at__range=(low, high)) | Q(maintenance_expires_at__range=(low, high))
    candidates = (
        License.objects.filter(status__in=REMINDED)
        .filter(expiring)
        .exclude(owner_id__in=opted_out)
        .exclude(owner_email="")
        # An end customer without an account could not use the renewal link: its partner
        # renews for it (the renewals report).
        .exclude(owner_id__startswith=CUSTOMER_OWNER_PREFIX)
        .order_by("pk")
    )
    sweep = uuid.uuid4().hex[:12]
    batches: dict[str, str] = {}  # owner -> this sweep's batch for them
    last = 0
    while True:
        queries_before = len(connection.queries)
        page = list(candidates.filter(pk__gt=last)[:page_size])
        if not page:
            break
        report.pages += 1
        report.licenses_checked += len(page)
        last = page[-1].pk
        dues = [due for license in page for due in due_for(license, now, schedule)]
        owner_of = {license.pk: license.owner_id for license in page}
        for due in dues:
            owner = owner_of[due.license_id]
            batches.setdefault(owner, f"{sweep}:{uuid.uuid5(uuid.NAMESPACE_URL, owner).hex[:16]}")
        batch_of = {pk: batches[owner] for pk, owner in owner_of.items() if owner in batches}
        report.claimed += len(_claim(dues, batch_of, now))
        report.queries_per_page.append(len(connection.queries) - queries_before)
        if len(page) < page_size:
            break
    run = Run(conf, host.catalog(), now)
    claimed_batches = set(
        ReminderClaim.objects.filter(batch__in=list(batches.values())).values_list(
            "batch", flat=True
        )
    )
    for batch in sorted(claimed_batches):
        report.emails_sent += _send_batch(batch, run)
    report.recovered = _recover(run, exclude=set(batches.values()))
    logger.info(
        "Renewal reminders: %d license(s) in %d page(s), %d claimed, %d email(s), %d recovered",
        report.licenses_checked,
        report.pages,
        report.claimed,
        report.emails_sent,
        report.recovered,
    )
    return report


def _recover(run: Run, exclude: set[str]) -> int:
    """Batches that a dead (or refused) sweep claimed and never sent, sent now."""
    recent = set(
        ReminderClaim.objects.filter(created_at__gte=run.now - timedelta(days=RECOVER_DAYS))
        .exclude(batch__in=list(exclude))
        .values_list("batch", flat=True)
        .distinct()
    )
    if not recent:
        return 0
    done = set(
        OutboxMessage.objects.filter(
            key__in=[f"reminders:{batch}" for batch in recent], status=OutboxStatus.SENT
        ).values_list("key", flat=True)
    )
    return sum(
        _send_batch(batch, run) for batch in sorted(recent) if f"reminders:{batch}" not in done
    )


def set_opt_out(owner_id: str, opted_out: bool) -> CustomerPreference:
    preference, _ = CustomerPreference.objects.update_or_create(
        owner_id=owner_id,
        defaults={"reminders_opted_out": opted_out, "updated_at": timezone.now()},
    )
    return preference


def is_opted_out(owner_id: str) -> bool:
    return CustomerPreference.objects.filter(owner_id=owner_id, reminders_opted_out=True).exists()
