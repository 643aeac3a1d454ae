"""Prepare a real Saleor shop for the Dashboard tier, in Saleor's own environment
(``$SALEOR_VENV/bin/python tests/dashboard/saleor_site.py`` with ``DJANGO_SETTINGS_MODULE``
``saleor.settings`` and ``DATABASE_URL`` a copy of the Saleor tier's template database).

``migrate`` first (the plugin's tables and anything newer than the template), then the shop of
``make demo-saleor`` (scripts/demo_saleor/seed.py: channel, license catalog, staff and customer,
the plugin activated), then what the test adds: one order of the customer with a license line,
as checkout would leave it. Prints the ids and credentials the test needs as JSON. Licenses are
not made here: the test issues them through the plugin's API, as staff would."""

from __future__ import annotations

import json
import runpy
import sys
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    seed = runpy.run_path(str(REPO / "scripts" / "demo_saleor" / "seed.py"), run_name="seed")
    seed["setup"]()

    import graphene
    from prices import TaxedMoney
    from saleor.account.models import Address, User
    from saleor.channel.models import Channel
    from saleor.order import OrderOrigin, OrderStatus
    from saleor.order.models import Order
    from saleor.product.models import ProductVariant

    channel = Channel.objects.get(slug=seed["CHANNEL"])
    customer = User.objects.get(email=seed["CUSTOMER"][0])
    variant = ProductVariant.objects.get(sku="PRO-16")
    price = variant.channel_listings.get(channel=channel).price
    unit = TaxedMoney(price, price)
    quantity = 2
    total = unit * quantity
    address = Address.objects.create(
        first_name="Ada",
        last_name="Lovelace",
        street_address_1="Unter den Linden 1",
        city="Berlin",
        postal_code="10117",
        country="DE",
    )
    order = Order.objects.create(
        channel=channel,
        user=customer,
        user_email=customer.email,
        billing_address=address,
        status=OrderStatus.UNFULFILLED,
        origin=OrderOrigin.CHECKOUT,
        currency=price.currency,
        lines_count=1,
        total=total,
        undiscounted_total=total,
        subtotal=total,
        should_refresh_prices=False,
    )
    line = order.lines.create(
        product_name=variant.product.name,
        variant_name=variant.name,
        product_sku=variant.sku,
        product_variant_id=variant.get_global_id(),
        is_shipping_required=False,
        is_gift_card=False,
        quantity=quantity,
        variant=variant,
        unit_price=unit,
        total_price=total,
        undiscounted_unit_price=unit,
        undiscounted_total_price=total,
        base_unit_price=price,
        undiscounted_base_unit_price=price,
        tax_rate=Decimal(0),
        currency=price.currency,
    )
    staff = User.objects.get(email=seed["STAFF"][0])
    json.dump(
        {
            "staff": graphene.Node.to_global_id("User", staff.pk),
            "staff_email": seed["STAFF"][0],
            "staff_password": seed["STAFF"][1],
            "customer": graphene.Node.to_global_id("User", customer.pk),
            "customer_email": customer.email,
            "variant": variant.get_global_id(),
            "order": graphene.Node.to_global_id("Order", order.pk),
            "order_pk": str(order.pk),
            "order_line_pk": str(line.pk),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
