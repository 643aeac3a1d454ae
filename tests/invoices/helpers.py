"""Orders as the host reads them for an invoice, and a task host that has orders."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from saleor_license_plugin.conf import from_django_settings
from saleor_license_plugin.fulfillment.host import PlainHost
from saleor_license_plugin.licensing.billing import BillTo
from saleor_license_plugin.licensing.checkout_lines import LineIntent
from saleor_license_plugin.licensing.invoices import LineFacts, OrderFacts

ADDRESS = BillTo(
    name="Zoë Łukasiewicz",
    company="Tęcza Sp. z o.o.",
    street_address_1="ul. Tęczowa 7",
    city="Wrocław",
    postal_code="53-601",
    country="PL",
)
SELLER = "Yeastar-like Ltd.\n1 Harbour Road\nDublin D02 XY45\nVAT IE1234567X"


def line(
    name: str = "Professional 8 calls",
    *,
    quantity: int = 1,
    unit_net: str = "400.00",
    tax_rate: str | None = "0.23",
    intent: LineIntent | None = None,
    license_ids: tuple[int, ...] = (),
    **extra: Any,
) -> LineFacts:
    net = Decimal(unit_net) * quantity
    rate = Decimal(tax_rate) if tax_rate is not None else None
    gross = (net * (1 + (rate or 0))).quantize(Decimal("0.01"))
    return LineFacts(
        name=name,
        sku=extra.pop("sku", "PRO-8"),
        quantity=quantity,
        unit_net=Decimal(unit_net),
        total_net=net,
        total_gross=gross,
        tax_rate=rate,
        intent=asdict(intent) if intent is not None else None,
        license_ids=license_ids,
        **extra,
    )


def facts(
    order_id: str = "order-1",
    *,
    owner_id: str = "user:alice",
    email: str = "alice@example.com",
    lines: tuple[LineFacts, ...] | None = None,
    metadata: dict[str, str] | None = None,
    created_at: datetime | None = None,
    billing_address: BillTo = ADDRESS,
    **extra: Any,
) -> OrderFacts:
    lines = lines if lines is not None else (line(),)
    net = sum((item.total_net for item in lines), Decimal(0))
    gross = sum((item.total_gross for item in lines), Decimal(0))
    return OrderFacts(
        order_id=order_id,
        order_number=extra.pop("order_number", order_id.rsplit("-", 1)[-1]),
        created_at=created_at or datetime(2026, 3, 1, 12, 0).astimezone(),
        currency=extra.pop("currency", "EUR"),
        owner_id=owner_id,
        customer_email=email,
        billing_address=billing_address,
        metadata=metadata or {},
        lines=lines,
        subtotal_net=net,
        total_net=net,
        total_gross=gross,
        **extra,
    )


class OrdersHost(PlainHost):
    """A task host with orders (inside Saleor: saleor_host.orders.SaleorTaskHost, exercised in
    tests/saleor): it reads them from a dict and records what it is asked to attach."""

    def __init__(self, orders: dict[str, OrderFacts], base: str = "https://shop.example/api/"):
        self.orders = orders
        self.attached: list[tuple[str, str, str]] = []
        self.base = base
        self.fail_attach = False

    def license_settings(self):
        return from_django_settings()

    def order_facts(self, order_id: str) -> OrderFacts | None:
        return self.orders.get(order_id)

    def attach_invoice(self, order_id: str, invoice: Any, url: str) -> None:
        if self.fail_attach:
            raise ConnectionError("host down")
        self.attached.append((order_id, invoice.number, url))

    def public_api_url(self) -> str:
        return self.base
