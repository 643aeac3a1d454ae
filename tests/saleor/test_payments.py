"""The three payment gateways inside Saleor: a license checkout is paid through Saleor's GraphQL
(checkoutPaymentCreate + checkoutComplete) with each gateway talking to a real local provider,
provider notifications arrive at the gateway's real Saleor URL, and the licenses follow the
money: issued when the order is fully paid, never on a declined payment, revoked on a refund.
"""

import itertools
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests
from saleor.graphql.tests.utils import get_graphql_content
from saleor.order import OrderChargeStatus
from saleor.order.models import Order
from saleor.payment import ChargeStatus, TransactionKind
from saleor.payment.models import Payment

from saleor_license_plugin.models import License, LicenseStatus, ProcessedNotification
from tests.payments.servers import (
    CARD_3DS,
    STRIPE_KEY,
    authenticate_intent,
    card_payment_method,
    stripe_event,
    stripe_signature,
)

from flows import add_license_lines, create_checkout
from license_fixtures import gid
from payment_fixtures import (
    MSP_ID,
    OFFLINE_ID,
    STRIPE_ID,
    capture_order,
    complete_checkout,
    create_payment,
)
from test_orders import ORDER_MARK_AS_PAID, ORDER_REFUND

_events = itertools.count(1)


def license_checkout(plugin_api, user_api_client, products, quantity=2):
    """A checkout with `quantity` new Professional licenses (1 year maintenance): 2 × 480."""
    checkout_id = create_checkout(user_api_client)
    added = add_license_lines(
        plugin_api,
        checkout_id,
        [
            {
                "variantId": gid("ProductVariant", products["pro-8"].pk),
                "action": "NEW",
                "quantity": quantity,
                "maintenanceYears": 1,
            }
        ],
    )
    assert added["errors"] == [], added
    return checkout_id


def active_licenses():
    return License.objects.filter(status=LicenseStatus.ACTIVE)


def the_payment():
    return Payment.objects.get()


# --- Stripe ----------------------------------------------------------------------------------


def stripe_get(localstripe, path, **params):
    response = requests.get(f"{localstripe}{path}", params=params, auth=(STRIPE_KEY, ""), timeout=5)
    response.raise_for_status()
    return response.json()


def deliver_stripe_event(provider_webhooks, event_type, obj, event_id=None, signature=None):
    body = stripe_event(event_id or f"evt_saleor_{next(_events)}", event_type, obj)
    response = provider_webhooks.post(
        provider_webhooks.url(STRIPE_ID, "webhooks"),
        body,
        HTTP_STRIPE_SIGNATURE=signature or stripe_signature(body),
    )
    return body, response


