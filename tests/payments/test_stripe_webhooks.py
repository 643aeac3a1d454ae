"""Stripe webhooks: signed payloads built here, PaymentIntents re-fetched from localstripe."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

import pytest

from saleor_license_plugin.models import ProcessedNotification
from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.outcome import WebhookAction
from saleor_license_plugin.payments.stripe import stripe_api
from saleor_license_plugin.payments.stripe.stripe_api import StripeConfig
from saleor_license_plugin.payments.stripe.webhooks import handle_webhook
from tests.payments.conftest import STRIPE_KEY, WEBHOOK_SECRET, stripe_event, stripe_signature
from tests.payments.test_stripe_api import CARD_3DS, authenticate, card

pytestmark = pytest.mark.django_db
_events = itertools.count(1)


def new_event_id() -> str:
    return f"evt_test_{next(_events)}_{int(time.time() * 1000)}"


def paid_intent(config: StripeConfig, amount: str = "25.00", **kwargs) -> stripe_api.Intent:
    return stripe_api.create_payment_intent(
        config,
        payment_id=next(_events) + 50_000,
        amount=Decimal(amount),
        currency="EUR",
        payment_method_id="pm_card_visa",
        **kwargs,
    )


def deliver(config, payments, event_type, obj, event_id=None, secret=WEBHOOK_SECRET, at=None):
    body = stripe_event(event_id or new_event_id(), event_type, obj)
    return handle_webhook(
        body,
        stripe_signature(body, secret, at),
        config,
        lookup=payments.lookup,
        apply=payments.apply,
    )


def test_succeeded_event_captures_once_with_the_intents_amount(stripe_config, payments):
    intent = paid_intent(stripe_config)
    payments.add(intent.id, "25.00", "EUR", payment_id="7")
    outcome = deliver(stripe_config, payments, "payment_intent.succeeded", {"id": intent.id})
    assert (outcome.action, outcome.amount, outcome.currency, outcome.payment_id) == (
        WebhookAction.CAPTURE,
        2500,
        "EUR",
        "7",
    )
    assert payments.applied == [outcome]


def test_bad_signature_is_rejected_and_records_nothing(stripe_config, payments):
    intent = paid_intent(stripe_config)
    payments.add(intent.id, "25.00", "EUR")
    with pytest.raises(PaymentError) as excinfo:
        deliver(
            stripe_config,
            payments,
            "payment_intent.succeeded",
            {"id": intent.id},
            secret="whsec_other",
        )
    assert excinfo.value.code is PaymentErrorCode.INVALID_SIGNATURE
    assert payments.applied == [] and not ProcessedNotification.objects.exists()


def test_tampered_body_is_rejected(stripe_config, payments):
    intent = paid_intent(stripe_config)
    payments.add(intent.id, "25.00", "EUR")
    body = stripe_event(new_event_id(), "payment_intent.succeeded", {"id": intent.id})
    header = stripe_signature(body)
    with pytest.raises(PaymentError) as excinfo:
        handle_webhook(
            body + b" ", header, stripe_config, lookup=payments.lookup, apply=payments.apply
        )
    assert excinfo.value.code is PaymentErrorCode.INVALID_SIGNATURE
    assert payments.applied == []


def test_stale_signature_outside_tolerance_is_rejected(stripe_config, payments):
    intent = paid_intent(stripe_config)
    payments.add(intent.id, "25.00", "EUR")
    with pytest.raises(PaymentError) as excinfo:
        deliver(
            stripe_config,
            payments,
            "payment_intent.succeeded",
            {"id": intent.id},
            at=int(time.time()) - 900,
        )
    assert excinfo.value.code is PaymentErrorCode.INVALID_SIGNATURE


def test_missing_header_and_non_json_body_are_rejected(stripe_config, payments):
    with pytest.raises(PaymentError) as missing:
        handle_webhook(b"{}", None, stripe_config, lookup=payments.lookup)
    body = b"not json"
    with pytest.raises(PaymentError) as garbage:
        handle_webhook(body, stripe_signature(body), stripe_config, lookup=payments.lookup)
    assert missing.value.code is PaymentErrorCode.INVALID_SIGNATURE
    assert garbage.value.code is PaymentErrorCode.INVALID_PAYLOAD


def test_replayed_event_is_applied_once(stripe_config, payments):
    intent = paid_intent(stripe_config)
    payments.add(intent.id, "25.00", "EUR")
    event_id = new_event_id()
    first = deliver(
        stripe_config, payments, "payment_intent.succeeded", {"id": intent.id}, event_id
    )
    again = deliver(
        stripe_config, payments, "payment_intent.succeeded", {"id": intent.id}, event_id
    )
    assert first.action is WebhookAction.CAPTURE
    assert (again.action, again.reason) == (WebhookAction.IGNORE, "duplicate")
    assert len(payments.applied) == 1
    assert ProcessedNotification.objects.get(event_id=event_id).action == "capture"


def test_out_of_order_events_act_on_the_intents_current_state(stripe_config, payments):
    intent = paid_intent(stripe_config)  # already succeeded at Stripe
    payments.add(intent.id, "25.00", "EUR")
    # A late "authorized" and a stale "failed" event must not move the payment backwards.
    late = deliver(
        stripe_config, payments, "payment_intent.amount_capturable_updated", {"id": intent.id}
    )
    stale = deliver(
        stripe_config,
        payments,
        "payment_intent.payment_failed",
        {"id": intent.id, "status": "requires_payment_method"},
    )
    assert late.action is WebhookAction.CAPTURE and stale.action is WebhookAction.CAPTURE


def test_event_body_is_not_trusted_for_state(stripe_config, payments):
    intent = paid_intent(stripe_config, auto_capture=False)  # only authorized at Stripe
    payments.add(intent.id, "25.00", "EUR")
    body_lies = {"id": intent.id, "status": "succeeded", "amount_received": 2500}
    outcome = deliver(stripe_config, payments, "payment_intent.succeeded", body_lies)
    assert outcome.action is WebhookAction.AUTHORIZE


def test_failed_three_d_secure_becomes_a_fail_outcome(stripe_config, payments, localstripe):
    intent = stripe_api.create_payment_intent(
        stripe_config,
        payment_id=99_001,
        amount=Decimal("25.00"),
        currency="EUR",
        payment_method_id=card(localstripe, CARD_3DS),
    )
    authenticate(localstripe, intent, success=False)
    payments.add(intent.id, "25.00", "EUR")
    outcome = deliver(stripe_config, payments, "payment_intent.payment_failed", {"id": intent.id})
    assert outcome.action is WebhookAction.FAIL


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [("24.99", "EUR", "amount_mismatch"), ("25.00", "USD", "currency_mismatch")],
)
def test_wrong_amount_or_currency_is_not_applied(stripe_config, payments, amount, currency, reason):
    intent = paid_intent(stripe_config)
    payments.add(intent.id, amount, currency)
    outcome = deliver(stripe_config, payments, "payment_intent.succeeded", {"id": intent.id})
    assert (outcome.action, outcome.reason) == (WebhookAction.IGNORE, reason)
    assert payments.applied == []


def test_unknown_payment_is_acknowledged_and_ignored(stripe_config, payments):
    intent = paid_intent(stripe_config)  # e.g. paid through another integration on the account
    outcome = deliver(stripe_config, payments, "payment_intent.succeeded", {"id": intent.id})
    assert (outcome.action, outcome.reason) == (WebhookAction.IGNORE, "unknown_payment")
    assert payments.applied == []


def test_unhandled_event_types_are_ignored(stripe_config, payments):
    outcome = deliver(stripe_config, payments, "customer.created", {"id": "cus_1"})
    assert (outcome.action, outcome.reason) == (WebhookAction.IGNORE, "unhandled_event")


def test_refund_event_lists_the_refunds_at_stripe(stripe_config, payments):
    intent = paid_intent(stripe_config, "40.00")
    payments.add(intent.id, "40.00", "EUR")
    refund = stripe_api.refund_payment_intent(
        stripe_config,
        payment_id=12345,
        intent_id=intent.id,
        amount=Decimal("15.00"),
        currency="EUR",
    )
    outcome = deliver(
        stripe_config, payments, "charge.refunded", {"id": "ch_x", "payment_intent": intent.id}
    )
    assert outcome.action is WebhookAction.REFUND
    assert [(r.refund_id, r.amount) for r in outcome.refunds] == [(refund.id, 1500)]


def test_dispute_event_is_a_chargeback(stripe_config, payments):
    intent = paid_intent(stripe_config)
    payments.add(intent.id, "25.00", "EUR")
    outcome = deliver(
        stripe_config,
        payments,
        "charge.dispute.created",
        {"id": "dp_1", "payment_intent": intent.id},
    )
    assert outcome.action is WebhookAction.CHARGEBACK


def test_a_failure_while_applying_leaves_the_event_retryable(stripe_config, payments):
    intent = paid_intent(stripe_config)
    payments.add(intent.id, "25.00", "EUR")
    event_id = new_event_id()
    body = stripe_event(event_id, "payment_intent.succeeded", {"id": intent.id})

    def broken(outcome):
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        handle_webhook(
            body, stripe_signature(body), stripe_config, lookup=payments.lookup, apply=broken
        )
    assert not ProcessedNotification.objects.filter(event_id=event_id).exists()
    retried = handle_webhook(
        body, stripe_signature(body), stripe_config, lookup=payments.lookup, apply=payments.apply
    )
    assert retried.action is WebhookAction.CAPTURE and len(payments.applied) == 1


def test_stripe_unreachable_during_refetch_is_retryable(scripted, payments):
    scripted.stall(3.0)
    config = StripeConfig(
        secret_api_key=STRIPE_KEY,
        webhook_secret=WEBHOOK_SECRET,
        api_base=scripted.url,
        read_timeout=0.5,
    )
    payments.add("pi_abc", "25.00", "EUR")
    with pytest.raises(PaymentError) as excinfo:
        deliver(config, payments, "payment_intent.succeeded", {"id": "pi_abc"})
    assert excinfo.value.retryable and payments.applied == []
    assert not ProcessedNotification.objects.exists()


def test_without_a_webhook_secret_nothing_is_accepted(stripe_config, payments):
    config = StripeConfig(secret_api_key=STRIPE_KEY, api_base=stripe_config.api_base)
    body = stripe_event(new_event_id(), "payment_intent.succeeded", {"id": "pi_1"})
    with pytest.raises(PaymentError) as excinfo:
        handle_webhook(body, stripe_signature(body), config, lookup=payments.lookup)
    assert excinfo.value.code is PaymentErrorCode.NOT_CONFIGURED
