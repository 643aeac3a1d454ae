"""Stripe PaymentIntents against a real localstripe server."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
import requests
import stripe

from saleor_license_plugin.models import RefundAttempt, RefundAttemptStatus
from saleor_license_plugin.payments import idempotency
from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.stripe import stripe_api
from saleor_license_plugin.payments.stripe.stripe_api import IntentState, StripeConfig
from tests.payments.conftest import STRIPE_KEY
from tests.payments.httpservers import RecordingProxy, ScriptedServer

pytestmark = pytest.mark.django_db
_ids = itertools.count(1000)

CARD_3DS = "4000002760003184"  # requires authentication
CARD_OK = "4242424242424242"


def payment_id() -> int:
    return next(_ids)


def card(localstripe: str, number: str) -> str:
    """A PaymentMethod, as Stripe.js would create it in the customer's browser."""
    response = requests.post(
        f"{localstripe}/v1/payment_methods",
        data={
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
        auth=(STRIPE_KEY, ""),
        timeout=5,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def authenticate(localstripe: str, intent: stripe_api.Intent, success: bool) -> None:
    """The customer passing (or failing) 3-D Secure: localstripe's stand-in for Stripe.js."""
    response = requests.post(
        f"{localstripe}/v1/payment_intents/{intent.id}/_authenticate",
        data={"client_secret": intent.client_secret, "success": str(success).lower()},
        auth=(STRIPE_KEY, ""),
        timeout=5,
    )
    response.raise_for_status()


def create(config: StripeConfig, pid: int, amount: str = "49.90", **kwargs) -> stripe_api.Intent:
    return stripe_api.create_payment_intent(
        config, payment_id=pid, amount=Decimal(amount), currency="EUR", **kwargs
    )


def test_automatic_capture_charges_the_card_in_minor_units(stripe_config):
    intent = create(stripe_config, payment_id(), payment_method_id="pm_card_visa")
    assert intent.state is IntentState.CAPTURED
    assert (intent.amount, intent.amount_received, intent.currency) == (4990, 4990, "EUR")
    assert intent.metadata[stripe_api.METADATA_GATEWAY] == stripe_config.gateway_id


def test_manual_capture_authorizes_then_captures_a_partial_amount(stripe_config):
    pid = payment_id()
    intent = create(
        stripe_config, pid, "100.00", payment_method_id="pm_card_visa", auto_capture=False
    )
    assert intent.state is IntentState.AUTHORIZED and intent.amount_received == 0
    captured = stripe_api.capture_payment_intent(
        stripe_config, payment_id=pid, intent_id=intent.id, amount=Decimal("60.00"), currency="EUR"
    )
    # localstripe records the capture but not the partial amount (see the proxy test for the
    # amount_to_capture sent).
    assert captured.state is IntentState.CAPTURED


def test_void_cancels_an_authorized_intent(stripe_config):
    pid = payment_id()
    intent = create(stripe_config, pid, payment_method_id="pm_card_visa", auto_capture=False)
    canceled = stripe_api.cancel_payment_intent(stripe_config, payment_id=pid, intent_id=intent.id)
    assert canceled.state is IntentState.CANCELED


def test_three_d_secure_returns_action_required_then_confirms(stripe_config, localstripe):
    pid = payment_id()
    intent = create(stripe_config, pid, payment_method_id=card(localstripe, CARD_3DS))
    assert intent.state is IntentState.ACTION_REQUIRED and intent.status == "requires_action"
    assert intent.client_secret.startswith(intent.id + "_secret_")
    # Before the customer authenticates, confirming changes nothing.
    still = stripe_api.confirm_payment_intent(stripe_config, payment_id=pid, intent_id=intent.id)
    assert still.state is IntentState.ACTION_REQUIRED
    authenticate(localstripe, intent, success=True)
    done = stripe_api.confirm_payment_intent(stripe_config, payment_id=pid, intent_id=intent.id)
    assert done.state is IntentState.CAPTURED and done.amount_received == 4990


def test_three_d_secure_failure_ends_failed(stripe_config, localstripe):
    pid = payment_id()
    intent = create(stripe_config, pid, payment_method_id=card(localstripe, CARD_3DS))
    authenticate(localstripe, intent, success=False)
    done = stripe_api.confirm_payment_intent(stripe_config, payment_id=pid, intent_id=intent.id)
    assert done.state is IntentState.FAILED
    assert done.error_code == "payment_intent_authentication_failure"


def test_intent_without_payment_method_waits_for_the_storefront(stripe_config):
    intent = create(stripe_config, payment_id())
    assert intent.state is IntentState.ACTION_REQUIRED and intent.client_secret


def test_declined_card_raises_payment_declined(stripe_config):
    with pytest.raises(PaymentError) as excinfo:
        create(stripe_config, payment_id(), payment_method_id="pm_card_chargeCustomerFail")
    assert excinfo.value.code is PaymentErrorCode.PAYMENT_DECLINED


def test_partial_and_repeated_refunds_each_get_their_own_key(stripe_config):
    pid = payment_id()
    intent = create(stripe_config, pid, "30.00", payment_method_id="pm_card_visa")
    refund = stripe_api.refund_payment_intent
    first = refund(
        stripe_config, payment_id=pid, intent_id=intent.id, amount=Decimal("10.00"), currency="EUR"
    )
    second = refund(
        stripe_config, payment_id=pid, intent_id=intent.id, amount=Decimal("10.00"), currency="EUR"
    )
    assert first.id != second.id and first.amount == second.amount == 1000
    assert (first.idempotency_key, second.idempotency_key) == (
        f"slp:{pid}:refund:1000:0",
        f"slp:{pid}:refund:1000:1",
    )
    listed = {r.id: r.amount for r in stripe_api.list_refunds(stripe_config, intent.id)}
    assert listed == {first.id: 1000, second.id: 1000}
    assert set(
        RefundAttempt.objects.filter(payment_id=str(pid)).values_list("status", flat=True)
    ) == {RefundAttemptStatus.SUCCEEDED}


def test_refund_refused_by_stripe_frees_the_next_attempt(stripe_config, localstripe):
    pid = payment_id()
    intent = create(stripe_config, pid, "30.00", payment_method_id=card(localstripe, CARD_3DS))
    authenticate(localstripe, intent, success=False)  # nothing was charged
    for _ in range(2):
        with pytest.raises(PaymentError) as excinfo:
            stripe_api.refund_payment_intent(
                stripe_config,
                payment_id=pid,
                intent_id=intent.id,
                amount=Decimal("5"),
                currency="EUR",
            )
        assert excinfo.value.code is PaymentErrorCode.PROVIDER_REJECTED
    # A refusal is final: the next attempt must not replay the refused key.
    attempts = RefundAttempt.objects.filter(payment_id=str(pid)).order_by("sequence")
    assert [(a.sequence, a.status) for a in attempts] == [
        (0, RefundAttemptStatus.FAILED),
        (1, RefundAttemptStatus.FAILED),
    ]


def test_every_post_carries_a_deterministic_idempotency_key_and_retries_reuse_it(
    stripe_config, localstripe
):
    proxy = RecordingProxy(localstripe).start()
    try:
        config = StripeConfig(secret_api_key=STRIPE_KEY, api_base=proxy.url, auto_capture=False)
        pid = payment_id()
        intent = create(config, pid, "20.00", payment_method_id="pm_card_visa")
        stripe_api.capture_payment_intent(
            config, payment_id=pid, intent_id=intent.id, amount=Decimal("15.00"), currency="EUR"
        )
        # A refund whose first attempt timed out is still pending: the retry reuses its key.
        attempt, retry = idempotency.claim_refund(
            provider="stripe", payment_id=pid, reference=intent.id, amount_minor=500, currency="EUR"
        )
        assert not retry
        refund = stripe_api.refund_payment_intent(
            config, payment_id=pid, intent_id=intent.id, amount=Decimal("5.00"), currency="EUR"
        )
        assert refund.idempotency_key == attempt.idempotency_key
    finally:
        proxy.stop()
    posts = [(path, headers) for method, path, headers, _ in proxy.requests if method == "POST"]
    keys = [headers.get("idempotency-key") for _, headers in posts]
    assert keys == [
        f"slp:{pid}:create:2000",
        f"slp:{pid}:capture:1500",
        f"slp:{pid}:refund:500:0",
    ]
    assert all(h.get("stripe-version") == stripe_api.STRIPE_API_VERSION for _, h in posts)
    capture_body = next(body for m, path, _, body in proxy.requests if path.endswith("/capture"))
    assert b"amount_to_capture=1500" in capture_body


def test_saved_cards_customer_listing_and_off_session_payment(stripe_config, localstripe):
    customer = stripe_api.get_or_create_customer(
        stripe_config, customer_id=None, email="alice@example.com", user_ref="User:1"
    )
    assert (
        stripe_api.get_or_create_customer(
            stripe_config, customer_id=customer, email="alice@example.com", user_ref="User:1"
        )
        == customer
    )
    pm = card(localstripe, CARD_OK)
    requests.post(
        f"{localstripe}/v1/payment_methods/{pm}/attach",
        data={"customer": customer},
        auth=(STRIPE_KEY, ""),
        timeout=5,
    ).raise_for_status()
    saved = stripe_api.list_saved_cards(stripe_config, customer)
    assert [(c.id, c.card.last4 if c.card else None) for c in saved] == [(pm, "4242")]
    intent = create(
        stripe_config, payment_id(), customer_id=customer, payment_method_id=pm, off_session=True
    )
    assert intent.state is IntentState.CAPTURED and intent.customer == customer


def test_saving_a_card_needs_a_customer(stripe_config):
    with pytest.raises(PaymentError) as excinfo:
        create(stripe_config, payment_id(), setup_future_usage="off_session")
    assert excinfo.value.code is PaymentErrorCode.REQUIRED


def test_wrong_api_key_is_reported_without_the_key(localstripe):
    config = StripeConfig(secret_api_key="not-a-key-xyz", api_base=localstripe)
    with pytest.raises(PaymentError) as excinfo:
        stripe_api.retrieve_payment_intent(config, "pi_123")
    assert excinfo.value.code is PaymentErrorCode.PROVIDER_AUTHENTICATION
    assert "not-a-key-xyz" not in str(excinfo.value) + repr(excinfo.value)


def test_a_stalled_stripe_times_out_as_provider_unavailable(scripted: ScriptedServer):
    scripted.stall(3.0)
    config = StripeConfig(secret_api_key=STRIPE_KEY, api_base=scripted.url, read_timeout=0.5)
    with pytest.raises(PaymentError) as excinfo:
        stripe_api.retrieve_payment_intent(config, "pi_123")
    assert excinfo.value.code is PaymentErrorCode.PROVIDER_UNAVAILABLE and excinfo.value.retryable


def test_stripe_5xx_is_a_retryable_provider_error(scripted: ScriptedServer):
    scripted.fail(500)
    config = StripeConfig(secret_api_key=STRIPE_KEY, api_base=scripted.url)
    with pytest.raises(PaymentError) as excinfo:
        stripe_api.retrieve_payment_intent(config, "pi_123")
    assert excinfo.value.code is PaymentErrorCode.PROVIDER_ERROR and excinfo.value.retryable


def test_timed_out_refund_stays_pending_and_is_retried_with_the_same_key(
    stripe_config, scripted: ScriptedServer
):
    pid = payment_id()
    intent = create(stripe_config, pid, "10.00", payment_method_id="pm_card_visa")
    scripted.stall(3.0)
    slow = StripeConfig(secret_api_key=STRIPE_KEY, api_base=scripted.url, read_timeout=0.5)
    with pytest.raises(PaymentError) as excinfo:
        stripe_api.refund_payment_intent(
            slow, payment_id=pid, intent_id=intent.id, amount=Decimal("10.00"), currency="EUR"
        )
    assert excinfo.value.retryable
    pending = RefundAttempt.objects.get(payment_id=str(pid))
    assert pending.status == RefundAttemptStatus.PENDING
    refund = stripe_api.refund_payment_intent(
        stripe_config, payment_id=pid, intent_id=intent.id, amount=Decimal("10.00"), currency="EUR"
    )
    assert refund.idempotency_key == pending.idempotency_key
    assert RefundAttempt.objects.filter(payment_id=str(pid)).count() == 1


def test_module_never_touches_stripe_global_state(stripe_config):
    before = (stripe.api_key, stripe.api_base, stripe.api_version, stripe.default_http_client)
    create(stripe_config, payment_id(), payment_method_id="pm_card_visa")
    assert (
        stripe.api_key,
        stripe.api_base,
        stripe.api_version,
        stripe.default_http_client,
    ) == before


def test_ids_that_could_change_the_request_path_are_refused(stripe_config):
    with pytest.raises(PaymentError) as excinfo:
        stripe_api.retrieve_payment_intent(stripe_config, "pi_1/../../v1/customers")
    assert excinfo.value.code is PaymentErrorCode.INVALID


def test_the_api_base_setting_points_the_gateway_at_an_emulator(settings, localstripe):
    """SALEOR_LICENSE["STRIPE_API_BASE"] (docs/payments.md): a staging shop or an end-to-end
    test points the gateway at an emulator without touching stripe.api_base, which Saleor's
    own Stripe gateway reads."""
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "STRIPE_API_BASE": localstripe + "/"}
    config = StripeConfig(secret_api_key=STRIPE_KEY, read_timeout=10)  # as the gateway builds it
    before = stripe.api_base
    intent = create(config, payment_id(), payment_method_id="pm_card_visa")
    assert stripe_api.retrieve_payment_intent(config, intent.id).id == intent.id
    assert stripe.api_base == before == "https://api.stripe.com"
