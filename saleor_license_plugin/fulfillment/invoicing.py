"""Invoices as jobs: issue an order's invoice (number, PDF, private storage), show it where staff
look, and email the billing contact a one-time download link.

- On demand (Saleor's ``invoiceRequest``, the Dashboard's "Generate"): :func:`issue`, in the
  request.
- When an order is paid (``INVOICE_ON_PAYMENT``): :func:`invoice_paid_order`, from the
  fulfillment pipeline (after the licenses exist, so the invoice names their keys) or, for an
  order without license lines, its own Celery task. The invoice is issued and attached under one
  outbox key per order and the email sent under another, so redelivered or concurrent runs
  issue and mail it once; a failure is recorded and retried by the reconciliation.
- Saleor's ``invoiceSendNotification`` (the Dashboard's "Send"): :func:`send_invoice_email`
  with a fresh link, each time staff ask.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings as django_settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from saleor_license_plugin.conf import LicenseSettings, using
from saleor_license_plugin.fulfillment import outbox
from saleor_license_plugin.fulfillment.host import TaskHost
from saleor_license_plugin.licensing.billing import BillTo, bill_to_for_order
from saleor_license_plugin.licensing.invoice_pdf import money, render
from saleor_license_plugin.licensing.invoices import (
    OrderFacts,
    compose,
    create_link,
    file_name_for,
    link_url,
    read_pdf,
    record_invoice,
    store_pdf,
)
from saleor_license_plugin.models import Invoice

logger = logging.getLogger(__name__)
KIND = "invoice"  # outbox: issue and attach an order's invoice
EMAIL_KIND = "invoice_email"  # outbox: an email with a download link


def issue_key(order_id: str) -> str:
    return f"order:{order_id}:invoice"


def issue(order: OrderFacts, settings: LicenseSettings, *, number: str | None = None) -> Invoice:
    """The order's invoice, numbered, rendered and stored: the one it has, or a new one."""
    fallback = order.billing_address
    if not fallback.email:
        fallback = BillTo.from_dict({**fallback.to_dict(), "email": order.customer_email})
    bill_to, _ = bill_to_for_order(order.owner_id, order.metadata, fallback)
    invoice, created = record_invoice(order, bill_to, settings, number=number)
    if not invoice.file_name:  # new, or its PDF failed to render or store before
        store_pdf(invoice, render(compose(order, invoice, settings)), settings)
        logger.info("Invoice %s issued for order %s", invoice.number, order.order_id)
    return invoice


def order_link(invoice: Invoice, settings: LicenseSettings, base: str) -> str:
    """The link the host shows on the order (Saleor's ``Invoice.url``): one-time and expiring
    like every link; past that its page offers to mail the billing contact a new one."""
    token, _ = create_link(
        invoice, recipient="", purpose="order", hours=settings.invoice_link_hours
    )
    return link_url(base, token)


def api_base(settings: LicenseSettings, host: TaskHost | None) -> str:
    return settings.public_api_url or (host.public_api_url() if host is not None else "")


def _summary(order: OrderFacts | None) -> list[dict[str, Any]]:
    if order is None:
        return []
    return [
        {
            "name": line.name,
            "quantity": line.quantity,
            "total": money(line.total_gross, order.currency),
        }
        for line in order.lines
    ]


def send_invoice_email(
    invoice: Invoice,
    settings: LicenseSettings,
    base: str,
    *,
    key: str,
    order: OrderFacts | None = None,
    recipient: str | None = None,
    token: str | None = None,
) -> bool:
    """Email the billing contact a one-time link to the invoice (the PDF itself when there is no
    public URL to link to), once under ``key``; True if this call sent it. ``token``: a link
    made already (a requested new link); else a new one is made when the email is sent."""
    to = recipient or invoice.billing_email
    if not to:
        return False

    def build() -> EmailMultiAlternatives:
        made = (
            token
            or create_link(
                invoice, recipient=to, purpose="email", hours=settings.invoice_link_hours
            )[0]
        )
        url = link_url(base, made)
        seller = next((line for line in settings.invoice_seller.splitlines() if line.strip()), "")
        context = {
            "invoice": invoice,
            "number": invoice.number,
            "order_number": invoice.order_number,
            "total": money(invoice.total_gross, invoice.currency),
            "issued_at": invoice.issued_at,
            "url": url,
            "hours": settings.invoice_link_hours,
            "lines": _summary(order),
            "seller": seller,
        }
        message = EmailMultiAlternatives(
            subject=f"Invoice {invoice.number} for order {invoice.order_number}",
            body=render_to_string("saleor_license_plugin/invoice_email.txt", context),
            from_email=getattr(django_settings, "DEFAULT_FROM_EMAIL", None),
            to=[to],
        )
        message.attach_alternative(
            render_to_string("saleor_license_plugin/invoice_email.html", context), "text/html"
        )
        if not url:  # nowhere to link to: the PDF itself
            message.attach(file_name_for(invoice), read_pdf(invoice, settings), "application/pdf")
        return message

    return outbox.send_once(key, kind=EMAIL_KIND, recipient=to, build=build)


def invoice_paid_order(order_id: str, host: TaskHost) -> Invoice | None:
    """A paid order's invoice, issued and attached once (outbox ``order:<id>:invoice``), then
    emailed to its billing contact once (``invoice:<pk>:email``) when that is on."""
    settings = host.license_settings()
    with using(settings):
        facts = host.order_facts(order_id)
        if facts is None:
            return None
        base = api_base(settings, host)

        def issue_and_attach() -> None:
            invoice = issue(facts, settings)
            host.attach_invoice(order_id, invoice, order_link(invoice, settings, base))

        outbox.once(
            issue_key(order_id),
            kind=KIND,
            recipient=facts.customer_email,
            action=issue_and_attach,
        )
        invoice = Invoice.objects.filter(order_id=order_id).first()
        if invoice is not None and invoice.file_name and settings.send_invoice_emails:
            send_invoice_email(
                invoice, settings, base, key=f"invoice:{invoice.pk}:email", order=facts
            )
        return invoice


def send_on_request(invoice: Invoice, settings: LicenseSettings, base: str) -> bool:
    """Saleor's ``invoiceSendNotification`` ("Send" in the Dashboard): a new email with a fresh
    link each time staff ask."""
    return send_invoice_email(
        invoice, settings, base, key=f"invoice:{invoice.pk}:sent:{uuid.uuid4().hex}"
    )


def retry_failed(host: TaskHost, *, dry_run: bool = False) -> list[str]:
    """Invoices whose issue failed or whose worker died (the reconciliation): issue them again.
    Failed invoice emails are sent again as well."""
    retried = []
    for message in outbox.due_for_retry(timezone.now(), kind=KIND):
        retried.append(message.key)
        if not dry_run:
            order_id = message.key.removeprefix("order:").removesuffix(":invoice")
            with host.context():
                invoice_paid_order(order_id, host)
    for message in outbox.due_for_retry(timezone.now(), kind=EMAIL_KIND):
        pk = message.key.split(":")[1]
        invoice = Invoice.objects.filter(pk=pk).first() if pk.isdigit() else None
        if invoice is None:
            continue
        retried.append(message.key)
        if not dry_run:
            settings = host.license_settings()
            with host.context(), using(settings):
                send_invoice_email(
                    invoice,
                    settings,
                    api_base(settings, host),
                    key=message.key,
                    recipient=message.recipient,
                )
    return retried
