"""Invoices inside Saleor: an order read into plain :class:`OrderFacts`, the ``invoice_request``
hook (the Dashboard's "Generate", Saleor's ``invoiceRequest``), attaching an invoice to the order
so the Dashboard's invoice card shows it, and ``invoice_sent`` (the Dashboard's "Send")."""

from __future__ import annotations

import logging
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from saleor.core import JobStatus
from saleor.core.utils import build_absolute_uri
from saleor.invoice.models import Invoice as SaleorInvoice
from saleor.order import OrderChargeStatus
from saleor.order.models import Order

from saleor_license_plugin import conf
from saleor_license_plugin.fulfillment import invoicing
from saleor_license_plugin.licensing.billing import BillTo
from saleor_license_plugin.licensing.checkout_lines import RESULT_KEY, LineIntent
from saleor_license_plugin.licensing.errors import LicenseError
from saleor_license_plugin.licensing.invoices import LineFacts, OrderFacts
from saleor_license_plugin.models import Invoice
from saleor_license_plugin.saleor_host.auth import user_global_id

logger = logging.getLogger(__name__)
PLUGIN_ID = "saleor_license_plugin"
PAID = (OrderChargeStatus.FULL, OrderChargeStatus.OVERCHARGED)


def plugin_api_url() -> str:
    """The plugin's API as Saleor builds absolute URLs (``PUBLIC_URL``, else the site domain)."""
    return build_absolute_uri(f"/plugins/global/{PLUGIN_ID}/")


def _bill_to(address: Any, email: str) -> BillTo:
    if address is None:
        return BillTo(email=email)
    name = " ".join(part for part in (address.first_name, address.last_name) if part)
    return BillTo(
        name=name,
        company=address.company_name or "",
        email=email,
        phone=str(address.phone or ""),
        street_address_1=address.street_address_1 or "",
        street_address_2=address.street_address_2 or "",
        city=address.city or "",
        postal_code=address.postal_code or "",
        country_area=address.country_area or "",
        country=getattr(address.country, "code", "") or "",
        vat_number=str((getattr(address, "metadata", None) or {}).get("vat_number", ""))[:32],
    )


def _line(line: Any, secret: bytes) -> LineFacts:
    metadata = line.private_metadata or {}
    try:
        intent = LineIntent.from_metadata(metadata, secret)
    except LicenseError:
        intent = None
    result = metadata.get(RESULT_KEY) or {}
    ids = tuple(int(pk) for pk in result.get("licenses", ()) if str(pk).isdigit())
    name = " ".join(part for part in (line.product_name, line.variant_name) if part)
    discount = Decimal(line.unit_discount_amount or 0) * line.quantity
    reason = line.unit_discount_reason or (
        f"voucher {line.voucher_code}" if line.voucher_code else ""
    )
    return LineFacts(
        name=name,
        sku=line.product_sku or "",
        quantity=line.quantity,
        unit_net=line.unit_price_net_amount,
        total_net=line.total_price_net_amount,
        total_gross=line.total_price_gross_amount,
        tax_rate=line.tax_rate,
        discount=reason if discount else "",
        discount_amount=discount,
        intent=asdict(intent) if intent is not None else None,
        license_ids=ids,
    )


def _payments(order: Order) -> tuple[str, ...]:
    from saleor.plugins.manager import get_plugins_manager

    manager = get_plugins_manager(allow_replica=False)
    found = []
    for payment in order.payments.filter(is_active=True).order_by("pk"):
        plugin = manager.get_plugin(payment.gateway)
        parts = [getattr(plugin, "PLUGIN_NAME", "") or payment.gateway]
        card = " ".join(
            p
            for p in (
                payment.cc_brand,
                f"•••• {payment.cc_last_digits}" if payment.cc_last_digits else "",
            )
            if p
        )
        if card:
            parts.append(card)
        elif payment.payment_method_type:
            parts.append(payment.payment_method_type)
        if payment.psp_reference:
            parts.append(f"ref {payment.psp_reference}")
        found.append(", ".join(parts))
    for transaction in order.payment_transactions.order_by("pk"):
        parts = [transaction.name or "Payment"]
        method = getattr(transaction, "payment_method_name", None) or getattr(
            transaction, "payment_method_type", None
        )
        if method:
            parts.append(str(method))
        if transaction.psp_reference:
            parts.append(f"ref {transaction.psp_reference}")
        found.append(", ".join(parts))
    return tuple(found)


