"""A cloud subscription ordered through Saleor's checkout (issue 11): the SUBSCRIBE line is
priced and checked by the plugin, completes with Saleor's checkoutComplete, and the paid order
starts the subscription with its entitlement."""

from saleor_license_plugin.models import Subscription

from flows import add_license_lines, create_checkout, pay_and_complete
from license_fixtures import gid


def test_a_prepaid_cloud_subscription_is_ordered_and_started(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    checkout_id = create_checkout(user_api_client)
    line = {
        "variantId": gid("ProductVariant", license_products["plan"].pk),
        "action": "SUBSCRIBE",
        "subscription": {
            "mode": "PREPAID",
            "domain": "pbx.customer.example",
            "dataLocation": "eu-west",
            "company": "Customer GmbH",
        },
    }
    added = add_license_lines(plugin_api, checkout_id, [line])
    assert added["errors"] == [], added
    assert added["lines"][0]["quote"]["total"]["amount"] == 30.0
    result = pay_and_complete(user_api_client, checkout_id)
    assert result["errors"] == [] and result["order"]["chargeStatus"] == "FULL", result
    subscription = Subscription.objects.get()
    assert (subscription.domain, subscription.mode) == ("pbx.customer.example", "prepaid")
    assert subscription.license.owner_id == gid("User", customer_user.pk)


def test_a_taken_domain_is_refused_when_the_line_is_added(
    license_plugin, license_products, plugin_api, user_api_client
):
    def subscribe():
        checkout_id = create_checkout(user_api_client)
        line = {
            "variantId": gid("ProductVariant", license_products["plan"].pk),
            "action": "SUBSCRIBE",
            "subscription": {
                "mode": "PREPAID",
                "domain": "taken.example",
                "dataLocation": "eu-west",
            },
        }
        return checkout_id, add_license_lines(plugin_api, checkout_id, [line])

    checkout_id, added = subscribe()
    assert pay_and_complete(user_api_client, checkout_id)["errors"] == []
    _, again = subscribe()
    assert [error["code"] for error in again["errors"]] == ["DOMAIN_TAKEN"]


UPGRADE = """mutation($id: ID!, $variant: ID!) {
  subscriptionUpgradeCheckoutCreate(id: $id, variantId: $variant) {
    checkoutId lines { quote { action unitPrice { amount currency } } }
    errors { field code message } } }"""
PROVISIONED = """mutation($id: ID!, $password: String!) {
  subscriptionProvisioned(id: $id, loginUrl: "https://pbx.customer.example/",
                          username: "Admin", password: $password) {
    credentialsSent errors { field code } } }"""


def test_a_subscription_is_provisioned_then_upgraded_through_checkout_complete(
    license_plugin,
    license_products,
    plugin_api,
    staff_plugin_api,
    user_api_client,
    customer_user,
    channel_USD,
    settings,
):
    """Ordered pre-paid; staff report the instance ready (the login goes to the buyer once);
    the customer upgrades to a dearer plan: a PLAN_UPGRADE checkout priced on the server,
    completed by Saleor's checkoutComplete, and the paid order switches the plan."""
    from decimal import Decimal

    from django.core import mail

    from saleor_license_plugin.models import LicenseEvent, ProvisioningRequest

    from license_fixtures import _variant

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    plan = license_products["plan"]
    pro = _variant(
        plan.product,
        "CPBX-M-PRO",
        "Monthly Pro",
        "90",
        channel_USD,
        {"license.plan": "Cloud PBX Pro", "license.user_cap": "500"},
    )
    checkout_id = create_checkout(user_api_client)
    line = {
        "variantId": gid("ProductVariant", plan.pk),
        "action": "SUBSCRIBE",
        "subscription": {
            "mode": "PREPAID",
            "domain": "pbx.customer.example",
            "dataLocation": "eu-west",
        },
    }
    assert add_license_lines(plugin_api, checkout_id, [line])["errors"] == []
    assert pay_and_complete(user_api_client, checkout_id)["errors"] == []
    subscription = Subscription.objects.get()
    request = ProvisioningRequest.objects.get(subscription=subscription)
    assert request.status == "manual" and request.orderer_email == customer_user.email

    mail.outbox = []
    sid = gid("Subscription", subscription.pk)
    ready = staff_plugin_api.post(PROVISIONED, {"id": sid, "password": "Initial-Pass-123"})
    assert ready["subscriptionProvisioned"] == {"credentialsSent": 1, "errors": []}
    [email] = mail.outbox
    assert email.to == [customer_user.email] and "Initial-Pass-123" in email.body
    request.refresh_from_db()
    assert request.credentials_sealed == ""

    created = plugin_api.post(UPGRADE, {"id": sid, "variant": gid("ProductVariant", pro.pk)})
    created = created["subscriptionUpgradeCheckoutCreate"]
    assert created["errors"] == [], created
    [quoted] = created["lines"]
    assert quoted["quote"]["action"] == "PLAN_UPGRADE"
    # (90 - 30) for the (nearly) whole month left: a few seconds of the period went by.
    assert Decimal("59.00") < Decimal(str(quoted["quote"]["unitPrice"]["amount"])) <= 60
    result = pay_and_complete(user_api_client, created["checkoutId"])
    assert result["errors"] == [] and result["order"]["chargeStatus"] == "FULL", result
    subscription.refresh_from_db()
    assert (subscription.plan, subscription.plan_variant) == (
        "Cloud PBX Pro",
        gid("ProductVariant", pro.pk),
    )
    assert subscription.license.capacity == 500
    assert (
        LicenseEvent.objects.filter(license=subscription.license, action="plan_upgraded").count()
        == 1
    )
    assert ProvisioningRequest.objects.count() == 1  # an upgrade provisions nothing new


# --- billing (issue 11, part A) ------------------------------------------------------------

STRIPE = "saleor_license_plugin.payments.stripe"
CARD_DECLINED_ON_CHARGE = "4000000000000341"  # localstripe: attaches, then every charge fails
PAY_BILL = """mutation($id: ID!) { subscriptionBillCheckoutCreate(billId: $id) {
  checkoutId errors { field code message } } }"""
USAGE = """mutation($key: String!, $users: Int!) {
  subscriptionUsageReport(licenseKey: $key, users: $users) {
    peakUsers errors { field code message } } }"""


def _subscribe(plugin_api, user_api_client, plan, mode, domain):
    from flows import complete, pay_and_complete

    checkout_id = create_checkout(user_api_client)
    line = {
        "variantId": gid("ProductVariant", plan.pk),
        "action": "SUBSCRIBE",
        "subscription": {"mode": mode, "domain": domain, "dataLocation": "eu-west"},
    }
    added = add_license_lines(plugin_api, checkout_id, [line])
    assert added["errors"] == [], added
    if added["lines"][0]["quote"]["total"]["amount"] == 0:  # nothing to pay yet
        result = complete(user_api_client, checkout_id)
    else:
        result = pay_and_complete(user_api_client, checkout_id)
    assert result["errors"] == [], result
    return Subscription.objects.select_related("license").get(domain=domain)


def _save_card(localstripe, user, subscription, channel, number=None):
    """The state a subscription paid with a card saved for off-session use leaves (see
    test_auto_renew.saved_card: localstripe refuses setup_future_usage)."""
    import requests
    from saleor.payment.utils import store_customer_id

    from saleor_license_plugin.models import License
    from tests.payments.servers import CARD_OK, STRIPE_KEY, card_payment_method

    auth = (STRIPE_KEY, "")
    customer = requests.post(
        f"{localstripe}/v1/customers", data={"email": user.email}, auth=auth, timeout=5
    ).json()["id"]
    card = card_payment_method(localstripe, number or CARD_OK)
    requests.post(
        f"{localstripe}/v1/payment_methods/{card}/attach",
        data={"customer": customer},
        auth=auth,
        timeout=5,
    ).raise_for_status()
    store_customer_id(user, STRIPE, customer)
    License.objects.filter(pk=subscription.license_id).update(
        auto_renew_gateway=STRIPE, auto_renew_channel=channel.slug
    )


def _started_days_ago(subscription, days):
    """Move the subscription's start back in time (the tier cannot wait a month)."""
    from datetime import timedelta

    from django.utils import timezone

    from saleor_license_plugin.licensing.subscriptions import add_months
    from saleor_license_plugin.models import License

    start = timezone.now() - timedelta(days=days)
    Subscription.objects.filter(pk=subscription.pk).update(
        created_at=start, current_period_start=start, current_period_end=add_months(start, 1)
    )
    License.objects.filter(pk=subscription.license_id).update(term_expires_at=add_months(start, 1))
    return Subscription.objects.select_related("license").get(pk=subscription.pk)


def test_a_postpaid_subscription_with_a_free_month_is_billed_at_its_peak_on_the_saved_card(
    stripe_gateway,
    license_plugin,
    license_products,
    plugin_api,
    user_api_client,
    customer_user,
    channel_USD,
    localstripe,
    django_capture_on_commit_callbacks,
):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone
    from saleor.order.models import Order

    from saleor_license_plugin.fulfillment.host import task_host
    from saleor_license_plugin.fulfillment.subscription_billing import run_subscription_billing
    from saleor_license_plugin.licensing.subscriptions import add_months
    from saleor_license_plugin.models import BillStatus, SubscriptionBill, SubscriptionStatus

    plan = license_products["plan"]
    plan.metadata = {**plan.metadata, "license.free_first_period": "true"}
    plan.save(update_fields=["metadata"])
    subscription = _subscribe(plugin_api, user_api_client, plan, "POSTPAID", "pbx.postpaid.example")
    assert subscription.status == SubscriptionStatus.TRIALING
    _save_card(localstripe, customer_user, subscription, channel_USD)
    subscription = _started_days_ago(subscription, 40)  # the free month ended 9-12 days ago
    start = subscription.created_at

    # The free month ends: the subscription converts, nothing is billed for it.
    report = run_subscription_billing(task_host())
    assert report.close.converted == 1 and report.close.bills == 0, report
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.current_period_end == add_months(start, 2)

    # The instance reports its users during the second month: the day's peak only rises.
    key = subscription.license.display_key()
    for users in (12, 40, 9):
        result = plugin_api.post(USAGE, {"key": key, "users": users})["subscriptionUsageReport"]
        assert result["errors"] == [], result
    assert result["peakUsers"] == 40

    # After the month and the late-report window: one bill at the peak, charged off-session.
    after = subscription.current_period_end + timedelta(days=4)
    with django_capture_on_commit_callbacks(execute=True):
        report = run_subscription_billing(task_host(), now=after)
    assert report.finalize.issued == 1 and len(report.paid) == 1, report
    bill = SubscriptionBill.objects.get()
    assert (bill.users, bill.amount, bill.currency) == (40, Decimal("100.000"), "USD")
    assert (bill.status, bill.order_id) == (BillStatus.PAID, report.paid[0])
    order = Order.objects.get(pk=bill.order_id)
    assert order.charge_status == "full" and order.user == customer_user
    assert order.total_gross_amount == Decimal("100.00")
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.license.term_expires_at == add_months(start, 3)
    # The period is closed and billed once: a later run charges nothing more.
    assert run_subscription_billing(task_host(), now=after + timedelta(hours=1)).charged == 0
    assert timezone.now() < after  # (the tier moved the clock, not the database)


def test_a_declined_bill_makes_it_past_due_then_suspended_until_the_customer_pays(
    stripe_gateway,
    license_plugin,
    license_products,
    plugin_api,
    user_api_client,
    customer_user,
    channel_USD,
    localstripe,
    django_capture_on_commit_callbacks,
):
    from datetime import timedelta

    from django.utils import timezone
    from saleor.order.models import Order

    from saleor_license_plugin.fulfillment.host import task_host
    from saleor_license_plugin.fulfillment.subscription_billing import run_subscription_billing
    from saleor_license_plugin.models import BillStatus, SubscriptionBill, SubscriptionStatus

    from flows import verify

    subscription = _subscribe(
        plugin_api, user_api_client, license_products["plan"], "PREPAID", "pbx.declined.example"
    )
    orders_before = Order.objects.count()
    _save_card(localstripe, customer_user, subscription, channel_USD, CARD_DECLINED_ON_CHARGE)
    subscription = _started_days_ago(subscription, 31)
    report = run_subscription_billing(task_host())
    assert report.declined == 1 and report.paid == [], report
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE
    bill = SubscriptionBill.objects.get()
    assert bill.status == BillStatus.DUE and "declined" in bill.last_outcome
    moment, suspended = timezone.now(), []
    for wait in (1, 3, 7):  # auto-renew's retries, each declined
        moment += timedelta(days=wait)
        suspended += run_subscription_billing(task_host(), now=moment).grace.suspended
    bill.refresh_from_db()
    assert (bill.status, bill.attempts) == (BillStatus.UNPAID, 4)
    assert Order.objects.count() == orders_before  # nothing was charged
    # SUBSCRIPTION_GRACE_DAYS (7) after the bill was issued, while the retries ran: suspended.
    assert moment >= bill.issued_at + timedelta(days=7)
    assert suspended == [subscription.pk]
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.SUSPENDED
    assert verify(plugin_api, subscription.license.display_key())["status"] == "SUSPENDED"

    # The customer pays the bill later (a checkout holding the bill, any gateway): the paid
    # order's hook settles the bill and the subscription is active again.
    from flows import pay_and_complete

    pay = plugin_api.post(PAY_BILL, {"id": gid("SubscriptionBill", bill.pk)})
    pay = pay["subscriptionBillCheckoutCreate"]
    assert pay["errors"] == [], pay
    with django_capture_on_commit_callbacks(execute=True):
        result = pay_and_complete(user_api_client, pay["checkoutId"])
    assert result["errors"] == [] and result["order"]["chargeStatus"] == "FULL", result
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID and bill.order_id
    order = Order.objects.get(pk=bill.order_id)
    assert order.total_gross_amount == bill.amount
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert verify(plugin_api, subscription.license.display_key())["status"] == "ACTIVE"
    again = plugin_api.post(PAY_BILL, {"id": gid("SubscriptionBill", bill.pk)})
    assert [e["code"] for e in again["subscriptionBillCheckoutCreate"]["errors"]] == ["NOT_FOUND"]


def test_a_prepaid_subscription_renews_on_its_own(
    stripe_gateway,
    license_plugin,
    license_products,
    plugin_api,
    user_api_client,
    customer_user,
    channel_USD,
    localstripe,
    django_capture_on_commit_callbacks,
):
    from decimal import Decimal

    from saleor.order.models import Order

    from saleor_license_plugin.fulfillment.host import task_host
    from saleor_license_plugin.fulfillment.subscription_billing import run_subscription_billing
    from saleor_license_plugin.licensing.subscriptions import add_months
    from saleor_license_plugin.models import BillKind, BillStatus, SubscriptionBill

    from flows import verify

    subscription = _subscribe(
        plugin_api, user_api_client, license_products["plan"], "PREPAID", "pbx.prepaid.example"
    )
    _save_card(localstripe, customer_user, subscription, channel_USD)
    subscription = _started_days_ago(subscription, 31)
    start = subscription.created_at
    with django_capture_on_commit_callbacks(execute=True):
        report = run_subscription_billing(task_host())
    assert len(report.paid) == 1, report
    bill = SubscriptionBill.objects.get()
    assert (bill.kind, bill.status, bill.amount) == (
        BillKind.IN_ADVANCE,
        BillStatus.PAID,
        Decimal("30.000"),
    )
    assert (bill.period_start, bill.period_end) == (add_months(start, 1), add_months(start, 2))
    order = Order.objects.get(pk=bill.order_id)
    assert order.charge_status == "full" and order.total_gross_amount == Decimal("30.00")
    subscription.refresh_from_db()
    assert subscription.license.term_expires_at == add_months(start, 2)
    verification = verify(plugin_api, subscription.license.display_key())
    assert verification["status"] == "ACTIVE"
    assert run_subscription_billing(task_host()).charged == 0  # the next period is a month away
