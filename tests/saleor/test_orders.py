"""After checkout: vouchers on license lines, refunds and cancellations, and offline orders that
are issued when staff mark them paid (optionally with a pending-payment grace period)."""

from decimal import Decimal

import pytest
from saleor.graphql.tests.utils import get_graphql_content
from saleor.order.models import Order

from saleor_license_plugin.licensing.checkout_lines import RESULT_KEY
from saleor_license_plugin.models import License, LicenseStatus

from flows import (
    ADD_PROMO_CODE,
    add_license_lines,
    checkout_total,
    complete,
    create_checkout,
    pay_and_complete,
)
from license_fixtures import gid
from test_license_flows import own_license

ORDER_REFUND = """
mutation Refund($id: ID!, $amount: PositiveDecimal!) {
  orderRefund(id: $id, amount: $amount) { order { id } errors { field code message } }
}
"""
ORDER_MARK_AS_PAID = """
mutation MarkPaid($id: ID!, $reference: String) {
  orderMarkAsPaid(id: $id, transactionReference: $reference) {
    order { chargeStatus }
    errors { field code message }
  }
}
"""
ORDER_CANCEL = """
mutation Cancel($id: ID!) {
  orderCancel(id: $id) { order { status } errors { field code message } }
}
"""


@pytest.fixture
def staff_orders_client(staff_api_client, permission_group_manage_orders):
    permission_group_manage_orders.user_set.add(staff_api_client.user)
    return staff_api_client


def new_line(products, key="pro-8", **extra):
    return {"variantId": gid("ProductVariant", products[key].pk), "action": "NEW", **extra}


def test_a_voucher_applies_to_license_lines(
    license_plugin, license_products, plugin_api, user_api_client, voucher
):
    checkout_id = create_checkout(user_api_client)
    add_license_lines(plugin_api, checkout_id, [new_line(license_products)])
    promo = get_graphql_content(
        user_api_client.post_graphql(ADD_PROMO_CODE, {"id": checkout_id, "code": voucher.code})
    )
    assert promo["data"]["checkoutAddPromoCode"]["errors"] == []
    assert checkout_total(user_api_client, checkout_id) == Decimal("380.00")  # 400 - 20
    result = pay_and_complete(user_api_client, checkout_id)
    assert result["errors"] == [], result
    assert License.objects.filter(status=LicenseStatus.ACTIVE).count() == 1


def test_a_full_refund_revokes_new_licenses_and_suspends_changed_ones(
    license_plugin,
    license_products,
    plugin_api,
    user_api_client,
    customer_user,
    staff_orders_client,
):
    existing = own_license(customer_user, license_products["pro-8"])
    checkout_id = create_checkout(user_api_client)
    add_license_lines(
        plugin_api,
        checkout_id,
        [
            new_line(license_products),
            {
                "variantId": gid("ProductVariant", license_products["pro-16"].pk),
                "action": "UPGRADE",
                "licenseKey": existing.display_key(),
            },
        ],
    )
    total = checkout_total(user_api_client, checkout_id)
    result = pay_and_complete(user_api_client, checkout_id)
    order_id = result["order"]["id"]
    issued = License.objects.exclude(pk=existing.pk).get()
    refund = get_graphql_content(
        staff_orders_client.post_graphql(ORDER_REFUND, {"id": order_id, "amount": str(total)})
    )
    assert refund["data"]["orderRefund"]["errors"] == []
    issued.refresh_from_db()
    existing.refresh_from_db()
    assert issued.status == LicenseStatus.REVOKED
    assert existing.status == LicenseStatus.SUSPENDED  # the customer owned it before: staff decide
    assert issued.events.filter(action="revoked", note="fully_refunded").count() == 1


def test_a_partial_refund_suspends_for_review(
    license_plugin, license_products, plugin_api, user_api_client, staff_orders_client
):
    checkout_id = create_checkout(user_api_client)
    add_license_lines(plugin_api, checkout_id, [new_line(license_products, quantity=2)])
    order_id = pay_and_complete(user_api_client, checkout_id)["order"]["id"]
    get_graphql_content(
        staff_orders_client.post_graphql(ORDER_REFUND, {"id": order_id, "amount": "10.00"})
    )
    assert set(License.objects.values_list("status", flat=True)) == {LicenseStatus.SUSPENDED}


@pytest.fixture
def offline_channel(channel_USD):
    channel_USD.allow_unpaid_orders = True
    channel_USD.save(update_fields=["allow_unpaid_orders"])
    return channel_USD