def test_stripe_card_with_automatic_capture_pays_the_order_and_issues_licenses(
    stripe_gateway,
    license_products,
    plugin_api,
    user_api_client,
    localstripe,
    provider_webhooks,
    mailoutbox,
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    total = create_payment(user_api_client, checkout_id, STRIPE_ID)
    assert total == Decimal("960.00")

    result = complete_checkout(user_api_client, checkout_id, {"payment_method_id": "pm_card_visa"})

    assert result["errors"] == [] and result["confirmationNeeded"] is False, result
    assert result["order"]["chargeStatus"] == "FULL"
    payment = the_payment()
    assert payment.charge_status == ChargeStatus.FULLY_CHARGED
    assert payment.captured_amount == total
    intent = stripe_get(localstripe, f"/v1/payment_intents/{payment.psp_reference}")
    assert (intent["status"], intent["amount"], intent["currency"]) == ("succeeded", 96000, "usd")
    assert intent["metadata"]["slp_payment_id"] == str(payment.pk)
    assert active_licenses().count() == 2
    assert set(active_licenses().values_list("origin_order_id", flat=True)) == {
        str(Order.objects.get().pk)
    }
    assert len(mailoutbox) == 1

    # Stripe's payment_intent.succeeded for it arrives afterwards: already applied.
    _, response = deliver_stripe_event(
        provider_webhooks, "payment_intent.succeeded", {"id": payment.psp_reference}
    )
    assert response.status_code == 200
    assert payment.transactions.filter(kind=TransactionKind.CAPTURE).count() == 1
    assert License.objects.count() == 2 and len(mailoutbox) == 1


@pytest.mark.parametrize("stripe_settings", [{"automatic_payment_capture": False}])
def test_stripe_authorize_only_issues_licenses_when_staff_capture(
    stripe_gateway,
    license_products,
    plugin_api,
    user_api_client,
    orders_staff_client,
    localstripe,
    stripe_settings,
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    total = create_payment(user_api_client, checkout_id, STRIPE_ID)
    result = complete_checkout(user_api_client, checkout_id, {"payment_method_id": "pm_card_visa"})
    assert result["errors"] == [], result
    assert (result["order"]["chargeStatus"], result["order"]["authorizeStatus"]) == (
        "NONE",
        "FULL",
    )
    assert not License.objects.exists()
    intent_id = the_payment().psp_reference
    assert stripe_get(localstripe, f"/v1/payment_intents/{intent_id}")["status"] == (
        "requires_capture"
    )

    captured = capture_order(orders_staff_client, result["order"]["id"], total)

    assert captured["errors"] == [] and captured["order"]["chargeStatus"] == "FULL", captured
    assert stripe_get(localstripe, f"/v1/payment_intents/{intent_id}")["status"] == "succeeded"
    assert active_licenses().count() == 2


def test_stripe_three_d_secure_needs_confirmation_then_pays(
    stripe_gateway, license_products, plugin_api, user_api_client, localstripe
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    create_payment(user_api_client, checkout_id, STRIPE_ID)
    card = card_payment_method(localstripe, CARD_3DS)

    first = complete_checkout(user_api_client, checkout_id, {"payment_method_id": card})

    assert first["errors"] == [] and first["order"] is None, first
    assert first["confirmationNeeded"] is True
    data = first["confirmationData"]
    assert data["id"].startswith("pi_") and data["client_secret"].startswith(
        data["id"] + "_secret_"
    )
    assert not Order.objects.exists() and not License.objects.exists()

    # Back before authenticating: still waiting, still nothing issued.
    again = complete_checkout(user_api_client, checkout_id)
    assert again["confirmationNeeded"] is True and again["order"] is None, again
    assert not License.objects.exists()

    authenticate_intent(localstripe, data["id"], data["client_secret"], success=True)
    done = complete_checkout(user_api_client, checkout_id)

    assert done["errors"] == [] and done["order"]["chargeStatus"] == "FULL", done
    assert the_payment().charge_status == ChargeStatus.FULLY_CHARGED
    assert active_licenses().count() == 2


def test_stripe_failed_three_d_secure_issues_nothing(
    stripe_gateway, license_products, plugin_api, user_api_client, localstripe
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    create_payment(user_api_client, checkout_id, STRIPE_ID)
    card = card_payment_method(localstripe, CARD_3DS)
    data = complete_checkout(user_api_client, checkout_id, {"payment_method_id": card})[
        "confirmationData"
    ]
    authenticate_intent(localstripe, data["id"], data["client_secret"], success=False)

    result = complete_checkout(user_api_client, checkout_id)

    assert result["order"] is None
    assert [e["code"] for e in result["errors"]] == ["PAYMENT_ERROR"], result
    assert not Order.objects.exists() and not License.objects.exists()
    assert the_payment().charge_status == ChargeStatus.NOT_CHARGED


def test_stripe_webhook_after_three_d_secure_creates_the_order_the_customer_gets_back(
    stripe_gateway, license_products, plugin_api, user_api_client, localstripe, provider_webhooks
):
    """The customer authenticates but never returns to the storefront: payment_intent.succeeded
    completes the checkout (as Saleor's own Stripe webhooks do). When the customer does come
    back, checkoutComplete answers with that order; nothing is charged or issued twice."""
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    create_payment(user_api_client, checkout_id, STRIPE_ID)
    card = card_payment_method(localstripe, CARD_3DS)
    data = complete_checkout(user_api_client, checkout_id, {"payment_method_id": card})[
        "confirmationData"
    ]
    authenticate_intent(localstripe, data["id"], data["client_secret"], success=True)
    obj = {"id": data["id"], "object": "payment_intent"}

    body, response = deliver_stripe_event(provider_webhooks, "payment_intent.succeeded", obj)

    assert response.status_code == 200
    order = Order.objects.get()
    assert order.charge_status == OrderChargeStatus.FULL
    assert the_payment().order_id == order.pk
    assert active_licenses().count() == 2

    replay = provider_webhooks.post(
        provider_webhooks.url(STRIPE_ID, "webhooks"),
        body,
        HTTP_STRIPE_SIGNATURE=stripe_signature(body),
    )
    assert replay.status_code == 200
    back = complete_checkout(user_api_client, checkout_id)

    assert back["errors"] == [] and back["order"]["id"] == gid("Order", order.pk), back
    assert Order.objects.count() == 1 and License.objects.count() == 2
    assert the_payment().transactions.filter(kind=TransactionKind.CAPTURE).count() == 1
    assert stripe_get(localstripe, f"/v1/payment_intents/{data['id']}")["status"] == "succeeded"


def test_stripe_capture_of_a_replaced_payment_is_refunded_not_kept(
    stripe_gateway, license_products, plugin_api, user_api_client, localstripe, provider_webhooks
):
    """The customer leaves 3-D Secure half-way and pays again with a new payment (Saleor
    deactivates the first); the first authentication then completes after all. Its capture
    belongs to no checkout and no order: the money goes back, and nothing is issued for it."""
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    create_payment(user_api_client, checkout_id, STRIPE_ID)
    card = card_payment_method(localstripe, CARD_3DS)
    data = complete_checkout(user_api_client, checkout_id, {"payment_method_id": card})[
        "confirmationData"
    ]
    create_payment(user_api_client, checkout_id, STRIPE_ID)  # the replacement
    first = Payment.objects.order_by("pk").first()
    assert first is not None and not first.is_active
    authenticate_intent(localstripe, data["id"], data["client_secret"], success=True)
    obj = {"id": data["id"], "object": "payment_intent"}

    body, response = deliver_stripe_event(provider_webhooks, "payment_intent.succeeded", obj)

    assert response.status_code == 200
    first.refresh_from_db()
    assert first.charge_status == ChargeStatus.FULLY_REFUNDED
    [refund] = stripe_get(localstripe, "/v1/refunds", payment_intent=data["id"])["data"]
    assert refund["amount"] == 96000
    assert not Order.objects.exists() and not License.objects.exists()
    replay = provider_webhooks.post(
        provider_webhooks.url(STRIPE_ID, "webhooks"),
        body,
        HTTP_STRIPE_SIGNATURE=stripe_signature(body),
    )
    assert replay.status_code == 200
    assert len(stripe_get(localstripe, "/v1/refunds", payment_intent=data["id"])["data"]) == 1


@pytest.mark.parametrize("stripe_settings", [{"automatic_payment_capture": False}])
def test_stripe_authorized_webhook_creates_an_order_that_waits_for_capture(
    stripe_gateway,
    license_products,
    plugin_api,
    user_api_client,
    orders_staff_client,
    localstripe,
    provider_webhooks,
    stripe_settings,
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    total = create_payment(user_api_client, checkout_id, STRIPE_ID)
    card = card_payment_method(localstripe, CARD_3DS)
    data = complete_checkout(user_api_client, checkout_id, {"payment_method_id": card})[
        "confirmationData"
    ]
    authenticate_intent(localstripe, data["id"], data["client_secret"], success=True)
    obj = {"id": data["id"], "object": "payment_intent"}

    _, response = deliver_stripe_event(
        provider_webhooks, "payment_intent.amount_capturable_updated", obj
    )

    assert response.status_code == 200
    order = Order.objects.get()
    assert (order.charge_status, order.authorize_status) == (OrderChargeStatus.NONE, "full")
    assert not License.objects.exists()

    captured = capture_order(orders_staff_client, gid("Order", order.pk), total)

    assert captured["errors"] == [] and captured["order"]["chargeStatus"] == "FULL", captured
    assert active_licenses().count() == 2


def pay_with_stripe(plugin_api, user_api_client, products):
    checkout_id = license_checkout(plugin_api, user_api_client, products)
    total = create_payment(user_api_client, checkout_id, STRIPE_ID)
    result = complete_checkout(user_api_client, checkout_id, {"payment_method_id": "pm_card_visa"})
    assert result["order"]["chargeStatus"] == "FULL", result
    assert active_licenses().count() == 2
    return result["order"], total


def test_stripe_refund_webhook_refunds_the_order_and_revokes_licenses_once(
    stripe_gateway, license_products, plugin_api, user_api_client, localstripe, provider_webhooks
):
    order, total = pay_with_stripe(plugin_api, user_api_client, license_products)
    intent_id = the_payment().psp_reference
    # Refunded in the Stripe Dashboard: Saleor learns of it only from the webhook.
    refund = requests.post(
        f"{localstripe}/v1/refunds",
        data={"payment_intent": intent_id},
        auth=(STRIPE_KEY, ""),
        timeout=5,
    ).json()
    assert refund["status"] == "succeeded" and refund["amount"] == 96000
    obj = {"id": "ch_dashboard", "object": "charge", "payment_intent": intent_id}

    forged_body, forged = deliver_stripe_event(
        provider_webhooks, "charge.refunded", obj, signature="t=1,v1=00"
    )
    assert forged.status_code == 400
    assert active_licenses().count() == 2

    body, response = deliver_stripe_event(provider_webhooks, "charge.refunded", obj)

    assert response.status_code == 200
    payment = the_payment()
    assert payment.charge_status == ChargeStatus.FULLY_REFUNDED
    [refund_txn] = payment.transactions.filter(kind=TransactionKind.REFUND)
    assert (refund_txn.token, refund_txn.amount) == (refund["id"], total)
    saleor_order = Order.objects.get()
    assert saleor_order.total_charged_amount == 0
    assert saleor_order.charge_status == OrderChargeStatus.NONE
    assert set(License.objects.values_list("status", flat=True)) == {LicenseStatus.REVOKED}
    revoked = [lic.events.filter(action="revoked").count() for lic in License.objects.all()]
    assert revoked == [1, 1]

    # Stripe retries the same delivery: acknowledged, nothing applied twice.
    replay = provider_webhooks.post(
        provider_webhooks.url(STRIPE_ID, "webhooks"),
        body,
        HTTP_STRIPE_SIGNATURE=stripe_signature(body),
    )
    assert replay.status_code == 200
    assert the_payment().transactions.filter(kind=TransactionKind.REFUND).count() == 1
    assert [lic.events.filter(action="revoked").count() for lic in License.objects.all()] == [1, 1]
    assert ProcessedNotification.objects.filter(provider="stripe").count() == 1


def test_stripe_staff_refund_refunds_at_stripe_and_the_webhook_echo_changes_nothing(
    stripe_gateway,
    license_products,
    plugin_api,
    user_api_client,
    orders_staff_client,
    localstripe,
    provider_webhooks,
):
    order, total = pay_with_stripe(plugin_api, user_api_client, license_products)
    intent_id = the_payment().psp_reference

    refunded = get_graphql_content(
        orders_staff_client.post_graphql(ORDER_REFUND, {"id": order["id"], "amount": str(total)})
    )["data"]["orderRefund"]

    assert refunded["errors"] == [], refunded
    [refund] = stripe_get(localstripe, "/v1/refunds", payment_intent=intent_id)["data"]
    assert (refund["amount"], refund["status"]) == (96000, "succeeded")
    assert set(License.objects.values_list("status", flat=True)) == {LicenseStatus.REVOKED}

    # Stripe then sends charge.refunded for the refund Saleor made: already known.
    _, response = deliver_stripe_event(
        provider_webhooks, "charge.refunded", {"id": "ch_x", "payment_intent": intent_id}
    )
    assert response.status_code == 200
    assert the_payment().transactions.filter(kind=TransactionKind.REFUND).count() == 1
    assert the_payment().charge_status == ChargeStatus.FULLY_REFUNDED


def test_stripe_partial_refund_webhook_suspends_licenses_for_review(
    stripe_gateway, license_products, plugin_api, user_api_client, localstripe, provider_webhooks
):
    pay_with_stripe(plugin_api, user_api_client, license_products)
    intent_id = the_payment().psp_reference
    requests.post(
        f"{localstripe}/v1/refunds",
        data={"payment_intent": intent_id, "amount": 10000},
        auth=(STRIPE_KEY, ""),
        timeout=5,
    ).raise_for_status()

    _, response = deliver_stripe_event(
        provider_webhooks, "charge.refunded", {"id": "ch_1", "payment_intent": intent_id}
    )

    assert response.status_code == 200
    payment = the_payment()
    assert payment.charge_status == ChargeStatus.PARTIALLY_REFUNDED
    assert payment.captured_amount == Decimal("860.00")
    assert set(License.objects.values_list("status", flat=True)) == {LicenseStatus.SUSPENDED}


def test_stripe_dispute_webhook_suspends_the_orders_licenses(
    stripe_gateway, license_products, plugin_api, user_api_client, provider_webhooks
):
    pay_with_stripe(plugin_api, user_api_client, license_products)
    intent_id = the_payment().psp_reference
    obj = {"id": "dp_1", "object": "dispute", "payment_intent": intent_id}

    body, response = deliver_stripe_event(provider_webhooks, "charge.dispute.created", obj)

    assert response.status_code == 200
    assert set(License.objects.values_list("status", flat=True)) == {LicenseStatus.SUSPENDED}
    assert the_payment().charge_status == ChargeStatus.FULLY_CHARGED  # the money is disputed


# --- MultiSafepay ----------------------------------------------------------------------------


def start_redirect(user_api_client, checkout_id, msp_server):
    """checkoutComplete → confirmationNeeded with MultiSafepay's payment page."""
    create_payment(user_api_client, checkout_id, MSP_ID)
    result = complete_checkout(
        user_api_client, checkout_id, {"redirect_url": "https://shop.example.com/return"}
    )
    assert result["errors"] == [] and result["order"] is None, result
    assert result["confirmationNeeded"] is True
    data = result["confirmationData"]
    payment = the_payment()
    assert data["order_id"] == f"slp-{payment.pk}"
    assert data["payment_url"] == msp_server.orders[data["order_id"]]["payment_url"]
    [created] = msp_server.create_requests
    assert created["amount"] == 96000 and created["currency"] == "USD"
    return data["order_id"], created["payment_options"]["notification_url"]


def notify(provider_webhooks, msp_server, order_id, notification_url):
    body, auth = msp_server.notification(order_id)
    return provider_webhooks.post(notification_url, body, HTTP_AUTH=auth), body, auth


def test_multisafepay_notification_creates_the_order_the_customer_gets_back(
    msp_gateway, msp_server, license_products, plugin_api, user_api_client, provider_webhooks
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    order_id, notification_url = start_redirect(user_api_client, checkout_id, msp_server)
    assert urlsplit(notification_url).path == provider_webhooks.url(MSP_ID, "notifications")

    msp_server.set_status(order_id, "completed")  # the customer paid on MultiSafepay's page
    response, body, auth = notify(provider_webhooks, msp_server, order_id, notification_url)

    assert response.status_code == 200 and response.content == b"OK"
    order = Order.objects.get()  # the customer need not come back for the order to exist
    assert order.charge_status == OrderChargeStatus.FULL
    assert the_payment().charge_status == ChargeStatus.FULLY_CHARGED
    assert active_licenses().count() == 2

    replay = provider_webhooks.post(notification_url, body, HTTP_AUTH=auth)
    assert replay.status_code == 200
    back = complete_checkout(user_api_client, checkout_id)  # the return page

    assert back["errors"] == [] and back["order"]["id"] == gid("Order", order.pk), back
    assert Order.objects.count() == 1 and License.objects.count() == 2
    assert the_payment().transactions.filter(kind=TransactionKind.CAPTURE).count() == 1
    assert len(msp_server.create_requests) == 1


def test_multisafepay_paid_checkout_that_changed_meanwhile_is_refunded_not_issued(
    msp_gateway, msp_server, license_products, plugin_api, user_api_client, provider_webhooks
):
    """The customer adds a line in another tab while paying: the payment no longer covers the
    checkout, so the notification cannot complete it, and Saleor refunds the payment through
    the gateway (the order id's refund at MultiSafepay)."""
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    order_id, notification_url = start_redirect(user_api_client, checkout_id, msp_server)
    extra = {"variantId": gid("ProductVariant", license_products["ent-8"].pk), "action": "NEW"}
    assert add_license_lines(plugin_api, checkout_id, [extra])["errors"] == []
    msp_server.set_status(order_id, "completed")

    response, _, _ = notify(provider_webhooks, msp_server, order_id, notification_url)

    assert response.status_code == 200
    assert not Order.objects.exists() and not License.objects.exists()
    assert msp_server.refunded_total == {order_id: 96000}
    assert the_payment().charge_status == ChargeStatus.FULLY_REFUNDED


def test_multisafepay_customer_returns_before_the_notification(
    msp_gateway, msp_server, license_products, plugin_api, user_api_client, provider_webhooks
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    order_id, notification_url = start_redirect(user_api_client, checkout_id, msp_server)
    msp_server.set_status(order_id, "completed")

    done = complete_checkout(user_api_client, checkout_id)  # status fetched from MultiSafepay

    assert done["errors"] == [] and done["order"]["chargeStatus"] == "FULL", done
    assert active_licenses().count() == 2

    response, _, _ = notify(provider_webhooks, msp_server, order_id, notification_url)
    assert response.status_code == 200
    assert the_payment().transactions.filter(kind=TransactionKind.CAPTURE).count() == 1
    assert License.objects.count() == 2


@pytest.mark.parametrize(
    ("notified", "error"),
    [
        # The notification voided the payment: Saleor sees no active payment covering the total.
        (True, "CHECKOUT_NOT_FULLY_PAID"),
        # The customer is back first: confirm_payment fetches the declined status.
        (False, "PAYMENT_ERROR"),
    ],
    ids=["notified", "customer_returns"],
)
def test_multisafepay_declined_issues_nothing(
    msp_gateway,
    msp_server,
    license_products,
    plugin_api,
    user_api_client,
    provider_webhooks,
    notified,
    error,
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    order_id, notification_url = start_redirect(user_api_client, checkout_id, msp_server)
    msp_server.set_status(order_id, "declined")
    if notified:
        response, _, _ = notify(provider_webhooks, msp_server, order_id, notification_url)
        assert response.status_code == 200
        payment = the_payment()
        assert payment.charge_status == ChargeStatus.CANCELLED and not payment.is_active

    result = complete_checkout(user_api_client, checkout_id)

    assert result["order"] is None, result
    assert [e["code"] for e in result["errors"]] == [error], result
    assert not Order.objects.exists() and not License.objects.exists()
    assert the_payment().captured_amount == 0


def test_multisafepay_notification_with_a_bad_signature_changes_nothing(
    msp_gateway, msp_server, license_products, plugin_api, user_api_client, provider_webhooks
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    order_id, notification_url = start_redirect(user_api_client, checkout_id, msp_server)
    msp_server.set_status(order_id, "completed")
    body, auth = msp_server.notification(order_id, key="not-the-api-key")

    response = provider_webhooks.post(notification_url, body, HTTP_AUTH=auth)

    assert response.status_code == 400
    assert the_payment().charge_status == ChargeStatus.NOT_CHARGED
    assert not ProcessedNotification.objects.exists()


def pay_with_multisafepay(user_api_client, checkout_id, msp_server):
    order_id, notification_url = start_redirect(user_api_client, checkout_id, msp_server)
    msp_server.set_status(order_id, "completed")
    done = complete_checkout(user_api_client, checkout_id)
    assert done["order"]["chargeStatus"] == "FULL", done
    assert active_licenses().count() == 2
    return done["order"], order_id, notification_url


def test_multisafepay_refund_in_control_refunds_the_order_and_revokes_licenses(
    msp_gateway, msp_server, license_products, plugin_api, user_api_client, provider_webhooks
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    _, order_id, notification_url = pay_with_multisafepay(user_api_client, checkout_id, msp_server)
    # Refunded in MultiSafepay Control: Saleor learns of it from the notification.
    refund = requests.post(
        f"{msp_server.base_url}orders/{order_id}/refunds",
        json={"currency": "USD", "amount": 96000, "description": "refund in Control"},
        headers={"api_key": msp_server.api_key},
        timeout=5,
    )
    assert refund.json()["success"] is True

    response, body, auth = notify(provider_webhooks, msp_server, order_id, notification_url)

    assert response.status_code == 200
    payment = the_payment()
    assert payment.charge_status == ChargeStatus.FULLY_REFUNDED
    assert Order.objects.get().charge_status == OrderChargeStatus.NONE
    assert set(License.objects.values_list("status", flat=True)) == {LicenseStatus.REVOKED}

    assert provider_webhooks.post(notification_url, body, HTTP_AUTH=auth).status_code == 200
    assert payment.transactions.filter(kind=TransactionKind.REFUND).count() == 1
    assert [lic.events.filter(action="revoked").count() for lic in License.objects.all()] == [1, 1]


def test_multisafepay_staff_refund_is_sent_once_and_revokes_licenses(
    msp_gateway,
    msp_server,
    license_products,
    plugin_api,
    user_api_client,
    orders_staff_client,
    provider_webhooks,
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    order, order_id, notification_url = pay_with_multisafepay(
        user_api_client, checkout_id, msp_server
    )

    refunded = get_graphql_content(
        orders_staff_client.post_graphql(ORDER_REFUND, {"id": order["id"], "amount": "960.00"})
    )["data"]["orderRefund"]

    assert refunded["errors"] == [], refunded
    assert msp_server.refunded_total == {order_id: 96000}
    assert set(License.objects.values_list("status", flat=True)) == {LicenseStatus.REVOKED}
    # MultiSafepay's notification about that refund: already recorded.
    response, _, _ = notify(provider_webhooks, msp_server, order_id, notification_url)
    assert response.status_code == 200
    assert the_payment().transactions.filter(kind=TransactionKind.REFUND).count() == 1
    assert len(msp_server.refund_requests) == 1


# --- Offline ---------------------------------------------------------------------------------


def test_offline_purchase_order_is_issued_when_staff_capture(
    offline_gateway,
    license_products,
    plugin_api,
    user_api_client,
    orders_staff_client,
    mailoutbox,
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    total = create_payment(user_api_client, checkout_id, OFFLINE_ID)

    result = complete_checkout(user_api_client, checkout_id, {"reference": "PO-2026-0017"})

    assert result["errors"] == [] and result["confirmationNeeded"] is False, result
    assert (result["order"]["chargeStatus"], result["order"]["authorizeStatus"]) == (
        "NONE",
        "FULL",
    )
    payment = the_payment()
    assert payment.psp_reference == "PO-2026-0017"
    [auth] = payment.transactions.filter(kind=TransactionKind.AUTH)
    assert "PO-2026-0017" in auth.gateway_response["instructions"]
    assert "960.00 USD" in auth.gateway_response["instructions"]
    assert not License.objects.exists()

    # Saleor refuses orderMarkAsPaid on an order that has a payment: capture is the way.
    marked = get_graphql_content(
        orders_staff_client.post_graphql(ORDER_MARK_AS_PAID, {"id": result["order"]["id"]})
    )["data"]["orderMarkAsPaid"]
    assert marked["errors"], marked
    assert not License.objects.exists()

    captured = capture_order(orders_staff_client, result["order"]["id"], total)

    assert captured["errors"] == [] and captured["order"]["chargeStatus"] == "FULL", captured
    assert active_licenses().count() == 2
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("payment_data", "message"),
    [
        (None, "Purchase order number is required."),
        ({"reference": "PO#17; DROP"}, "may contain only letters, digits"),
    ],
    ids=["missing", "invalid"],
)
def test_offline_reference_is_required(
    offline_gateway,
    license_products,
    plugin_api,
    user_api_client,
    payment_data,
    message,
):
    checkout_id = license_checkout(plugin_api, user_api_client, license_products)
    create_payment(user_api_client, checkout_id, OFFLINE_ID)

    refused = complete_checkout(user_api_client, checkout_id, payment_data)

    assert refused["order"] is None
    [error] = refused["errors"]
    assert error["code"] == "PAYMENT_ERROR" and message in error["message"], error
    assert not Order.objects.exists() and not License.objects.exists()

    # The customer corrects the reference and completes the same checkout.
    fixed = complete_checkout(user_api_client, checkout_id, {"reference": "PO 17"})
    assert fixed["errors"] == [] and fixed["order"]["chargeStatus"] == "NONE", fixed
    assert not License.objects.exists()
