"""verifyLicenseKey's offers are priced from a catalog list each process keeps for a few seconds;
what a customer pays never is: checkout lines are priced from the channel's listing as it is."""

from saleor.product.models import ProductVariantChannelListing

from saleor_license_plugin.saleor_host.catalog import LIST_TTL_SECONDS, forget_lists

from flows import add_license_lines, create_checkout, pay_and_complete
from license_fixtures import gid
from test_license_flows import own_license

OFFERS = """
mutation Verify($key: String!) {
  verifyLicenseKey(key: $key) {
    verification { upgrades { variantId total { amount } } }
    errors { field code message }
  }
}
"""


def upgrade_price(plugin_api, key, variant):
    result = plugin_api.post(OFFERS, {"key": key})["verifyLicenseKey"]
    assert result["errors"] == [], result
    prices = {u["variantId"]: u["total"]["amount"] for u in result["verification"]["upgrades"]}
    return prices[gid("ProductVariant", variant.pk)]


def test_a_price_change_reaches_checkout_lines_at_once_and_offers_within_seconds(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    assert 0 < LIST_TTL_SECONDS <= 60
    license = own_license(customer_user, license_products["pro-8"], maintenance_years=1)
    key = license.display_key()
    pro16 = license_products["pro-16"]
    assert upgrade_price(plugin_api, key, pro16) == 300.0  # 700 - 400

    ProductVariantChannelListing.objects.filter(variant=pro16).update(
        price_amount=900, discounted_price_amount=900
    )
    assert upgrade_price(plugin_api, key, pro16) == 300.0  # the list this process keeps

    checkout_id = create_checkout(user_api_client)
    line = {"variantId": gid("ProductVariant", pro16.pk), "action": "UPGRADE", "licenseKey": key}
    added = add_license_lines(plugin_api, checkout_id, [line])
    assert added["errors"] == [], added
    assert added["lines"][0]["quote"]["total"]["amount"] == 500.0  # 900 - 400: the listing
    forget_lists()  # as when the kept list expires (LIST_TTL_SECONDS)
    assert upgrade_price(plugin_api, key, pro16) == 500.0

    completed = pay_and_complete(user_api_client, checkout_id)
    assert completed["errors"] == [], completed  # checked against the listing: the same price
    license.refresh_from_db()
    assert license.capacity == 16  # paid at the listing's price, and applied
