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
