"""Stripe webhook handling: verify, de-duplicate, re-fetch, decide.

* The signature is checked on the raw body (``Stripe-Signature``, 5-minute tolerance).
* Each event id is recorded in :class:`ProcessedNotification` in the same transaction that
  applies it: a replay or duplicate delivery is ignored, a failed attempt leaves no record.
* The event body is not trusted for state: the PaymentIntent is re-fetched and its *current*
  state decides, so events arriving out of order (a late ``amount_capturable_updated`` after
  ``succeeded``) cannot move a payment backwards.
* Amount and currency are checked against the shop's payment before anything is applied.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from django.db import transaction
from stripe import error as stripe_error
from stripe.webhook import Webhook

from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.idempotency import claim_notification, note_notification_action
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
from saleor_license_plugin.payments.stripe import stripe_api
from saleor_license_plugin.payments.stripe.stripe_api import PROVIDER, IntentState, StripeConfig

logger = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300

INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.amount_capturable_updated",
        "payment_intent.processing",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
    }
)
REFUND_EVENTS = frozenset({"charge.refunded", "charge.refund.updated"})
DISPUTE_EVENTS = frozenset({"charge.dispute.created", "charge.dispute.funds_withdrawn"})


def verify_event(raw_body: bytes, sig_header: str | None, config: StripeConfig) -> Any:
    """The event if the signature is Stripe's for this endpoint; PaymentError otherwise."""
    if not config.webhook_secret:
        raise PaymentError(PaymentErrorCode.NOT_CONFIGURED, "Stripe webhook secret is not set.")
    if not sig_header:
        raise PaymentError(PaymentErrorCode.INVALID_SIGNATURE, "Missing Stripe-Signature header.")
    try:
        return Webhook.construct_event(
            raw_body,
            sig_header,
            config.webhook_secret,
            tolerance=TOLERANCE_SECONDS,
            api_key=config.secret_api_key,
        )
    except stripe_error.SignatureVerificationError:
        raise PaymentError(
            PaymentErrorCode.INVALID_SIGNATURE, "Stripe webhook signature is not valid."
        ) from None
    except ValueError:  # not JSON / not UTF-8
        raise PaymentError(
            PaymentErrorCode.INVALID_PAYLOAD, "Stripe webhook body is not valid."
        ) from None


def handle_webhook(
    raw_body: bytes,
    sig_header: str | None,
    config: StripeConfig,
    *,
    lookup: PaymentLookup,
    apply: ApplyOutcome | None = None,
) -> WebhookOutcome:
    """Verify and process one delivery; ``apply`` runs in the transaction that records it.

    Raises PaymentError for a bad signature or body (answer 400) and when Stripe cannot be
    reached to re-fetch the intent (answer 5xx so Stripe retries).
    """
    event = verify_event(raw_body, sig_header, config)
    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    if not event_id:
        raise PaymentError(PaymentErrorCode.INVALID_PAYLOAD, "Stripe event has no id.")
    obj = (event.get("data") or {}).get("object") or {}
    intent_id = _intent_id(event_type, obj)

    with transaction.atomic():
        if not claim_notification(PROVIDER, event_id, intent_id or ""):
            logger.info("Stripe event already processed", extra={"event_id": event_id})
            return ignored(IgnoreReason.DUPLICATE, intent_id or "", event_id)
        outcome = _decide(event_id, event_type, intent_id, config, lookup)
        note_notification_action(PROVIDER, event_id, outcome.action.value)
        if outcome.applies and apply is not None:
            apply(outcome)
    logger.info(
        "Stripe event processed",
        extra={
            "event_id": event_id,
            "event_type": event_type,
            "action": outcome.action.value,
            "reason": outcome.reason,
        },
    )
    return outcome


def _intent_id(event_type: str, obj: Any) -> str | None:
    if event_type in INTENT_EVENTS:
        return str(obj.get("id") or "") or None
    if event_type in REFUND_EVENTS or event_type in DISPUTE_EVENTS:
        value = obj.get("payment_intent")
        return stripe_api._id_of(value) if value else None
    return None


def _decide(
    event_id: str,
    event_type: str,
    intent_id: str | None,
    config: StripeConfig,
    lookup: PaymentLookup,
) -> WebhookOutcome:
    if intent_id is None:
        return ignored(IgnoreReason.UNHANDLED_EVENT, event_id=event_id)
    expected = lookup(intent_id)
    if expected is None:
        logger.info("Stripe event for an unknown payment", extra={"event_id": event_id})
        return ignored(IgnoreReason.UNKNOWN_PAYMENT, intent_id, event_id)

    intent = stripe_api.retrieve_payment_intent(config, intent_id)  # the truth, not the body
    mismatch = check_amount(expected, intent.amount, intent.currency, event_id)
    if mismatch is not None:
        logger.warning(
            "Stripe PaymentIntent disagrees with the payment",
            extra={"event_id": event_id, "reason": mismatch.reason},
        )
        return mismatch

    base = WebhookOutcome(
        WebhookAction.IGNORE,
        reference=intent.id,
        currency=intent.currency,
        payment_id=expected.payment_id,
        event_id=event_id,
    )
    if event_type in DISPUTE_EVENTS:
        return replace(base, action=WebhookAction.CHARGEBACK, amount=intent.amount)
    if event_type in REFUND_EVENTS:
        refunds = tuple(
            ProviderRefund(refund.id, refund.amount)
            for refund in stripe_api.list_refunds(config, intent.id)
            if refund.status == "succeeded"
        )
        total = sum(refund.amount for refund in refunds)
        return replace(base, action=WebhookAction.REFUND, amount=total, refunds=refunds)

    state = intent.state
    if state is IntentState.CAPTURED:
        return replace(base, action=WebhookAction.CAPTURE, amount=intent.amount_received)
    if state is IntentState.AUTHORIZED:
        amount = intent.amount_capturable or intent.amount
        return replace(base, action=WebhookAction.AUTHORIZE, amount=amount)
    if state is IntentState.PROCESSING:
        return replace(base, action=WebhookAction.PENDING, amount=intent.amount)
    if state in (IntentState.FAILED, IntentState.CANCELED):
        return replace(base, action=WebhookAction.FAIL, amount=intent.amount, reason=state.value)
    return ignored(IgnoreReason.AWAITING_CUSTOMER, intent.id, event_id)