def test_an_offline_order_is_issued_when_staff_mark_it_paid(
    license_plugin,
    license_products,
    plugin_api,
    user_api_client,
    staff_orders_client,
    offline_channel,
    mailoutbox,
):
    checkout_id = create_checkout(user_api_client)
    add_license_lines(plugin_api, checkout_id, [new_line(license_products, quantity=2)])
    result = complete(user_api_client, checkout_id)  # no payment: the channel allows unpaid orders
    assert result["errors"] == [] and result["order"]["chargeStatus"] == "NONE", result
    assert not License.objects.exists()
    paid = get_graphql_content(
        staff_orders_client.post_graphql(
            ORDER_MARK_AS_PAID, {"id": result["order"]["id"], "reference": "BANK-2026-0042"}
        )
    )
    assert paid["data"]["orderMarkAsPaid"]["errors"] == []
    assert License.objects.filter(status=LicenseStatus.ACTIVE).count() == 2
    order = Order.objects.get()
    assert len(order.lines.get().private_metadata[RESULT_KEY]["licenses"]) == 2
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("plugin_config", [{"pending_payment_grace_days": "7"}])
def test_grace_days_issue_pending_licenses_that_activate_when_paid(
    license_plugin,
    license_products,
    plugin_api,
    user_api_client,
    staff_orders_client,
    offline_channel,
    plugin_config,
    mailoutbox,
):
    checkout_id = create_checkout(user_api_client)
    add_license_lines(plugin_api, checkout_id, [new_line(license_products)])
    result = complete(user_api_client, checkout_id)
    [pending] = License.objects.all()
    assert pending.status == LicenseStatus.PENDING_PAYMENT and pending.pending_payment_until
    assert mailoutbox == []  # keys go out once paid
    get_graphql_content(
        staff_orders_client.post_graphql(ORDER_MARK_AS_PAID, {"id": result["order"]["id"]})
    )
    pending.refresh_from_db()
    assert pending.status == LicenseStatus.ACTIVE and License.objects.count() == 1
    assert pending.display_key() in mailoutbox[0].body


@pytest.mark.parametrize("plugin_config", [{"pending_payment_grace_days": "7"}])
def test_cancelling_an_unpaid_order_revokes_its_pending_licenses(
    license_plugin,
    license_products,
    plugin_api,
    user_api_client,
    staff_orders_client,
    offline_channel,
    plugin_config,
):
    checkout_id = create_checkout(user_api_client)
    add_license_lines(plugin_api, checkout_id, [new_line(license_products)])
    result = complete(user_api_client, checkout_id)
    cancel = get_graphql_content(
        staff_orders_client.post_graphql(ORDER_CANCEL, {"id": result["order"]["id"]})
    )
    assert cancel["data"]["orderCancel"]["errors"] == []
    assert License.objects.get().status == LicenseStatus.REVOKED


def upgrade_line(products, license):
    return {
        "variantId": gid("ProductVariant", products["pro-16"].pk),
        "action": "UPGRADE",
        "licenseKey": license.display_key(),
    }


def test_a_second_unpaid_order_for_the_same_upgrade_fails_at_checkout_complete(
    license_plugin,
    license_products,
    plugin_api,
    user_api_client,
    customer_user,
    staff_orders_client,
    offline_channel,
):
    """Issue 9: both orders were created and paid; the second upgrade was refused at
    fulfillment and the customer paid for nothing. Now the second checkout cannot complete
    while the first order is unpaid, and can once it is cancelled."""
    existing = own_license(customer_user, license_products["pro-8"])
    first = create_checkout(user_api_client)
    add_license_lines(plugin_api, first, [upgrade_line(license_products, existing)])
    second = create_checkout(user_api_client)
    add_license_lines(plugin_api, second, [upgrade_line(license_products, existing)])
    placed = complete(user_api_client, first)
    assert placed["errors"] == [] and placed["order"]["chargeStatus"] == "NONE", placed

    refused = complete(user_api_client, second)
    assert refused["order"] is None
    assert [e["message"].split(":")[0] for e in refused["errors"]] == ["CHANGE_PENDING"]

    get_graphql_content(
        staff_orders_client.post_graphql(ORDER_CANCEL, {"id": placed["order"]["id"]})
    )
    retried = complete(user_api_client, second)
    assert retried["errors"] == [], retried


def test_a_paid_line_that_cannot_apply_is_refunded_noted_and_told(
    license_plugin,
    license_products,
    plugin_api,
    user_api_client,
    customer_user,
    staff_orders_client,
    offline_channel,
    mailoutbox,
    settings,
):
    """Where the hold could not help (here: it lapsed), the second paid upgrade is refunded
    through the order's payment, staff see a note on the order and get an email, the buyer is
    told; marking it paid again changes nothing more."""
    from saleor.order import OrderEvents

    from saleor_license_plugin.models import PendingChange

    settings.ADMINS = [("Ops", "ops@shop.example")]
    existing = own_license(customer_user, license_products["pro-8"])
    orders = []
    for _ in range(2):
        checkout_id = create_checkout(user_api_client)
        add_license_lines(plugin_api, checkout_id, [upgrade_line(license_products, existing)])
        placed = complete(user_api_client, checkout_id)
        assert placed["errors"] == [], placed
        orders.append(placed["order"]["id"])
        PendingChange.objects.update(state="released")  # the hold lapsed
    for order_id in orders:
        paid = get_graphql_content(
            staff_orders_client.post_graphql(ORDER_MARK_AS_PAID, {"id": order_id})
        )
        assert paid["data"]["orderMarkAsPaid"]["errors"] == []
    existing.refresh_from_db()
    assert existing.capacity == 16  # the first upgrade applied
    second = Order.objects.order_by("number").last()
    notes = second.events.filter(type=OrderEvents.NOTE_ADDED)
    assert notes.count() == 1 and "NOT_AN_UPGRADE" in notes.get().parameters["message"]
    assert second.events.filter(type=OrderEvents.PAYMENT_REFUNDED).count() == 1
    assert [m.to for m in mailoutbox if "could not be applied" in m.subject] == [
        ["ops@shop.example"]
    ]
    assert any(m.to == [customer_user.email] and "refunded" in m.body for m in mailoutbox)
