"""Deterministic idempotency keys, refund attempts and notification de-duplication.

A key is ``slp:<payment id>:<action>:<amount in minor units>``; refunds add a sequence number,
so a second refund of the same amount is a new refund while a retry of one whose outcome is
unknown (a timeout) reuses its key and cannot refund twice.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from saleor_license_plugin.models import ProcessedNotification, RefundAttempt, RefundAttemptStatus

PREFIX = "slp"


def idempotency_key(
    payment_id: int | str, action: str, amount_minor: int = 0, sequence: int | None = None
) -> str:
    key = f"{PREFIX}:{payment_id}:{action}:{amount_minor}"
    return key if sequence is None else f"{key}:{sequence}"


def claim_refund(
    *, provider: str, payment_id: int | str, reference: str, amount_minor: int, currency: str
) -> tuple[RefundAttempt, bool]:
    """The attempt to send for this refund, and whether it is a retry: a pending attempt (its
    outcome unknown after a timeout) is reused with its key."""
    for _ in range(3):
        try:
            with transaction.atomic():
                attempts = list(
                    RefundAttempt.objects.select_for_update()
                    .filter(
                        provider=provider, payment_id=str(payment_id), amount_minor=amount_minor
                    )
                    .order_by("sequence")
                )
                for attempt in attempts:
                    if attempt.status == RefundAttemptStatus.PENDING:
                        return attempt, True
                sequence = len(attempts)
                created = RefundAttempt.objects.create(
                    provider=provider,
                    payment_id=str(payment_id),
                    reference=reference,
                    amount_minor=amount_minor,
                    currency=currency.upper(),
                    sequence=sequence,
                    idempotency_key=idempotency_key(payment_id, "refund", amount_minor, sequence),
                )
                return created, False
        except IntegrityError:  # a concurrent claim took this sequence number: read again
            continue
    raise RuntimeError("Could not claim a refund attempt.")  # pragma: no cover


def finish_refund(attempt: RefundAttempt, provider_refund_id: str) -> None:
    attempt.status = RefundAttemptStatus.SUCCEEDED
    attempt.provider_refund_id = provider_refund_id
    attempt.save(update_fields=["status", "provider_refund_id", "updated_at"])


def fail_refund(attempt: RefundAttempt) -> None:
    attempt.status = RefundAttemptStatus.FAILED
    attempt.save(update_fields=["status", "updated_at"])


def claim_notification(provider: str, event_id: str, reference: str = "") -> bool:
    """Record a notification; False if it was already recorded (a replay or a duplicate).

    Call inside the transaction that applies the notification.
    """
    try:
        with transaction.atomic():
            ProcessedNotification.objects.create(
                provider=provider, event_id=event_id[:255], reference=reference[:255]
            )
    except IntegrityError:
        return False
    return True


def note_notification_action(provider: str, event_id: str, action: str) -> None:
    ProcessedNotification.objects.filter(provider=provider, event_id=event_id[:255]).update(
        action=action
    )
