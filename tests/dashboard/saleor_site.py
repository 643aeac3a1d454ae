"""Prepare a real Saleor shop for the Dashboard tier, in Saleor's own environment
(``$SALEOR_VENV/bin/python tests/dashboard/saleor_site.py``, ``DJANGO_SETTINGS_MODULE``
``saleor.settings``, ``DATABASE_URL`` a migrated database): a staff user who signs in to the
Dashboard, the license plugin activated as a merchant does (a PluginConfiguration row), a
license edition in the catalog, a customer and one paid order with a license line. Prints the
ids the test needs as JSON. Licenses are not made here: the test issues them through the
plugin's API, as staff would."""

from __future__ import annotations

import datetime
import json
import os
import sys
from decimal import Decimal


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    # Saleor's tables come with the template database; the plugin's (and any migration the
    # template lacks) are applied here, as `manage.py migrate` does on a deployment.
    call_command("migrate", interactive=False, verbosity=0)
    from django.db import transaction
    from prices import Money, TaxedMoney
    from saleor.account.models import Address
    from saleor.account.tests.fixtures.user import dangerously_create_test_user as new_user
    from saleor.channel.models import Channel
    from saleor.order import OrderOrigin, OrderStatus
    from saleor.order.models import Order
    from saleor.plugins.models import PluginConfiguration
    from saleor.product.models import (
        Product,
        ProductChannelListing,
        ProductType,
        ProductVariant,
        ProductVariantChannelListing,
    )
    from saleor.tax.models import TaxConfiguration
    from saleor.warehouse.models import Warehouse

    staff_email, staff_password = os.environ["STAFF_EMAIL"], os.environ["STAFF_PASSWORD"]
    with transaction.atomic():
        staff = new_user(staff_email, staff_password, is_staff=True, is_superuser=True)
        channel = Channel.objects.create(
            name="Default channel",
            slug="default-channel",
            currency_code="USD",
            default_country="US",
            is_active=True,
        )
        TaxConfiguration.objects.create(channel=channel)  # what channelCreate adds
        address = Address.objects.create(
            first_name="Ada",
            last_name="Lovelace",
            street_address_1="1 Main St",
            city="New York",
            postal_code="10001",
            country="US",
            country_area="NY",
        )
        warehouse = Warehouse.objects.create(
            name="Main", slug="main", address=address.get_copy(), email="w@shop.example"
        )
        warehouse.channels.add(channel)
        PluginConfiguration.objects.update_or_create(
            identifier="saleor_license_plugin",
            channel=None,
            defaults={"name": "Software licenses", "active": True, "configuration": []},
        )
        kind = ProductType.objects.create(
            name="Software license",
            slug="software-license",
            kind="normal",
            has_variants=True,
            is_shipping_required=False,
            is_digital=True,
        )
        product = Product.objects.create(
            name="Professional",
            slug="professional",
            product_type=kind,
            metadata={
                "license.kind": "edition",
                "license.edition": "Professional",
                "license.edition_rank": "2",
                "license.maintenance_rate": "0.2",
            },
        )
        ProductChannelListing.objects.create(
            product=product,
            channel=channel,
            is_published=True,
            currency="USD",
            visible_in_listings=True,
            available_for_purchase_at=datetime.datetime(1999, 1, 1, tzinfo=datetime.UTC),
        )
        variant = ProductVariant.objects.create(
            product=product,
            sku="PRO-16",
            name="16 calls",
            track_inventory=False,
            metadata={"license.capacity": "16"},
        )
        ProductVariantChannelListing.objects.create(
            variant=variant,
            channel=channel,
            price_amount=Decimal(700),
            discounted_price_amount=Decimal(700),
            currency="USD",
        )
        customer = new_user("grace@customer.example", first_name="Grace", last_name="Hopper")
        order = Order.objects.create(
            channel=channel,
            user=customer,
            user_email=customer.email,
            billing_address=address.get_copy(),
            status=OrderStatus.UNFULFILLED,
            origin=OrderOrigin.CHECKOUT,
            currency="USD",
            lines_count=1,
            total=TaxedMoney(Money(1400, "USD"), Money(1400, "USD")),
            undiscounted_total=TaxedMoney(Money(1400, "USD"), Money(1400, "USD")),
            subtotal=TaxedMoney(Money(1400, "USD"), Money(1400, "USD")),
            total_charged=Money(1400, "USD"),
            charge_status="full",
            should_refresh_prices=False,
        )
        price = TaxedMoney(Money(700, "USD"), Money(700, "USD"))
        line = order.lines.create(
            product_name="Professional",
            variant_name="16 calls",
            product_sku="PRO-16",
            product_variant_id=variant.get_global_id(),
            is_shipping_required=False,
            is_gift_card=False,
            quantity=2,
            variant=variant,
            unit_price=price,
            total_price=price * 2,
            undiscounted_unit_price=price,
            undiscounted_total_price=price * 2,
            base_unit_price=price.gross,
            undiscounted_base_unit_price=price.gross,
            tax_rate=Decimal(0),
        )
    import graphene

    json.dump(
        {
            "staff": graphene.Node.to_global_id("User", staff.pk),
            "customer": graphene.Node.to_global_id("User", customer.pk),
            "customer_email": customer.email,
            "variant": variant.get_global_id(),
            "order": graphene.Node.to_global_id("Order", order.pk),
            "order_number": order.number,
            "order_pk": str(order.pk),
            "order_line_pk": str(line.pk),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
