"""`make demo-saleor`'s data: a channel, the demo catalog as Saleor products with license
metadata, a staff user and a customer, the license plugin and the offline gateway activated.
Idempotent: run it again and nothing is duplicated.

    python seed.py setup              # inside the Saleor environment, settings exported
    python seed.py pay <order number> # what staff do for an offline order: capture it
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections import defaultdict
from decimal import Decimal
from importlib import resources

import django

django.setup()

from django.db import transaction
from django.utils import timezone
from saleor.account.models import Group, User
from saleor.channel.models import Channel
from saleor.permission.enums import get_permissions
from saleor.plugins.models import PluginConfiguration
from saleor.product.models import (
    Product,
    ProductChannelListing,
    ProductType,
    ProductVariant,
    ProductVariantChannelListing,
)
from saleor.tax.models import TaxClass, TaxConfiguration

CHANNEL = "demo"
STAFF = ("admin@example.com", "admin")
CUSTOMER = ("customer@example.com", "customer")
PLUGIN_ID = "saleor_license_plugin"
OFFLINE_ID = "saleor_license_plugin.payments.offline"


def demo_catalog() -> list[dict]:
    """The same rows `make demo` serves (saleor_license_plugin/server/demo_catalog.json)."""
    text = resources.files("saleor_license_plugin.server").joinpath("demo_catalog.json")
    return json.loads(text.read_text(encoding="utf-8"))


def group(rows: list[dict]) -> dict[str, list[dict]]:
    """One Saleor product per edition or add-on, its rows as variants."""
    products: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        meta = row["metadata"]
        products[meta.get("license.edition") or meta.get("license.add_on") or row["id"]].append(row)
    return products


def split(rows: list[dict]) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Metadata every variant shares goes on the product, the rest on each variant."""
    common = dict(rows[0]["metadata"])
    for row in rows[1:]:
        common = {k: v for k, v in common.items() if row["metadata"].get(k) == v}
    return common, [{k: v for k, v in row["metadata"].items() if k not in common} for row in rows]


@transaction.atomic
def setup() -> None:
    rows = demo_catalog()
    currency = rows[0]["currency"]
    channel, _ = Channel.objects.get_or_create(
        slug=CHANNEL,
        defaults={
            "name": "Demo",
            "currency_code": currency,
            "default_country": "DE",
            "is_active": True,
        },
    )
    TaxConfiguration.objects.get_or_create(channel=channel, defaults={"charge_taxes": False})
    tax_class, _ = TaxClass.objects.get_or_create(name="Software")
    kind, _ = ProductType.objects.get_or_create(
        slug="software-license",
        defaults={
            "name": "Software license",
            "kind": "normal",
            "has_variants": True,
            "is_shipping_required": False,
            "is_digital": True,
        },
    )
    for name, items in group(rows).items():
        common, per_variant = split(items)
        product, _ = Product.objects.update_or_create(
            slug=f"license-{name}".lower().replace("_", "-").replace(" ", "-"),
            defaults={
                "name": name.replace("_", " ").capitalize() if name.islower() else name,
                "product_type": kind,
                "metadata": common,
                "tax_class": tax_class,
            },
        )
        ProductChannelListing.objects.get_or_create(
            product=product,
            channel=channel,
            defaults={
                "is_published": True,
                "visible_in_listings": True,
                "currency": currency,
                "available_for_purchase_at": timezone.now(),
            },
        )
        for row, metadata in zip(items, per_variant, strict=True):
            variant, _ = ProductVariant.objects.update_or_create(
                sku=row["sku"],
                defaults={
                    "product": product,
                    "name": row["name"].removeprefix(product.name).strip() or row["name"],
                    "track_inventory": False,
                    "metadata": metadata,
                },
            )
            price = Decimal(row["price"])
            ProductVariantChannelListing.objects.update_or_create(
                variant=variant,
                channel=channel,
                defaults={
                    "price_amount": price,
                    "discounted_price_amount": price,
                    "currency": currency,
                },
            )
    staff = _user(*STAFF, is_staff=True, is_superuser=True)
    # Saleor checks channel access through permission groups, superuser or not.
    full, _ = Group.objects.get_or_create(name="Full Access")
    full.permissions.add(*get_permissions())
    full.user_set.add(staff)
    _user(*CUSTOMER)
    _plugin(PLUGIN_ID, None, {"staff_emails": staff.email})
    _plugin(
        OFFLINE_ID,
        channel,
        {
            "payment_kind": "purchase order",
            "reference_label": "Purchase order number",
            "reference_required": True,
            "supported_currencies": currency,
        },
    )
    print(f"seed: channel {CHANNEL} ({currency}), {len(rows)} license variants, users ready")


def _user(email: str, password: str, **flags: bool) -> User:
    user, created = User.objects.get_or_create(email=email, defaults=flags)
    if created:
        user.set_password(password)
        user.save()
    return user


def _plugin(identifier: str, channel: Channel | None, config: dict) -> None:
    PluginConfiguration.objects.update_or_create(
        identifier=identifier,
        channel=channel,
        defaults={
            "active": True,
            "configuration": [{"name": k, "value": v} for k, v in config.items()],
        },
    )


def _graphql(query: str, variables: dict, token: str | None = None) -> dict:
    url = os.environ.get("PUBLIC_URL", "http://localhost:8000").rstrip("/") + "/graphql/"
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    if body.get("errors"):
        raise SystemExit(f"demo-saleor: {body['errors'][0].get('message')}")
    return body["data"]


def pay(number: str) -> None:
    """Staff capture an offline order through Saleor's API, as the Dashboard's "Mark as paid"
    / "Capture" button does; the license plugin then issues the keys on the Celery worker."""
    token = _graphql(
        "mutation($e: String!, $p: String!){ tokenCreate(email: $e, password: $p){ token } }",
        {"e": STAFF[0], "p": STAFF[1]},
    )["tokenCreate"]["token"]
    orders = _graphql(
        "query($n: [String!]){ orders(first: 1, filter: {numbers: $n}){ edges { node {"
        " id number total { gross { amount } } } } } }",
        {"n": [number]},
        token,
    )["orders"]["edges"]
    if not orders:
        raise SystemExit(f"demo-saleor: no order number {number}")
    order = orders[0]["node"]
    result = _graphql(
        "mutation($id: ID!, $a: PositiveDecimal!){ orderCapture(id: $id, amount: $a){"
        " order { number isPaid } errors { code message } } }",
        {"id": order["id"], "a": order["total"]["gross"]["amount"]},
        token,
    )["orderCapture"]
    if result["errors"]:
        raise SystemExit(f"demo-saleor: {result['errors'][0]['message']}")
    print(f"demo-saleor: order {number} paid: the keys email follows (printed by the worker)")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "setup"
    if command == "setup":
        setup()
    elif command == "pay" and len(sys.argv) == 3:
        pay(sys.argv[2])
    else:
        raise SystemExit(__doc__)
