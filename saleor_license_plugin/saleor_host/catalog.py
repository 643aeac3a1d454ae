"""The license variants of one Saleor channel, priced at the channel's listing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.db.models import Q
from saleor.product.models import ProductVariantChannelListing

from saleor_license_plugin.licensing.catalog import parse_terms
from saleor_license_plugin.licensing.ports import CatalogItem
from saleor_license_plugin.licensing.pricing import Money
from saleor_license_plugin.saleor_host.auth import decode_global_id, variant_global_id

KIND_KEY = "license.kind"


def is_license_product(product_metadata: Any, variant_metadata: Any) -> bool:
    return KIND_KEY in {**(product_metadata or {}), **(variant_metadata or {})}


class SaleorCatalog:
    """License variants of one channel, priced at the channel's listing."""

    def __init__(self, channel: Any, deployment_products: frozenset[str] = frozenset()) -> None:
        self.channel = channel
        self.deployment_products = deployment_products
        self._items: dict[str, CatalogItem] | None = None

    def _query(self) -> Any:
        return (
            ProductVariantChannelListing.objects.filter(
                channel=self.channel, price_amount__isnull=False
            )
            .filter(
                Q(variant__metadata__has_key=KIND_KEY)
                | Q(variant__product__metadata__has_key=KIND_KEY)
            )
            .select_related("variant__product")
        )

    def _item(self, listing: Any) -> CatalogItem | None:
        variant = listing.variant
        product = variant.product
        terms = parse_terms(product.metadata, variant.metadata)
        if terms is None:
            return None
        if product.slug in self.deployment_products:
            terms = replace(terms, requires_deployment=True)
        name = f"{product.name} {variant.name}".strip()
        price = Money(listing.price_amount, listing.currency)
        return CatalogItem(variant_global_id(variant.pk), name, price, terms, variant.sku or "")

    def _load(self) -> dict[str, CatalogItem]:
        if self._items is None:
            items = (self._item(listing) for listing in self._query())
            self._items = {item.variant_id: item for item in items if item is not None}
        return self._items

    def items(self) -> list[CatalogItem]:
        return sorted(self._load().values(), key=lambda item: (item.price.amount, item.name))

    def get(self, variant_id: str) -> CatalogItem | None:
        if self._items is not None:
            return self._items.get(variant_id)
        pk = decode_global_id(variant_id, "ProductVariant")
        if pk is None or not pk.isdigit():
            return None
        listing = self._query().filter(variant_id=int(pk)).first()
        return self._item(listing) if listing else None
