"""MultiSafepay notifications (POST webhooks): verify, de-duplicate, re-fetch, decide.

MultiSafepay signs a POST notification with an ``Auth`` header: base64 of
``"<timestamp>:<hex HMAC-SHA512>"``, the HMAC keyed with the site's API key over
``"<timestamp>:<raw body>"`` (as their PHP SDK's ``Notification::verifyNotification`` does,
with a 600-second window). The body names the order; its status is *not* trusted: the order is
fetched from the API and that answer decides.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from dataclasses import replace

from django.db import transaction

from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.idempotency import claim_notification, note_notification_action
from saleor_license_plugin.payments.multisafepay.client import MultiSafepayClient, Order
from saleor_license_plugin.payments.multisafepay.statuses import PaymentState, payment_state
from saleor_license_plugin.payments.outcome import (
    ApplyOutcome,
    IgnoreReason,
    PaymentLookup,
    ProviderRefund,
    WebhookAction,
    WebhookOutcome,
    check_amount,
    ignored,
)

logger = logging.getLogger(__name__)

PROVIDER = "multisafepay"
VALIDATION_WINDOW_SECONDS = 600


def sign(raw_body: bytes, api_key: str, timestamp: int | str) -> str:
    """The ``Auth`` header MultiSafepay sends for this body (used by tests and tooling)."""
    digest = hmac.new(
        api_key.strip().encode(), f"{timestamp}:".encode() + raw_body, hashlib.sha512
    ).hexdigest()
    return base64.b64encode(f"{timestamp}:{digest}".encode()).decode()


def verify_signature(
    raw_body: bytes,
    auth_header: str | None,
    api_key: str,
    *,
    now: float | None = None,
    window: int = VALIDATION_WINDOW_SECONDS,
) -> None:
    """Raise PaymentError unless ``auth_header`` signs ``raw_body`` within the time window."""
    if not api_key:
        raise PaymentError(PaymentErrorCode.NOT_CONFIGURED, "MultiSafepay API key is not set.")
    if not auth_header:
        raise PaymentError(PaymentErrorCode.INVALID_SIGNATURE, "Missing Auth header.")
    try:
        decoded = base64.b64decode(auth_header.strip(), validate=True).decode("ascii")
        timestamp_text, signature = decoded.split(":", 1)
        timestamp = float(timestamp_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise PaymentError(
            PaymentErrorCode.INVALID_SIGNATURE, "Malformed MultiSafepay Auth header."
        ) from None
    expected = hmac.new(
        api_key.strip().encode(), timestamp_text.encode() + b":" + raw_body, hashlib.sha512
    ).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise PaymentError(
            PaymentErrorCode.INVALID_SIGNATURE, "MultiSafepay notification signature is not valid."
        )
    current = time.time() if now is None else now
    if abs(current - timestamp) > window:
        raise PaymentError(
            PaymentErrorCode.STALE_NOTIFICATION, "MultiSafepay notification is too old."
        )


def notification_order_id(raw_body: bytes) -> str:
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise PaymentError(
            PaymentErrorCode.INVALID_PAYLOAD, "MultiSafepay notification is not JSON."
        ) from None
    order_id = body.get("order_id") if isinstance(body, dict) else None
    if not order_id:
        raise PaymentError(PaymentErrorCode.INVALID_PAYLOAD, "Notification names no order.")
    return str(order_id)


def handle_notification(
    raw_body: bytes,
    auth_header: str | None,
    *,
    api_key: str,
    client: MultiSafepayClient,
    lookup: PaymentLookup,
    apply: ApplyOutcome | None = None,
    now: float | None = None,
) -> WebhookOutcome:
    """Verify and process one notification; ``apply`` runs in the transaction that records it.

    Raises PaymentError for a bad or stale signature or body (answer 400), and when the order
    cannot be fetched (answer 5xx: MultiSafepay retries).
    """
    verify_signature(raw_body, auth_header, api_key, now=now)
    order_id = notification_order_id(raw_body)
    # The signed header is unique per delivery; a replay of the same delivery carries it again.
    event_id = hashlib.sha256(auth_header.encode() if auth_header else b"").hexdigest()

    with transaction.atomic():
        if not claim_notification(PROVIDER, event_id, order_id):
            logger.info("MultiSafepay notification already processed")
            return ignored(IgnoreReason.DUPLICATE, order_id, event_id)
        outcome = decide(order_id, client=client, lookup=lookup, event_id=event_id)
        note_notification_action(PROVIDER, event_id, outcome.action.value)
        if outcome.applies and apply is not None:
            apply(outcome)
    logger.info(
        "MultiSafepay notification processed",
        extra={"action": outcome.action.value, "reason": outcome.reason},
    )
    return outcome


def decide(
    order_id: str, *, client: MultiSafepayClient, lookup: PaymentLookup, event_id: str = ""
) -> WebhookOutcome:
    """What the order's state at MultiSafepay (fetched now) means for our payment."""
    expected = lookup(order_id)
    if expected is None:
        return ignored(IgnoreReason.UNKNOWN_PAYMENT, order_id, event_id)
    order = client.get_order(order_id)
    mismatch = check_amount(expected, order.amount, order.currency, event_id)
    if mismatch is not None:
        logger.warning(
            "MultiSafepay order disagrees with the payment", extra={"reason": mismatch.reason}
        )
        return mismatch
    return outcome_for(order, payment_id=expected.payment_id, event_id=event_id)


def outcome_for(order: Order, *, payment_id: str = "", event_id: str = "") -> WebhookOutcome:
    base = WebhookOutcome(
        WebhookAction.IGNORE,
        reference=order.order_id,
        currency=order.currency,
        payment_id=payment_id,
        event_id=event_id,
    )
    state = payment_state(order.status)
    if state is PaymentState.PAID:
        return replace(base, action=WebhookAction.CAPTURE, amount=order.amount)
    if state is PaymentState.PENDING:
        return replace(base, action=WebhookAction.PENDING, amount=order.amount)
    if state is PaymentState.FAILED:
        return replace(base, action=WebhookAction.FAIL, amount=order.amount, reason=order.status)
    if state is PaymentState.CHARGEBACK:
        return replace(base, action=WebhookAction.CHARGEBACK, amount=order.amount)
    if state is PaymentState.REFUNDED:
        refunds = tuple(
            ProviderRefund(t.transaction_id, abs(t.amount))
            for t in order.refunds
            if t.status.lower() in ("completed", "")
        )
        if not refunds and order.status.lower() == "refunded":
            refunds = (ProviderRefund(f"{order.order_id}:refunded", order.amount),)
        total = sum(r.amount for r in refunds)
        return replace(base, action=WebhookAction.REFUND, amount=total, refunds=refunds)
    return ignored(IgnoreReason.AWAITING_CUSTOMER, order.order_id, event_id)