def order_facts(order: Order, settings: conf.LicenseSettings) -> OrderFacts:
    lines = [_line(line, settings.key_secret) for line in order.lines.order_by("pk")]
    # Saleor spreads an entire-order voucher over the lines' prices: those lines say so, and the
    # order discount is listed only when no line carries it (a shipping voucher, say).
    on_lines = " ".join(line.discount for line in lines)
    discounts = tuple(
        (
            discount.name or discount.voucher_code or discount.reason or "Discount",
            discount.amount_value,
        )
        for discount in order.discounts.order_by("created_at", "pk")
        if discount.amount_value
        and not (discount.voucher_code and discount.voucher_code in on_lines)
        and not (discount.name and discount.name in on_lines)
    )
    email = order.get_customer_email() or ""
    return OrderFacts(
        order_id=str(order.pk),
        order_number=str(order.number),
        created_at=order.created_at,
        currency=order.currency,
        owner_id=user_global_id(order.user_id) if order.user_id else "",
        customer_email=email,
        billing_address=_bill_to(order.billing_address, email),
        metadata=dict(order.metadata or {}),
        lines=tuple(lines),
        subtotal_net=order.subtotal_net_amount,
        total_net=order.total_net_amount,
        total_gross=order.total_gross_amount,
        shipping_name=order.shipping_method_name or "",
        shipping_net=order.shipping_price_net_amount,
        shipping_gross=order.shipping_price_gross_amount,
        discounts=discounts,
        payments=_payments(order),
        paid=order.charge_status in PAID,
    )


def _fill(saleor_invoice: SaleorInvoice, invoice: Invoice, url: str) -> SaleorInvoice:
    saleor_invoice.update_invoice(number=invoice.number, url=url or None)
    saleor_invoice.created = invoice.issued_at
    saleor_invoice.status = JobStatus.SUCCESS
    saleor_invoice.store_value_in_private_metadata({f"{PLUGIN_ID}.invoice": str(invoice.pk)})
    saleor_invoice.save(
        update_fields=[
            "number",
            "external_url",
            "created",
            "status",
            "private_metadata",
            "updated_at",
        ]
    )
    return saleor_invoice


def request_invoice(
    order: Order, saleor_invoice: SaleorInvoice, number: str | None, settings: conf.LicenseSettings
) -> SaleorInvoice:
    """``invoice_request``: the order's invoice (issued now, or the one it has: one invoice per
    order, the same number however often it is asked for), on Saleor's invoice row. A number
    staff typed is used as it is, outside the sequence."""
    invoice = invoicing.issue(order_facts(order, settings), settings, number=number or None)
    base = settings.public_api_url or plugin_api_url()
    return _fill(saleor_invoice, invoice, invoicing.order_link(invoice, settings, base))


def attach(order_id: str, invoice: Invoice, url: str) -> None:
    """An invoice issued on payment, on the order as the Dashboard's "Generate" puts it there
    (once: an order that shows this number already is left alone)."""
    from saleor.order.events import invoice_generated_event

    order = Order.objects.get(pk=order_id)
    if SaleorInvoice.objects.filter(order=order, number=invoice.number).exists():
        return
    saleor_invoice = SaleorInvoice.objects.create(order=order, number=invoice.number)
    _fill(saleor_invoice, invoice, url)
    invoice_generated_event(order=order, user=None, app=None, invoice_number=invoice.number)


def ours(saleor_invoice: SaleorInvoice) -> Invoice | None:
    pk = (saleor_invoice.private_metadata or {}).get(f"{PLUGIN_ID}.invoice")
    if pk and str(pk).isdigit():
        return Invoice.objects.filter(pk=int(pk)).first()
    if saleor_invoice.number:
        return Invoice.objects.filter(number=saleor_invoice.number).first()
    return None


def invoice_sent(saleor_invoice: SaleorInvoice, settings: conf.LicenseSettings) -> bool:
    """``invoice_sent`` (the Dashboard's "Send", after Saleor's own notification): email the
    billing contact a fresh one-time link."""
    invoice = ours(saleor_invoice)
    if invoice is None:
        return False
    base = settings.public_api_url or plugin_api_url()
    return invoicing.send_on_request(invoice, settings, base)
