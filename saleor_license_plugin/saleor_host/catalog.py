"""The license variants of one Saleor channel, priced at the channel's listing."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from threading import Lock
from typing import Any

from django.db.models import Q
from saleor.product.models import ProductVariantChannelListing

from saleor_license_plugin.licensing.catalog import parse_terms
from saleor_license_plugin.licensing.ports import CatalogItem
from saleor_license_plugin.licensing.pricing import Money
from saleor_license_plugin.saleor_host.auth import decode_global_id, variant_global_id

KIND_KEY = "license.kind"
ITEM_FIELDS = (
    "price_amount",
    "currency",
    "channel_id",
    "variant__id",
    "variant__name",
    "variant__sku",
    "variant__metadata",
    "variant__product__id",
    "variant__product__name",
    "variant__product__slug",
    "variant__product__metadata",
)


def is_license_product(product_metadata: Any, variant_metadata: Any) -> bool:
    return KIND_KEY in {**(product_metadata or {}), **(variant_metadata or {})}


# The full list (what verifyLicenseKey's offers are priced from) kept per process, per channel
# and settings, for this long when a catalog asks for it (``list_ttl``): a verification then
# costs no catalog query. A price change shows in offers within this many seconds; what a
# customer pays is never taken from it (checkout lines are priced, and checked at completion,
# from the channel's listing as it is).
LIST_TTL_SECONDS = 10.0
_lists: dict[tuple[Any, frozenset[str]], tuple[float, dict[str, CatalogItem]]] = {}
_lists_lock = Lock()


_channels: dict[str, tuple[float, Any]] = {}


def forget_lists() -> None:
    """Drop every catalog list and channel kept in memory (tests; after a bulk price change)."""
    with _lists_lock:
        _lists.clear()
        _channels.clear()


def active_channel(slug: str, *, ttl: float = LIST_TTL_SECONDS) -> Any:
    """The active channel ``slug`` names (empty: the first active one) for the license API's
    quotes, as this process read it at most ``ttl`` seconds ago (the same window as the offers'
    list); None when there is none (not kept: a channel created meanwhile is found at once)."""
    from saleor.channel.models import Channel

    now = time.monotonic()
    with _lists_lock:
        kept = _channels.get(slug)
    if kept is not None and now - kept[0] < ttl:
        return kept[1]
    channels = Channel.objects.filter(is_active=True)
    channel = (channels.filter(slug=slug) if slug else channels.order_by("pk")).first()
    if channel is not None:
        with _lists_lock:
            _channels[slug] = (now, channel)
    return channel


class SaleorCatalog:
    """License variants of one channel, priced at the channel's listing. With ``list_ttl``,
    the full list (:meth:`items`) may come from this process's memory, at most that many
    seconds old; single variants (:meth:`get`, before the list is loaded) always come from the
    database."""

    def __init__(
        self,
        channel: Any,
        deployment_products: frozenset[str] = frozenset(),
        *,
        list_ttl: float = 0.0,
    ) -> None:
        self.channel = channel
        self.deployment_products = deployment_products
        self.list_ttl = list_ttl
        self._items: dict[str, CatalogItem] | None = None
        self._some: dict[str, CatalogItem | None] = {}  # preloaded variants (None: not here)

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
            # Only what an item is made of: products carry large columns (description, search
            # vector and document) that cost more to send and parse than the query itself.
            .only(*ITEM_FIELDS)
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
            key = (self.channel.pk, self.deployment_products)
            now = time.monotonic()
            if self.list_ttl > 0:
                with _lists_lock:
                    kept = _lists.get(key)
                if kept is not None and now - kept[0] < self.list_ttl:
                    self._items = kept[1]
                    return self._items
            items = (self._item(listing) for listing in self._query())
            self._items = {item.variant_id: item for item in items if item is not None}
            if self.list_ttl > 0:
                with _lists_lock:
                    _lists[key] = (now, self._items)
        return self._items

    def items(self) -> list[CatalogItem]:
        return sorted(self._load().values(), key=lambda item: (item.price.amount, item.name))

    def preload(self, variant_ids: Iterable[str]) -> None:
        """Load these variants in one query (a checkout's lines), so :meth:`get` answers them
        from memory instead of one query each."""
        if self._items is not None:
            return
        wanted: dict[int, str] = {}
        for variant_id in variant_ids:
            pk = decode_global_id(variant_id, "ProductVariant")
            if pk is not None and pk.isdigit() and variant_id not in self._some:
                wanted[int(pk)] = variant_id
        if not wanted:
            return
        found: dict[str, CatalogItem | None] = dict.fromkeys(wanted.values())
        for listing in self._query().filter(variant_id__in=list(wanted)):
            item = self._item(listing)
            if item is not None:
                found[item.variant_id] = item
        self._some.update(found)

    def get(self, variant_id: str) -> CatalogItem | None:
        if self._items is not None:
            return self._items.get(variant_id)
        if variant_id in self._some:
            return self._some[variant_id]
        pk = decode_global_id(variant_id, "ProductVariant")
        if pk is None or not pk.isdigit():
            return None
        listing = self._query().filter(variant_id=int(pk)).first()
        return self._item(listing) if listing else None
