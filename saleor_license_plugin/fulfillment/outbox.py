"""Send each message, or perform each side effect, exactly once, or visibly not at all.

``send_once(key, ...)`` claims the message's row (unique ``key``) in its own transaction, sends
only if the claim is ours, and records the outcome. Concurrent runs (Celery redelivers a task
when a worker is slow past the visibility timeout; beat may run twice) find the claim and send
nothing. What can still repeat a message: a worker dying after the mail server took it and
before ``sent`` was recorded; a later run then sends it again once the claim's lease has run
out (at-least-once, never silently never). A refused message is marked ``failed`` with the
error's type, never its text (it may hold addresses or credentials); the reconciliation job
(``license_reconcile``) retries failed and stale messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from saleor_license_plugin.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

# A claim older than this is taken to be a dead worker's: the message may be sent again.
LEASE = timedelta(minutes=15)


def claim(key: str, *, kind: str, recipient: str, now: datetime | None = None) -> bool:
    """Take the message ``key`` for sending; False if it was sent or another run holds it."""
    now = now or timezone.now()
    with transaction.atomic():
        row, created = OutboxMessage.objects.select_for_update().get_or_create(
            key=key,
            defaults={
                "kind": kind,
                "recipient": recipient,
                "status": OutboxStatus.CLAIMED,
                "attempts": 1,
                "claimed_at": now,
            },
        )
        if created:
            return True
        if row.status == OutboxStatus.SENT:
            return False
        if row.status == OutboxStatus.CLAIMED and row.claimed_at > now - LEASE:
            return False  # another run is sending it right now
        row.status = OutboxStatus.CLAIMED
        row.attempts += 1
        row.claimed_at = now
        row.recipient = recipient
        row.save(update_fields=["status", "attempts", "claimed_at", "recipient"])
        return True


def _finish(key: str, status: str, error: str = "") -> None:
    OutboxMessage.objects.filter(key=key).update(
        status=status,
        sent_at=timezone.now() if status == OutboxStatus.SENT else None,
        last_error=error[:255],
    )


def once(
    key: str,
    *,
    kind: str,
    recipient: str,
    action: Callable[[], object],
    now: datetime | None = None,
) -> bool:
    """Run ``action`` (send a message, refund a line, add an order note) unless it was done
    or is being done under ``key``; True if this call did it. A failure is recorded (its
    type only) and logged, not raised: the reconciliation retries it."""
    if not claim(key, kind=kind, recipient=recipient, now=now):
        return False
    return perform(key, kind=kind, action=action)


def perform(key: str, *, kind: str, action: Callable[[], object]) -> bool:
    """Run the action of a message this run claimed, and record the outcome; True if it was
    done. Claiming in the transaction that decides the message (then performing after it
    commits) leaves no gap: should the worker die in between, the claim's lease runs out and
    ``due_for_retry`` finds it."""
    try:
        action()
    except Exception as exc:  # smtplib, socket, provider and backend errors alike
        _finish(key, OutboxStatus.FAILED, type(exc).__name__)
        logger.error("%s %s failed: %s", kind, key, type(exc).__name__)
        return False
    _finish(key, OutboxStatus.SENT)
    return True


def send_once(
    key: str,
    *,
    kind: str,
    recipient: str,
    build: Callable[[], EmailMessage],
    now: datetime | None = None,
) -> bool:
    """Build and send the message ``key`` unless it was sent or is being sent."""
    return once(
        key,
        kind=kind,
        recipient=recipient,
        action=lambda: build().send(fail_silently=False),
        now=now,
    )


def is_done(key: str) -> bool:
    return OutboxMessage.objects.filter(key=key, status=OutboxStatus.SENT).exists()


def due_for_retry(now: datetime | None = None, kind: str | None = None) -> list[OutboxMessage]:
    """Failed messages, and claims whose lease ran out (their worker died)."""
    now = now or timezone.now()
    rows = OutboxMessage.objects.filter(status=OutboxStatus.FAILED) | OutboxMessage.objects.filter(
        status=OutboxStatus.CLAIMED, claimed_at__lte=now - LEASE
    )
    if kind is not None:
        rows = rows.filter(kind=kind)
    return list(rows.order_by("pk")[:500])
