"""Auto-renew inside Saleor (issue 10): a license with auto-renew and a Stripe card saved for
off-session use (localstripe) renews itself before expiry into a paid Saleor order and a term a
year longer; without a card the attempt is declined and retried; a card payment that does not
save the card cannot ask for auto-renew at checkoutComplete."""

import json
from datetime import timedelta

import requests
from django.utils import timezone
from saleor.graphql.tests.utils import get_graphql_content
from saleor.order.models import Order

from saleor_license_plugin.fulfillment.autorenew import run_auto_renewals
from saleor_license_plugin.fulfillment.host import task_host
from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.models import AutoRenewal, License, RenewalStatus
from tests.payments.servers import STRIPE_KEY, card_payment_method

from flows import add_license_lines, checkout_total, create_checkout
from license_fixtures import gid
from payment_fixtures import complete_checkout
from test_license_flows import own_license

STRIPE = "saleor_license_plugin.payments.stripe"
PAY = """
mutation Pay($id: ID!, $input: PaymentInput!) {
  checkoutPaymentCreate(id: $id, input: $input) { payment { id } errors { field code message } }
}
"""


def buy_with_auto_renew(plugin_api, user_api_client, products, localstripe, store="OFF_SESSION"):
    checkout_id = create_checkout(user_api_client)
    line = {
        "variantId": gid("ProductVariant", products["cloud-8"].pk),
        "action": "NEW",
        "autoRenew": True,
    }
    added = add_license_lines(plugin_api, checkout_id, [line])
    assert added["errors"] == [], added
    total = checkout_total(user_api_client, checkout_id)
    payment = {"gateway": STRIPE, "amount": str(total), "storePaymentMethod": store}
    created = get_graphql_content(
        user_api_client.post_graphql(PAY, {"id": checkout_id, "input": payment})
    )["data"]["checkoutPaymentCreate"]
    assert created["errors"] == [], created
    card = card_payment_method(localstripe)  # as Stripe.js creates it in the browser
    return complete_checkout(user_api_client, checkout_id, {"payment_method_id": card})


def saved_card(localstripe, user):
    """What the first purchase leaves behind with real Stripe (a customer with the card saved
    for off-session use). localstripe refuses ``setup_future_usage`` ("Unexpected
    setup_future_usage"), so the tier builds that state directly: the customer, the card
    attached to it, the customer id where Saleor keeps it (the user's private metadata)."""
    from saleor.payment.utils import store_customer_id

    auth = (STRIPE_KEY, "")
    customer = requests.post(
        f"{localstripe}/v1/customers", data={"email": user.email}, auth=auth, timeout=5
    ).json()["id"]
    card = card_payment_method(localstripe)
    requests.post(
        f"{localstripe}/v1/payment_methods/{card}/attach",
        data={"customer": customer},
        auth=auth,
        timeout=5,
    ).raise_for_status()
    store_customer_id(user, STRIPE, customer)


def test_a_license_with_auto_renew_renews_itself_before_expiry(
    stripe_gateway,
    license_products,
    customer_user,
    channel_USD,
    localstripe,
    django_capture_on_commit_callbacks,
):
    saved_card(localstripe, customer_user)
    license = own_license(customer_user, license_products["cloud-8"])
    lifecycle.set_auto_renew(license.pk, enabled=True, gateway=STRIPE, channel=channel_USD.slug)
    soon = timezone.now() + timedelta(days=3)  # the term ends within the lead time
    License.objects.filter(pk=license.pk).update(term_expires_at=soon)

    # Saleor runs order hooks on commit; the Celery task commits, the test's transaction not.
    with django_capture_on_commit_callbacks(execute=True):
        report = run_auto_renewals(task_host())
    assert report.declined == 0 and len(report.paid) == 1, report
    renewal = Order.objects.get(pk=report.paid[0])
    assert renewal.charge_status == "full" and renewal.user == customer_user
    license.refresh_from_db()
    assert license.term_expires_at.date() == (soon + timedelta(days=365)).date()
    assert AutoRenewal.objects.get().status == RenewalStatus.PAID
    assert run_auto_renewals(task_host()).due == 0  # the next period is a year away


def test_without_a_saved_card_the_renewal_is_declined_and_retried(
    stripe_gateway, license_products, customer_user, channel_USD
):
    license = own_license(customer_user, license_products["cloud-8"])
    lifecycle.set_auto_renew(license.pk, enabled=True, gateway=STRIPE, channel=channel_USD.slug)
    License.objects.filter(pk=license.pk).update(term_expires_at=timezone.now() + timedelta(days=3))
    report = run_auto_renewals(task_host())
    assert report.declined == 1 and report.paid == []
    assert AutoRenewal.objects.get().status == RenewalStatus.SCHEDULED
    assert not Order.objects.exists()


def test_auto_renew_without_a_saved_card_is_refused_at_checkout_complete(
    stripe_gateway, license_products, plugin_api, user_api_client, localstripe
):
    result = buy_with_auto_renew(
        plugin_api, user_api_client, license_products, localstripe, store="NONE"
    )
    assert result["order"] is None
    codes = [error["message"].split(":")[0] for error in result["errors"]]
    assert codes == ["AUTO_RENEW_NEEDS_CARD"], json.dumps(result)


RENEW = """mutation($token: String!) { renewalCheckoutCreate(token: $token) {
  checkoutId lines { quote { action } } errors { field code message } } }"""


def test_a_reminders_renewal_link_becomes_a_checkout_that_completes(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    from saleor_license_plugin.licensing.renewals import ExpiryKind, make_link_token

    from flows import pay_and_complete

    license = own_license(customer_user, license_products["cloud-8"])
    before = license.term_expires_at
    token = make_link_token(gid("User", customer_user.pk), [(license.pk, ExpiryKind.TERM)])
    created = plugin_api.post(RENEW, {"token": token})["renewalCheckoutCreate"]
    assert created["errors"] == [], created
    assert [line["quote"]["action"] for line in created["lines"]] == ["RENEW_LICENSE"]
    result = pay_and_complete(user_api_client, created["checkoutId"])
    assert result["errors"] == [] and result["order"]["chargeStatus"] == "FULL", result
    license.refresh_from_db()
    assert license.term_expires_at.year == before.year + 1
