"""Fixtures for the Saleor tier: license products in Saleor's catalog, the plugin enabled through
its discovered entry point, a customer's checkout, and the GraphQL documents the flows use."""

import datetime
import json
from decimal import Decimal

import graphene
import pytest
from django.test import TestCase
from saleor.checkout.models import Checkout, CheckoutMetadata
from saleor.core.jwt import create_access_token
from saleor.plugins.models import PluginConfiguration
from saleor.product.models import (
    Product,
    ProductChannelListing,
    ProductType,
    ProductVariant,
    ProductVariantChannelListing,
)

PLUGIN_PATH = "saleor_license_plugin.plugin.LicensePlugin"
PLUGIN_ID = "saleor_license_plugin"
DUMMY_GATEWAY = "mirumee.payments.dummy"


def discovered_plugins():
    """What Saleor's settings found through the `saleor.plugins` entry point group."""
    from saleor import settings as saleor_settings

    return list(saleor_settings.EXTERNAL_PLUGINS)


@pytest.fixture
def plugin_config():
    """Dashboard configuration overrides for the license plugin (mutate before enabling)."""
    return {}


@pytest.fixture
def license_plugin(settings, plugin_config, db):
    """The license plugin, enabled as a merchant would: discovered, then activated with a
    PluginConfiguration row (what the Dashboard writes)."""
    discovered = discovered_plugins()
    assert PLUGIN_PATH in discovered, discovered
    settings.PLUGINS = [*settings.PLUGINS, *discovered]
    settings.SALEOR_LICENSE = {"KEY_SECRET": "saleor-tier-key-secret"}
    PluginConfiguration.objects.update_or_create(
        identifier=PLUGIN_ID,
        channel=None,
        defaults={
            "name": "Software licenses",
            "active": True,
            "configuration": [{"name": k, "value": v} for k, v in plugin_config.items()],
        },
    )
    return get_plugin


def get_plugin():
    from saleor.plugins.manager import get_plugins_manager

    plugin = get_plugins_manager(allow_replica=False).get_plugin(PLUGIN_ID)
    assert plugin is not None and plugin.active
    return plugin


def _product(name, slug, product_type, channel, metadata, tax_class):
    product = Product.objects.create(
        name=name, slug=slug, product_type=product_type, metadata=metadata, tax_class=tax_class
    )
    ProductChannelListing.objects.create(
        product=product,
        channel=channel,
        is_published=True,
        currency=channel.currency_code,
        visible_in_listings=True,
        available_for_purchase_at=datetime.datetime(1999, 1, 1, tzinfo=datetime.UTC),
    )
    return product


def _variant(product, sku, name, price, channel, metadata=None):
    variant = ProductVariant.objects.create(
        product=product, sku=sku, name=name, track_inventory=False, metadata=metadata or {}
    )
    ProductVariantChannelListing.objects.create(
        variant=variant,
        channel=channel,
        price_amount=Decimal(price),
        discounted_price_amount=Decimal(price),
        currency=channel.currency_code,
    )
    return variant


@pytest.fixture
def license_products(channel_USD, default_tax_class):
    """3CX-like editions and Yeastar-like add-ons, priced in channel_USD (keys: our ids)."""
    kind = ProductType.objects.create(
        name="Software license",
        slug="software-license",
        kind="normal",
        has_variants=True,
        is_shipping_required=False,
        is_digital=True,
    )

    def edition(name, slug, rank, **extra):
        meta = {
            "license.kind": "edition",
            "license.edition": name,
            "license.edition_rank": str(rank),
            "license.maintenance_rate": "0.2",
            **extra,
        }
        return _product(name, slug, kind, channel_USD, meta, default_tax_class)

    pro = edition("Professional", "professional", 2)
    ent = edition("Enterprise", "enterprise", 3)
    cloud = edition("Cloud", "cloud", 1, **{"license.term": "annual"})
    ext = _product(
        "Extensions",
        "extensions",
        kind,
        channel_USD,
        {"license.kind": "add_on", "license.add_on": "extensions", "license.add_on_units": "10"},
        default_tax_class,
    )
    standby = _product(
        "Hot standby",
        "hot-standby",
        kind,
        channel_USD,
        {"license.kind": "add_on", "license.add_on": "hot_standby", "license.add_on_kind": "flat"},
        default_tax_class,
    )
    plan = _product(
        "Cloud PBX",
        "cloud-pbx",
        kind,
        channel_USD,
        {
            "license.kind": "plan",
            "license.plan": "Cloud PBX",
            "license.plan_period": "monthly",
            "license.per_user_price": "2.50",
            "license.data_locations": "eu-west,us-east",
        },
        default_tax_class,
    )
    calls = {"license.capacity": "8"}
    return {
        "plan": _variant(plan, "CPBX-M", "Monthly", "30", channel_USD),
        "pro-8": _variant(pro, "PRO-8", "8 calls", "400", channel_USD, calls),
        "pro-16": _variant(
            pro, "PRO-16", "16 calls", "700", channel_USD, {"license.capacity": "16"}
        ),
        "ent-8": _variant(ent, "ENT-8", "8 calls", "600", channel_USD, calls),
        "cloud-8": _variant(cloud, "CLOUD-8", "8 calls", "120", channel_USD, calls),
        "ext": _variant(ext, "EXT-10", "10 extensions", "10", channel_USD),
        "standby": _variant(standby, "HS", "Hot standby", "300", channel_USD),
    }


@pytest.fixture
def license_checkout(customer_user, channel_USD, address):
    """An empty checkout of the signed-in customer, billing address set, no shipping needed."""
    checkout = Checkout.objects.create(
        user=customer_user,
        email=customer_user.email,
        channel=channel_USD,
        currency=channel_USD.currency_code,
        billing_address=address.get_copy(),
    )
    CheckoutMetadata.objects.create(checkout=checkout)
    return checkout


def gid(type_name, pk):
    return graphene.Node.to_global_id(type_name, pk)


def jwt_headers(user):
    return {"HTTP_AUTHORIZATION": f"JWT {create_access_token(user)}"}


class PluginApi:
    """The plugin's own GraphQL endpoint, as a storefront calls it."""

    def __init__(self, client, user=None):
        self.client = client
        self.user = user
        self.path = f"/plugins/global/{PLUGIN_ID}/graphql/"

    def post(self, query, variables=None, **extra):
        headers = jwt_headers(self.user) if self.user else {}
        body = json.dumps({"query": query, "variables": variables or {}})
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                self.path, body, content_type="application/json", **headers, **extra
            )
        assert response.status_code in (200, 400), response.content
        data = response.json()
        assert "errors" not in data, data["errors"]
        return data["data"]


@pytest.fixture
def plugin_api(client, customer_user):
    return PluginApi(client, customer_user)


@pytest.fixture
def staff_plugin_api(client, staff_user, permission_group_manage_orders):
    permission_group_manage_orders.user_set.add(staff_user)
    return PluginApi(client, staff_user)
