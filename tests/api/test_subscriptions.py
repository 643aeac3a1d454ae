"""The portal's subscriptions list and usage reports by the instance's key (issue 11)."""

import pytest
from django.utils import timezone

from saleor_license_plugin.fulfillment.orders import apply_order
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import Subscription
from tests.fulfillment.payloads import LineInput, order

from .helpers import ALICE, BOB, STAFF, gql

pytestmark = pytest.mark.django_db

LIST = """{ subscriptions(first: 10) { totalCount edges { node {
  plan mode period status domain dataLocation peakUsers license { keyHint kind } } } } }"""
REPORT = """mutation($key: String!, $users: Int!) {
  subscriptionUsageReport(licenseKey: $key, users: $users) { peakUsers errors { field code } } }"""


def subscribed():
    details = {"mode": "postpaid", "domain": "pbx.acme.example", "data_location": "eu-west"}
    line = [LineInput("plan-m", LineAction.SUBSCRIBE, subscription=details)]
    apply_order(order("s1", ALICE, line, timezone.now()), now=timezone.now())
    return Subscription.objects.get()


def test_customers_see_their_subscriptions_and_nobody_elses():
    subscribed()
    [edge] = gql(LIST, principal=ALICE).data["subscriptions"]["edges"]
    node = edge["node"]
    assert (node["plan"], node["mode"], node["status"]) == ("Cloud PBX", "postpaid", "active")
    assert node["license"]["kind"] == "SUBSCRIPTION" and node["peakUsers"] == 0
    assert gql(LIST, principal=BOB).data["subscriptions"]["totalCount"] == 0
    assert gql(LIST, principal=STAFF).data["subscriptions"]["totalCount"] == 1


def test_the_instance_reports_usage_with_its_key():
    subscription = subscribed()
    key = subscription.license.display_key()
    first = gql(REPORT, {"key": key, "users": 12}).payload("subscriptionUsageReport")
    lower = gql(REPORT, {"key": key, "users": 7}).payload("subscriptionUsageReport")
    assert (first["peakUsers"], lower["peakUsers"]) == (12, 12)
    [edge] = gql(LIST, principal=ALICE).data["subscriptions"]["edges"]
    assert edge["node"]["peakUsers"] == 12
    unknown = gql(REPORT, {"key": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-A", "users": 3})
    assert unknown.codes("subscriptionUsageReport") in (["NOT_FOUND"], ["MALFORMED_KEY"])


BILLS = """{ subscriptions(first: 10) { edges { node { status autoRenew bills {
  id kind status users periodStart amount { amount currency } orderId } } } } }"""
PAY_BILL = """mutation($id: ID!) { subscriptionBillCheckoutCreate(billId: $id) {
  checkoutId errors { field code } } }"""


def test_bills_show_on_the_subscription_and_a_closed_period_refuses_reports():
    from datetime import timedelta

    from saleor_license_plugin.licensing import subscription_billing as billing
    from tests.factories import CATALOG

    subscription = subscribed()
    key = subscription.license.display_key()
    gql(REPORT, {"key": key, "users": 12})
    end = subscription.current_period_end
    billing.close_periods(CATALOG, now=end)
    billing.finalize_arrears(CATALOG, now=end + timedelta(days=30))
    [edge] = gql(BILLS, principal=ALICE).data["subscriptions"]["edges"]
    [bill] = edge["node"]["bills"]
    assert (bill["kind"], bill["status"], bill["users"]) == ("in_arrears", "due", 12)
    assert bill["amount"] == {"amount": 30.0, "currency": "EUR"} and bill["orderId"] == ""
    assert edge["node"]["autoRenew"] is True
    # Paying it needs Saleor's checkouts; someone else's bill is not found either way.
    assert gql(PAY_BILL, {"id": bill["id"]}, principal=BOB).codes(
        "subscriptionBillCheckoutCreate"
    ) == ["NOT_FOUND"]
    assert gql(PAY_BILL, {"id": "nope"}, principal=ALICE).codes(
        "subscriptionBillCheckoutCreate"
    ) == ["INVALID_ID"]
