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
