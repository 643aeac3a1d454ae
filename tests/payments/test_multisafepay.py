"""MultiSafepay: the client, status mapping, notifications and refunds against a local fake."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connections

from saleor_license_plugin.models import (
    ProcessedNotification,
    RefundAttempt,
    RefundAttemptStatus,
)
from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.multisafepay.client import (
    MultiSafepayClient,
    MultiSafepayConfig,
)
from saleor_license_plugin.payments.multisafepay.refunds import refund_order
from saleor_license_plugin.payments.multisafepay.statuses import PaymentState, payment_state
from saleor_license_plugin.payments.multisafepay.webhooks import (
    handle_notification,
    verify_signature,
)
from saleor_license_plugin.payments.outcome import WebhookAction
from tests.payments.conftest import MSP_KEY

pytestmark = pytest.mark.django_db


def new_order(client: MultiSafepayClient, order_id: str = "slp-1", amount: int = 4990) -> str:
    client.create_redirect_order(
        order_id=order_id,
        amount=amount,
        currency="EUR",
        description="Order #1",
        notification_url="https://shop.example/plugins/channel/eu/x/notifications/",
        redirect_url="https://shop.example/return",
        cancel_url="https://shop.example/cancel",
        customer_email="alice@example.com",
    )
    return order_id


def notify(msp, msp_client, payments, order_id, **kwargs):
    body, auth = msp.notification(order_id, **kwargs)
    return handle_notification(
        body, auth, api_key=MSP_KEY, client=msp_client, lookup=payments.lookup, apply=payments.apply
    )


# --- client ------------------------------------------------------------------------------------


def test_redirect_order_is_created_with_the_documented_body(msp, msp_client):
    result = msp_client.create_redirect_order(
        order_id="slp-42",
        amount=1999,
        currency="eur",
        description="Order #42",
        notification_url="https://shop.example/n/",
        redirect_url="https://shop.example/ok",
        cancel_url="https://shop.example/cancel",
    )
    assert result.order_id == "slp-42" and result.payment_url.endswith("/pay/slp-42")
    [sent] = msp.create_requests
    assert sent["type"] == "redirect" and sent["amount"] == 1999 and sent["currency"] == "EUR"
    assert sent["payment_options"]["notification_url"] == "https://shop.example/n/"
    assert sent["payment_options"]["notification_method"] == "POST"
    assert [headers.get("api_key") for _, _, headers, _ in msp.requests] == [MSP_KEY, MSP_KEY]


def test_wrong_api_key_is_an_authentication_error_without_the_key(msp):
    client = MultiSafepayClient(MultiSafepayConfig(api_key="wrong-key-123", base_url=msp.base_url))
    with pytest.raises(PaymentError) as excinfo:
        client.get_order("slp-1")
    assert excinfo.value.code is PaymentErrorCode.PROVIDER_AUTHENTICATION
    assert "wrong-key-123" not in str(excinfo.value) + repr(excinfo.value)


def test_unknown_order_is_not_found(msp_client):
    with pytest.raises(PaymentError) as excinfo:
        msp_client.get_order("nope")
    assert excinfo.value.code is PaymentErrorCode.NOT_FOUND


def test_create_retried_after_a_timeout_does_not_create_twice(msp, msp_client):
    msp.answer_late(2.0, method="POST")  # the order is created, the answer comes too late
    with pytest.raises(PaymentError) as excinfo:
        new_order(msp_client, "slp-7")
    assert excinfo.value.code is PaymentErrorCode.PROVIDER_UNAVAILABLE
    again = msp_client.create_redirect_order(
        order_id="slp-7",
        amount=4990,
        currency="EUR",
        description="Order",
        notification_url="https://n",
        redirect_url="https://r",
        cancel_url="https://c",
    )
    assert again.payment_url.endswith("/pay/slp-7")
    assert len(msp.create_requests) == 1 and list(msp.orders) == ["slp-7"]


def test_same_order_id_with_another_amount_is_a_conflict(msp, msp_client):
    new_order(msp_client, "slp-8", amount=1000)
    with pytest.raises(PaymentError) as excinfo:
        new_order(msp_client, "slp-8", amount=2000)
    assert excinfo.value.code is PaymentErrorCode.IDEMPOTENCY_CONFLICT


def test_stall_and_5xx_have_defined_outcomes(msp, msp_client):
    new_order(msp_client)
    msp.stall(2.0)
    with pytest.raises(PaymentError) as stalled:
        msp_client.get_order("slp-1")
    msp.fail(503)
    with pytest.raises(PaymentError) as failed:
        msp_client.get_order("slp-1")
    assert stalled.value.code is PaymentErrorCode.PROVIDER_UNAVAILABLE and stalled.value.retryable
    assert failed.value.code is PaymentErrorCode.PROVIDER_ERROR and failed.value.retryable


def test_void_cancels_an_unpaid_order(msp, msp_client):
    new_order(msp_client)
    assert payment_state(msp_client.cancel_order("slp-1").status) is PaymentState.FAILED


# --- statuses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("completed", PaymentState.PAID),
        ("uncleared", PaymentState.PENDING),
        ("initialized", PaymentState.AWAITING_CUSTOMER),
        ("declined", PaymentState.FAILED),
        ("expired", PaymentState.FAILED),
        ("cancelled", PaymentState.FAILED),
        ("void", PaymentState.FAILED),
        ("chargeback", PaymentState.CHARGEBACK),
        ("refunded", PaymentState.REFUNDED),
        ("partial_refunded", PaymentState.REFUNDED),
        ("something_new", PaymentState.AWAITING_CUSTOMER),
    ],
)
def test_status_mapping(status, state):
    assert payment_state(status) is state


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("completed", WebhookAction.CAPTURE),
        ("uncleared", WebhookAction.PENDING),
        ("declined", WebhookAction.FAIL),
        ("expired", WebhookAction.FAIL),
        ("cancelled", WebhookAction.FAIL),
        ("void", WebhookAction.FAIL),
        ("chargeback", WebhookAction.CHARGEBACK),
        ("initialized", WebhookAction.IGNORE),
    ],
)
def test_notification_outcome_follows_the_api_status(msp, msp_client, payments, status, action):
    new_order(msp_client)
    payments.add("slp-1", "49.90", "EUR", payment_id="1")
    msp.set_status("slp-1", status)
    outcome = notify(msp, msp_client, payments, "slp-1")
    assert outcome.action is action
    assert payments.applied == ([] if action is WebhookAction.IGNORE else [outcome])


# --- notifications ------------------------------------------------------------------------------


def test_signature_scheme_is_base64_of_timestamp_and_hmac_sha512():
    body = b'{"order_id":"slp-1"}'
    stamp = int(time.time())
    digest = hmac.new(MSP_KEY.encode(), f"{stamp}:".encode() + body, hashlib.sha512).hexdigest()
    header = base64.b64encode(f"{stamp}:{digest}".encode()).decode()
    verify_signature(body, header, MSP_KEY)  # does not raise
    with pytest.raises(PaymentError):
        verify_signature(body, header, "another-key")


def test_tampered_body_fails_verification(msp, msp_client, payments):
    new_order(msp_client)
    payments.add("slp-1", "49.90", "EUR")
    body, auth = msp.notification("slp-1")
    with pytest.raises(PaymentError) as excinfo:
        handle_notification(
            body.replace(b"49", b"48"),
            auth,
            api_key=MSP_KEY,
            client=msp_client,
            lookup=payments.lookup,
        )
    assert excinfo.value.code is PaymentErrorCode.INVALID_SIGNATURE
    assert not ProcessedNotification.objects.exists()


@pytest.mark.parametrize(
    "header", [None, "", "not-base64!!", base64.b64encode(b"no-colon").decode()]
)
def test_missing_or_malformed_auth_header_fails(header):
    with pytest.raises(PaymentError) as excinfo:
        verify_signature(b"{}", header, MSP_KEY)
    assert excinfo.value.code is PaymentErrorCode.INVALID_SIGNATURE


def test_stale_and_future_timestamps_fail(msp, msp_client, payments):
    new_order(msp_client)
    payments.add("slp-1", "49.90", "EUR")
    for stamp in (int(time.time()) - 601, int(time.time()) + 601):
        with pytest.raises(PaymentError) as excinfo:
            notify(msp, msp_client, payments, "slp-1", timestamp=stamp)
        assert excinfo.value.code is PaymentErrorCode.STALE_NOTIFICATION
    assert payments.applied == []


def test_replayed_notification_is_applied_once(msp, msp_client, payments):
    new_order(msp_client)
    payments.add("slp-1", "49.90", "EUR")
    msp.set_status("slp-1", "completed")
    body, auth = msp.notification("slp-1")
    kwargs = {
        "api_key": MSP_KEY,
        "client": msp_client,
        "lookup": payments.lookup,
        "apply": payments.apply,
    }
    first = handle_notification(body, auth, **kwargs)
    again = handle_notification(body, auth, **kwargs)
    assert first.action is WebhookAction.CAPTURE
    assert (again.action, again.reason) == (WebhookAction.IGNORE, "duplicate")
    assert len(payments.applied) == 1


def test_body_claiming_completed_is_not_trusted_when_the_api_says_declined(
    msp, msp_client, payments
):
    new_order(msp_client)
    payments.add("slp-1", "49.90", "EUR")
    msp.set_status("slp-1", "declined")
    outcome = notify(msp, msp_client, payments, "slp-1", claimed_status="completed")
    assert outcome.action is WebhookAction.FAIL
    assert all(o.action is not WebhookAction.CAPTURE for o in payments.applied)


@pytest.mark.parametrize(
    ("amount", "currency", "reason"),
    [("49.00", "EUR", "amount_mismatch"), ("49.90", "USD", "currency_mismatch")],
)
def test_amount_and_currency_must_match_the_payment(
    msp, msp_client, payments, amount, currency, reason
):
    new_order(msp_client)
    msp.set_status("slp-1", "completed")
    payments.add("slp-1", amount, currency)
    outcome = notify(msp, msp_client, payments, "slp-1")
    assert (outcome.action, outcome.reason) == (WebhookAction.IGNORE, reason)
    assert payments.applied == []


def test_unknown_order_is_ignored_without_calling_the_api(msp, msp_client, payments):
    new_order(msp_client)
    before = len(msp.requests)
    outcome = notify(msp, msp_client, payments, "slp-1")
    assert (outcome.action, outcome.reason) == (WebhookAction.IGNORE, "unknown_payment")
    assert len(msp.requests) == before


@pytest.mark.parametrize("trouble", ["stall", "5xx"])
def test_api_trouble_during_a_notification_leaves_it_retryable(msp, msp_client, payments, trouble):
    new_order(msp_client)
    payments.add("slp-1", "49.90", "EUR")
    msp.set_status("slp-1", "completed")
    body, auth = msp.notification("slp-1")
    msp.stall(2.0) if trouble == "stall" else msp.fail(500)
    kwargs = {
        "api_key": MSP_KEY,
        "client": msp_client,
        "lookup": payments.lookup,
        "apply": payments.apply,
    }
    with pytest.raises(PaymentError) as excinfo:
        handle_notification(body, auth, **kwargs)
    assert excinfo.value.retryable and payments.applied == []
    assert handle_notification(body, auth, **kwargs).action is WebhookAction.CAPTURE


def test_refunded_order_reports_its_refunds(msp, msp_client, payments):
    new_order(msp_client)
    payments.add("slp-1", "49.90", "EUR")
    msp.set_status("slp-1", "completed")
    refund = refund_order(msp_client, payment_id=1, order_id="slp-1", amount=990, currency="EUR")
    outcome = notify(msp, msp_client, payments, "slp-1")
    assert outcome.action is WebhookAction.REFUND
    assert [(r.refund_id, r.amount) for r in outcome.refunds] == [(refund.refund_id, 990)]


@pytest.mark.django_db(transaction=True)
def test_notification_sent_over_http_is_verified_and_acknowledged(msp, msp_client, payments):
    """End to end: the fake sends a signed POST to a receiver that runs the handler."""
    new_order(msp_client)
    payments.add("slp-1", "49.90", "EUR")
    msp.set_status("slp-1", "completed")

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                handle_notification(
                    body,
                    self.headers.get("Auth"),
                    api_key=MSP_KEY,
                    client=msp_client,
                    lookup=payments.lookup,
                    apply=payments.apply,
                )
                status, text = 200, b"OK"
            except PaymentError:
                status, text = 400, b"bad"
            finally:
                connections.close_all()
            self.send_response(status)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/notifications/"
    try:
        good = msp.send_notification("slp-1", url)
        forged = msp.send_notification("slp-1", url, key="not-the-key")
    finally:
        server.shutdown()
        server.server_close()
    assert (good.status_code, good.text) == (200, "OK")
    assert forged.status_code == 400
    assert [o.action for o in payments.applied] == [WebhookAction.CAPTURE]


# --- refunds ------------------------------------------------------------------------------------


def test_refund_sends_a_deterministic_reference(msp, msp_client):
    new_order(msp_client)
    msp.set_status("slp-1", "completed")
    refund_order(msp_client, payment_id=1, order_id="slp-1", amount=1000, currency="EUR")
    refund_order(msp_client, payment_id=1, order_id="slp-1", amount=1000, currency="EUR")
    assert [r["description"] for r in msp.refund_requests] == [
        "slp:1:refund:1000:0",
        "slp:1:refund:1000:1",
    ]
    assert msp.refunded_total["slp-1"] == 2000


def test_refund_that_timed_out_after_reaching_multisafepay_is_not_sent_again(msp, msp_client):
    new_order(msp_client)
    msp.set_status("slp-1", "completed")
    msp.answer_late(2.0, method="POST")  # the refund is made, the answer is lost
    with pytest.raises(PaymentError) as excinfo:
        refund_order(msp_client, payment_id=1, order_id="slp-1", amount=1500, currency="EUR")
    assert excinfo.value.code is PaymentErrorCode.PROVIDER_UNAVAILABLE
    assert RefundAttempt.objects.get().status == RefundAttemptStatus.PENDING
    result = refund_order(msp_client, payment_id=1, order_id="slp-1", amount=1500, currency="EUR")
    assert result.description == "slp:1:refund:1500:0"
    assert len(msp.refund_requests) == 1 and msp.refunded_total["slp-1"] == 1500
    assert RefundAttempt.objects.get().status == RefundAttemptStatus.SUCCEEDED


def test_refund_that_failed_with_5xx_before_reaching_multisafepay_is_sent_once_on_retry(
    msp, msp_client
):
    new_order(msp_client)
    msp.set_status("slp-1", "completed")
    refunds_before = len(msp.refund_requests)
    msp.fail(502)
    with pytest.raises(PaymentError) as excinfo:
        refund_order(msp_client, payment_id=1, order_id="slp-1", amount=1500, currency="EUR")
    assert excinfo.value.code is PaymentErrorCode.PROVIDER_ERROR
    refund_order(msp_client, payment_id=1, order_id="slp-1", amount=1500, currency="EUR")
    assert len(msp.refund_requests) == refunds_before + 1
    assert msp.refunded_total["slp-1"] == 1500


def test_refund_rejected_by_multisafepay_is_final(msp, msp_client):
    new_order(msp_client)  # still "initialized": nothing to refund
    with pytest.raises(PaymentError) as excinfo:
        refund_order(msp_client, payment_id=1, order_id="slp-1", amount=100, currency="EUR")
    assert excinfo.value.code is PaymentErrorCode.PROVIDER_REJECTED
    assert RefundAttempt.objects.get().status == RefundAttemptStatus.FAILED


def test_zero_refund_is_never_sent(msp, msp_client):
    """MultiSafepay refunds the whole order for amount 0."""
    new_order(msp_client)
    msp.set_status("slp-1", "completed")
    with pytest.raises(PaymentError) as excinfo:
        msp_client.refund(order_id="slp-1", amount=0, currency="EUR", description="x")
    assert excinfo.value.code is PaymentErrorCode.INVALID_AMOUNT and msp.refund_requests == []
