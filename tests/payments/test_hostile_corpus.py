"""A corpus of hostile and unlucky traffic for both providers: bad signatures, replays, wrong
amounts and currencies, unknown payments, timeouts, 5xx, wrong keys.

Afterwards: nothing was captured or refunded twice, and no secret (API keys, webhook secret)
appears in any log record or in any exception's message or formatted traceback.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from saleor_license_plugin.payments.multisafepay.client import (
    MultiSafepayClient,
    MultiSafepayConfig,
)
from saleor_license_plugin.payments.multisafepay.refunds import refund_order
from saleor_license_plugin.payments.multisafepay.webhooks import handle_notification
from saleor_license_plugin.payments.outcome import WebhookAction
from saleor_license_plugin.payments.stripe import stripe_api
from saleor_license_plugin.payments.stripe.stripe_api import StripeConfig
from saleor_license_plugin.payments.stripe.webhooks import handle_webhook
from tests.payments.conftest import (
    MSP_KEY,
    SECRETS,
    STRIPE_KEY,
    WEBHOOK_SECRET,
    stripe_event,
    stripe_signature,
)

pytestmark = pytest.mark.django_db


def test_hostile_corpus_applies_once_and_leaks_no_secret(
    stripe_config, msp, msp_client, payments, scripted, caplog
):
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []

    def attempt(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:
            errors.append(exc)
            return None

    slow_stripe = StripeConfig(
        secret_api_key=STRIPE_KEY,
        webhook_secret=WEBHOOK_SECRET,
        api_base=scripted.url,
        read_timeout=0.5,
    )
    bad_key = StripeConfig(secret_api_key="bad", api_base=stripe_config.api_base)

    # --- Stripe --------------------------------------------------------------------------------
    intent = stripe_api.create_payment_intent(
        stripe_config,
        payment_id=7001,
        amount=Decimal("80.00"),
        currency="EUR",
        payment_method_id="pm_card_visa",
    )
    other = stripe_api.create_payment_intent(
        stripe_config,
        payment_id=7002,
        amount=Decimal("80.00"),
        currency="EUR",
        payment_method_id="pm_card_visa",
    )
    stranger = stripe_api.create_payment_intent(
        stripe_config,
        payment_id=7003,
        amount=Decimal("80.00"),
        currency="EUR",
        payment_method_id="pm_card_visa",
    )
    payments.add(intent.id, "80.00", "EUR", "7001")
    payments.add(other.id, "80.00", "USD", "7002")  # currency disagrees

    def stripe_delivery(
        event_id: str,
        obj: dict,
        secret: str = WEBHOOK_SECRET,
        tamper=b"",
        config: StripeConfig = stripe_config,
        at: int | None = None,
    ):
        body = stripe_event(event_id, "payment_intent.succeeded", obj)
        return handle_webhook(
            body + tamper,
            stripe_signature(body, secret, at),
            config,
            lookup=payments.lookup,
            apply=payments.apply,
        )

    for _ in range(3):  # duplicate deliveries
        attempt(lambda: stripe_delivery("evt_corpus_1", {"id": intent.id}))
    attempt(lambda: stripe_delivery("evt_corpus_2", {"id": intent.id}))  # same state, new id
    attempt(lambda: stripe_delivery("evt_corpus_3", {"id": intent.id}, secret="whsec_forged"))
    attempt(lambda: stripe_delivery("evt_corpus_4", {"id": intent.id}, tamper=b"\n"))
    attempt(lambda: stripe_delivery("evt_corpus_5", {"id": intent.id}, at=int(time.time()) - 3600))
    attempt(lambda: stripe_delivery("evt_corpus_6", {"id": other.id}))  # wrong currency
    attempt(lambda: stripe_delivery("evt_corpus_7", {"id": stranger.id}))  # unknown payment
    scripted.stall(2.0)
    attempt(lambda: stripe_delivery("evt_corpus_8", {"id": intent.id}, config=slow_stripe))
    scripted.fail(500)
    attempt(lambda: stripe_delivery("evt_corpus_9", {"id": intent.id}, config=slow_stripe))
    attempt(lambda: stripe_api.retrieve_payment_intent(bad_key, intent.id))

    def stripe_refund(config: StripeConfig) -> Any:
        return stripe_api.refund_payment_intent(
            config, payment_id=7001, intent_id=intent.id, amount=Decimal("30.00"), currency="EUR"
        )

    scripted.stall(2.0)
    attempt(lambda: stripe_refund(slow_stripe))  # times out: pending
    scripted.fail(503)
    attempt(lambda: stripe_refund(slow_stripe))  # 5xx: still pending, same key
    attempt(lambda: stripe_refund(stripe_config))  # goes through with the pending key

    # --- MultiSafepay --------------------------------------------------------------------------
    def order(order_id: str, amount: int) -> None:
        msp_client.create_redirect_order(
            order_id=order_id,
            amount=amount,
            currency="EUR",
            description="d",
            notification_url="https://n",
            redirect_url="https://r",
            cancel_url="https://c",
        )
        msp.set_status(order_id, "completed")

    order("slp-c1", 8000)
    order("slp-c2", 8000)
    order("slp-c3", 8000)
    payments.add("slp-c1", "80.00", "EUR", "8001")
    payments.add("slp-c2", "79.00", "EUR", "8002")  # amount disagrees
    body, auth = msp.notification("slp-c1")
    for _ in range(3):  # replays
        attempt(
            lambda: handle_notification(
                body,
                auth,
                api_key=MSP_KEY,
                client=msp_client,
                lookup=payments.lookup,
                apply=payments.apply,
            )
        )

    def msp_delivery(order_id: str, **kwargs: Any) -> Any:
        b, a = msp.notification(order_id, **kwargs)
        return handle_notification(
            b, a, api_key=MSP_KEY, client=msp_client, lookup=payments.lookup, apply=payments.apply
        )

    attempt(lambda: msp_delivery("slp-c1", key="forged-key"))
    attempt(lambda: msp_delivery("slp-c1", timestamp=int(time.time()) - 3600))
    attempt(lambda: msp_delivery("slp-c2"))
    attempt(lambda: msp_delivery("slp-c3"))  # unknown payment
    msp.stall(2.0)
    attempt(lambda: msp_delivery("slp-c1", timestamp=int(time.time()) - 1))
    msp.fail(500)
    attempt(lambda: msp_delivery("slp-c1", timestamp=int(time.time()) - 2))
    wrong = MultiSafepayClient(MultiSafepayConfig(api_key="nope", base_url=msp.base_url))
    attempt(lambda: wrong.get_order("slp-c1"))

    def msp_refund() -> Any:
        return refund_order(
            msp_client, payment_id=8001, order_id="slp-c1", amount=3000, currency="EUR"
        )

    msp.answer_late(2.0, method="POST")
    attempt(msp_refund)  # made at MultiSafepay, answer lost
    msp.fail(502)
    attempt(msp_refund)  # the check for an earlier refund fails: nothing sent
    attempt(msp_refund)  # finds the earlier refund: nothing sent

    # --- nothing twice -------------------------------------------------------------------------
    # Only verified deliveries whose amount, currency and payment match are applied, each
    # event id / signed notification at most once (a *new* event for the same state is applied
    # again: the shop's side is idempotent on the payment's state).
    applied = [(o.event_id, o.reference, o.action) for o in payments.applied]
    assert applied[:2] == [
        ("evt_corpus_1", intent.id, WebhookAction.CAPTURE),
        ("evt_corpus_2", intent.id, WebhookAction.CAPTURE),
    ]
    assert [(ref, action) for _, ref, action in applied[2:]] == [("slp-c1", WebhookAction.CAPTURE)]
    assert Counter(event_id for event_id, _, _ in applied).most_common(1)[0][1] == 1
    stripe_refunds = stripe_api.list_refunds(stripe_config, intent.id)
    assert [r.amount for r in stripe_refunds] == [3000]
    assert len(msp.refund_requests) == 1 and msp.refunded_total["slp-c1"] == 3000

    # --- no secret anywhere --------------------------------------------------------------------
    assert len(errors) >= 15
    texts = [record.getMessage() + " " + repr(vars(record)) for record in caplog.records]
    texts += ["".join(traceback.format_exception(exc)) + repr(exc) for exc in errors]
    leaks = [(secret, text[:200]) for text in texts for secret in SECRETS if secret in text]
    assert leaks == []
