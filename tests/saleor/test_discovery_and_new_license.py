"""The plugin inside a real Saleor: discovered through its entry point, its app migrated, and a
new-license line bought through Saleor's own checkoutComplete and paid."""

from decimal import Decimal
from importlib import metadata

from django.conf import settings as django_settings
from saleor.order.models import Order

from saleor_license_plugin.licensing import keys
from saleor_license_plugin.licensing.checkout_lines import RESULT_KEY, LineInput
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import License, LicenseStatus
from saleor_license_plugin.saleor_host.auth import principal_for_user
from saleor_license_plugin.saleor_host.checkout import add_license_lines

from flows import checkout_total, pay_and_complete
from license_fixtures import PLUGIN_ID, PLUGIN_PATH, discovered_plugins, gid


def test_saleor_discovers_the_plugin_and_its_app_through_the_entry_point():
    [entry] = [
        e
        for e in metadata.entry_points(group="saleor.plugins")
        if e.value == "saleor_license_plugin.plugin:LicensePlugin"
    ]
    assert entry.name == "saleor_license_plugin"
    assert "saleor_license_plugin" in django_settings.INSTALLED_APPS
    assert PLUGIN_PATH in discovered_plugins()


def test_plugin_configuration_is_what_the_dashboard_renders(license_plugin):
    plugin = license_plugin()
    assert plugin.PLUGIN_ID == PLUGIN_ID and not plugin.CONFIGURATION_PER_CHANNEL
    for item in plugin.configuration:
        assert item["help_text"] and item["label"], item["name"]
    types = {item["name"]: item["type"] for item in plugin.configuration}
    assert types["signing_key"] == "SecretMultiline"


def test_new_licenses_are_issued_when_the_order_is_paid(
    license_plugin, license_products, license_checkout, user_api_client, customer_user, mailoutbox
):
    plugin = license_plugin()
    buyer = principal_for_user(customer_user)
    line = LineInput(
        gid("ProductVariant", license_products["pro-8"].pk),
        LineAction.NEW,
        quantity=2,
        maintenance_years=1,
    )
    [(checkout_line, _)] = add_license_lines(
        license_checkout,
        buyer,
        [line],
        settings=plugin.license_settings(),
        catalog=plugin.catalog_for(license_checkout.channel),
        client_ip="127.0.0.1",
    )
    assert checkout_line.price_override == Decimal("480.00") and checkout_line.quantity == 2
    assert checkout_total(user_api_client, license_checkout) == Decimal("960.00")

    result = pay_and_complete(user_api_client, license_checkout)
    assert result["errors"] == [] and result["order"]["chargeStatus"] == "FULL", result

    order = Order.objects.get()
    licenses = License.objects.filter(origin_order_id=str(order.pk)).order_by("pk")
    assert licenses.count() == 2
    assert {lic.status for lic in licenses} == {LicenseStatus.ACTIVE}
    assert {lic.owner_id for lic in licenses} == {gid("User", customer_user.pk)}
    assert {(lic.edition, lic.capacity) for lic in licenses} == {("Professional", 8)}
    order_line = order.lines.get()
    assert order_line.private_metadata[RESULT_KEY]["licenses"] == [lic.pk for lic in licenses]
    [mail] = mailoutbox
    for lic in licenses:
        assert lic.display_key() in mail.body
        assert keys.normalize(lic.display_key()) not in str(order_line.private_metadata)
