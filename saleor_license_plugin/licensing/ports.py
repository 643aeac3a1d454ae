"""The seams between the license domain and whatever hosts it.

Inside Saleor, ``plugin.py`` builds a :class:`Catalog` from product variants, their channel price
and metadata, and a :class:`Principal` from Saleor's JWT. The standalone server builds a
:class:`StaticCatalog` from settings and principals from API tokens. The API and the checkout
rules only ever see these plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from saleor_license_plugin.licensing.catalog import AddOnTerms, EditionTerms, PlanTerms, parse_terms
from saleor_license_plugin.licensing.pricing import Money

MANAGE_ORDERS = "MANAGE_ORDERS"  # Saleor's permission name for staff order handling


@dataclass(frozen=True)
class CatalogItem:
    variant_id: str  # Saleor's global id of the variant (the standalone catalog's own id)
    name: str
    price: Money  # the channel's price
    terms: EditionTerms | AddOnTerms | PlanTerms
    sku: str = ""

    @property
    def is_edition(self) -> bool:
        return isinstance(self.terms, EditionTerms)


class Catalog(Protocol):
    def items(self) -> Sequence[CatalogItem]: ...

    def get(self, variant_id: str) -> CatalogItem | None: ...


class StaticCatalog:
    """A catalog held in memory: for the standalone server, the demo and tests."""

    def __init__(self, items: Iterable[CatalogItem]) -> None:
        self._items = tuple(items)
        self._by_id = {item.variant_id: item for item in self._items}

    def items(self) -> Sequence[CatalogItem]:
        return self._items

    def get(self, variant_id: str) -> CatalogItem | None:
        return self._by_id.get(variant_id)

    @classmethod
    def from_dicts(cls, rows: Iterable[Mapping[str, Any]]) -> StaticCatalog:
        """Rows of ``{"id", "name", "price", "currency", "metadata", "sku"?}``, metadata keyed as
        on Saleor products (``license.kind``, ...)."""
        items = []
        for row in rows:
            terms = parse_terms(row.get("metadata") or {})
            if terms is None:
                continue
            price = Money(Decimal(str(row["price"])), row["currency"])
            items.append(CatalogItem(str(row["id"]), row["name"], price, terms, row.get("sku", "")))
        return cls(items)


@dataclass(frozen=True)
class Principal:
    """Who is asking. ``user_id`` is None for anonymous callers."""

    user_id: str | None = None
    email: str = ""
    permissions: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_staff(self) -> bool:
        return MANAGE_ORDERS in self.permissions

    def has_perm(self, permission: str) -> bool:
        return permission in self.permissions

    def can_see(self, record: Any) -> bool:
        """Owner, the partner managing it, or staff, of a license or a deployment
        (``licensing.access`` holds the rule and its query form)."""
        if self.is_staff:
            return True
        if self.user_id is None:
            return False
        return self.user_id in (record.owner_id, record.reseller_id)


ANONYMOUS = Principal()


@dataclass(frozen=True)
class AddedLine:
    line_id: str  # the host's global id of the checkout line
    quantity: int
    priced: Any  # offers.PricedLine


class CheckoutHost(Protocol):
    """A host with checkouts (Saleor): ``checkoutLicenseLinesAdd`` adds lines through it."""

    def add_license_lines(
        self, checkout_id: str, principal: Principal, lines: list[Any], *, client_ip: str
    ) -> tuple[str, list[AddedLine]]:
        """Add all lines or none; returns the checkout's global id and the lines added."""
        ...

    def create_checkout(
        self, principal: Principal, lines: list[Any], *, client_ip: str
    ) -> tuple[str, list[AddedLine]]:
        """A new checkout of the caller's, holding these lines (all or none)."""
        ...

    def create_bill_checkout(self, principal: Principal, bill_id: int, *, client_ip: str) -> str:
        """A new checkout of the caller's holding one subscription bill's line; its id."""
        ...
