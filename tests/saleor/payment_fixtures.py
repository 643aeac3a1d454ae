"""Fixtures for the payment gateways inside Saleor: each gateway enabled per channel as the
Dashboard does it (a PluginConfiguration row for channel_USD), pointed at a real local provider
(localstripe, the local MultiSafepay server), plus the GraphQL documents and the webhook poster
the payment tests use."""

import json
from urllib.parse import urlsplit

import pytest
from django.test import TestCase
from saleor.graphql.tests.utils import get_graphql_content
from saleor.plugins.models import PluginConfiguration

from saleor_license_plugin.payments.multisafepay import plugin as msp_plugin
from saleor_license_plugin.payments.multisafepay.plugin import (
    MultiSafepayLicenseGatewayPlugin,
)
from saleor_license_plugin.payments.offline.plugin import OfflineLicenseGatewayPlugin
from saleor_license_plugin.payments.stripe.plugin import StripeLicenseGatewayPlugin
from tests.payments.fake_multisafepay import FakeMultiSafepay
from tests.payments.servers import MSP_KEY, STRIPE_KEY, WEBHOOK_SECRET, run_localstripe

from flows import PAYMENT_CREATE, checkout_total
from license_fixtures import discovered_plugins

STRIPE_ID = StripeLicenseGatewayPlugin.PLUGIN_ID
MSP_ID = MultiSafepayLicenseGatewayPlugin.PLUGIN_ID
OFFLINE_ID = OfflineLicenseGatewayPlugin.PLUGIN_ID

CHECKOUT_COMPLETE = """
mutation Complete($id: ID!, $paymentData: JSONString) {
  checkoutComplete(id: $id, paymentData: $paymentData) {
    order { id number status chargeStatus authorizeStatus paymentStatus }
    confirmationNeeded
    confirmationData
    errors { field code message }
  }
}
"""
ORDER_CAPTURE = """
mutation Capture($id: ID!, $amount: PositiveDecimal!) {
  orderCapture(id: $id, amount: $amount) {
    order { chargeStatus paymentStatus }
    errors { field code message }
  }
}
"""


GATEWAY_PATHS = {
    cls.PLUGIN_ID: f"{cls.__module__}.{cls.__name__}"
    for cls in (
        StripeLicenseGatewayPlugin,
        MultiSafepayLicenseGatewayPlugin,
        OfflineLicenseGatewayPlugin,
    )
}


def enable_gateway(plugin_id, channel, config):
    """A gateway activated for one channel, as the Dashboard saves it. Saleor found the class
    through the `saleor.plugins` entry points (the license_plugin fixture puts the discovered
    plugins into settings.PLUGINS)."""
    assert GATEWAY_PATHS[plugin_id] in discovered_plugins()
    PluginConfiguration.objects.update_or_create(
        identifier=plugin_id,
        channel=channel,
        defaults={
            "active": True,
            "configuration": [{"name": k, "value": v} for k, v in config.items()],
        },
    )
    return plugin_id


# --- Stripe against localstripe --------------------------------------------------------------


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    with run_localstripe(tmp_path_factory.mktemp("localstripe")) as url:
        yield url


@pytest.fixture
def stripe_settings():
    """Gateway settings overrides (mutate or parametrize before the gateway is enabled)."""
    return {}


@pytest.fixture
def stripe_gateway(license_plugin, channel_USD, localstripe, settings, stripe_settings):
    # The documented setting (docs/payments.md): stripe.api_base, which Saleor's own Stripe
    # gateway reads, stays untouched.
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "STRIPE_API_BASE": localstripe}
    return enable_gateway(
        STRIPE_ID,
        channel_USD,
        {
            "public_api_key": "pk_test_slp",
            "secret_api_key": STRIPE_KEY,
            "webhook_secret_key": WEBHOOK_SECRET,
            "automatic_payment_capture": True,
            "supported_currencies": "USD",
            "request_timeout": "10",
            **stripe_settings,
        },
    )


# --- MultiSafepay against the local server ---------------------------------------------------


@pytest.fixture
def msp_server(monkeypatch):
    server = FakeMultiSafepay(MSP_KEY)
    server.start()
    # "Test mode" talks to MultiSafepay's test API; here that is the local server.
    monkeypatch.setattr(msp_plugin, "TEST_BASE_URL", server.base_url)
    yield server
    server.stop()


@pytest.fixture
def msp_gateway(license_plugin, channel_USD, msp_server):
    return enable_gateway(
        MSP_ID,
        channel_USD,
        {
            "api_key": MSP_KEY,
            "test_mode": True,
            "supported_currencies": "USD",
            "redirect_url": "https://shop.example.com/checkout/return",
            "order_id_prefix": "slp",
            "request_timeout": "5",
        },
    )


# --- Offline ---------------------------------------------------------------------------------


@pytest.fixture
def offline_settings():
    return {}


@pytest.fixture
def offline_gateway(license_plugin, channel_USD, offline_settings):
    return enable_gateway(
        OFFLINE_ID,
        channel_USD,
        {
            "payment_kind": "purchase order",
            "reference_label": "Purchase order number",
            "reference_required": True,
            "supported_currencies": "USD",
            **offline_settings,
        },
    )


# --- Saleor GraphQL and webhook steps --------------------------------------------------------


@pytest.fixture
def orders_staff_client(staff_api_client, permission_group_manage_orders):
    permission_group_manage_orders.user_set.add(staff_api_client.user)
    return staff_api_client


def create_payment(api_client, checkout_id, gateway, token=None):
    """checkoutPaymentCreate for the checkout's full total (no token: the gateways need none)."""
    total = checkout_total(api_client, checkout_id)
    data = {"gateway": gateway, "amount": str(total)}
    if token is not None:
        data["token"] = token
    result = get_graphql_content(
        api_client.post_graphql(PAYMENT_CREATE, {"id": checkout_id, "input": data})
    )["data"]["checkoutPaymentCreate"]
    assert result["errors"] == [], result
    return total


def complete_checkout(api_client, checkout_id, payment_data=None):
    """checkoutComplete; ``confirmationData`` decoded."""
    variables = {"id": checkout_id}
    if payment_data is not None:
        variables["paymentData"] = json.dumps(payment_data)
    result = get_graphql_content(api_client.post_graphql(CHECKOUT_COMPLETE, variables))["data"][
        "checkoutComplete"
    ]
    if result["confirmationData"]:
        result["confirmationData"] = json.loads(result["confirmationData"])
    return result


def capture_order(api_client, order_id, amount):
    return get_graphql_content(
        api_client.post_graphql(ORDER_CAPTURE, {"id": order_id, "amount": str(amount)})
    )["data"]["orderCapture"]


class ProviderWebhooks:
    """POSTs to a gateway's real Saleor URL (/plugins/channel/<slug>/<PLUGIN_ID>/<path>/),
    through Saleor's URL routing and plugin manager, running the on-commit hooks (order events,
    license fulfilment) as a committed request would."""

    def __init__(self, client, channel):
        self.client = client
        self.channel = channel

    def url(self, plugin_id, path):
        return f"/plugins/channel/{self.channel.slug}/{plugin_id}/{path}/"

    def post(self, url, body, **headers):
        """POST ``body``; ``url`` may be absolute (as given to the provider): host dropped."""
        parts = urlsplit(url)
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        with TestCase.captureOnCommitCallbacks(execute=True):
            return self.client.post(url, body, content_type="application/json", **headers)


@pytest.fixture
def provider_webhooks(client, channel_USD):
    return ProviderWebhooks(client, channel_USD)
