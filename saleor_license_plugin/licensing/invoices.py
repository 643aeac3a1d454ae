"""Invoices: what an order's invoice says, its gap-free number, its private PDF and the one-time
links that download it.

- **Numbers** come from a counter row per sequence (``INV-{year}-{seq:06d}`` has one sequence a
  year), taken with ``SELECT … FOR UPDATE`` in the transaction that records the invoice: a
  number is used exactly when its invoice row commits, so there is no gap and no duplicate
  however many requests number invoices at once. One invoice per order (a unique order id):
  asking again returns the invoice the order has.
- **PDFs** are written to a private storage (``INVOICE_STORAGE``) under a random name and only
  ever served by the plugin: to the owner or staff through the API, or through a link.
- **Links** are 256-bit random tokens, stored as digests, valid ``INVOICE_LINK_HOURS`` and used
  once: the POST that downloads claims the link with one conditional UPDATE
  (``used_at IS NULL AND expires_at > now``), so two concurrent POSTs download once.

Everything here takes plain values: the host (Saleor) reads its order into :class:`OrderFacts`.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage, storages
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from saleor_license_plugin.conf import LicenseSettings
from saleor_license_plugin.licensing import access
from saleor_license_plugin.licensing.billing import BillTo
from saleor_license_plugin.licensing.checkout_lines import (
    END_CUSTOMER_KEYS,
    REFERENCE_KEY,
    LineIntent,
)
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.invoice_pdf import DocumentLine, InvoiceDocument, money
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import Invoice, InvoiceCounter, InvoiceLink, License

MANUAL_SERIES = ""  # a number staff typed in the Dashboard: outside every sequence
RESEND_COOLDOWN = timedelta(minutes=10)  # at most one "send me a new link" per invoice per this
ACTION_LABELS = {
    LineAction.NEW: "New license",
    LineAction.UPGRADE: "Upgrade",
    LineAction.RENEW_LICENSE: "Term renewal",
    LineAction.RENEW_MAINTENANCE: "Maintenance renewal",
    LineAction.EXPANSION: "Expansion",
    LineAction.SUBSCRIPTION_BILL: "Subscription period",
    LineAction.SUBSCRIBE: "Subscription",
    LineAction.PLAN_UPGRADE: "Plan upgrade",
}


# --- what the host says about an order --------------------------------------------------------


@dataclass(frozen=True)
class LineFacts:
    name: str
    sku: str
    quantity: int
    unit_net: Decimal
    total_net: Decimal
    total_gross: Decimal
    tax_rate: Decimal | None = None  # 0.23 for 23 %
    discount: str = ""  # what discounted the line (voucher code, promotion), as printed
    discount_amount: Decimal = Decimal(0)  # by how much, over the line's quantity
    intent: Mapping[str, Any] | None = None  # a license line's LineIntent fields
    license_ids: tuple[int, ...] = ()  # what fulfillment issued or changed


@dataclass(frozen=True)
class OrderFacts:
    """An order as the invoice needs it, read by the host (``saleor_host.invoices``)."""

    order_id: str
    order_number: str
    created_at: datetime
    currency: str
    owner_id: str  # the buyer's user id ("" for a guest)
    customer_email: str
    billing_address: BillTo
    metadata: Mapping[str, Any]  # order metadata: billing contact, reference, end customer
    lines: tuple[LineFacts, ...]
    subtotal_net: Decimal
    total_net: Decimal
    total_gross: Decimal
    shipping_name: str = ""
    shipping_net: Decimal = Decimal(0)
    shipping_gross: Decimal = Decimal(0)
    discounts: tuple[tuple[str, Decimal], ...] = ()  # order discounts: (label, amount)
    payments: tuple[str, ...] = ()  # "Card Visa •••• 4242, ref pi_123"
    paid: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


# --- numbers -----------------------------------------------------------------------------------


def series_for(number_format: str, when: datetime) -> str:
    """The sequence a number belongs to: the format with ``{year}`` and ``{month}`` filled in
    and ``{seq}`` left (``INV-2026-{seq:06d}``)."""
    parts = []
    for literal, name, spec, conversion in string.Formatter().parse(number_format):
        parts.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is None:
            continue
        if name == "seq":
            parts.append("{seq" + (f"!{conversion}" if conversion else "") + f":{spec}}}")
        else:
            value = {"year": when.year, "month": when.month}[name]
            parts.append(format(value, spec) if spec else str(value))
    return "".join(parts)


def number_in(series: str, sequence: int) -> str:
    return series.format(seq=sequence)


def record_invoice(
    order: OrderFacts,
    bill_to: BillTo,
    settings: LicenseSettings,
    *,
    number: str | None = None,
    now: datetime | None = None,
) -> tuple[Invoice, bool]:
    """The order's invoice, numbered now if it has none: ``(invoice, created)``.

    The counter row is locked (``SELECT … FOR UPDATE``) and the invoice inserted in one
    transaction, so the number is used exactly when the invoice exists. ``number``: one staff
    typed (Saleor's ``invoiceRequest(number:)``), outside the sequence."""
    now = now or timezone.now()
    existing = Invoice.objects.filter(order_id=order.order_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            if number:
                series, sequence = MANUAL_SERIES, None
            else:
                series = series_for(settings.invoice_number_format, now)
                InvoiceCounter.objects.bulk_create(
                    [InvoiceCounter(series=series)], ignore_conflicts=True
                )
                counter = InvoiceCounter.objects.select_for_update().get(series=series)
                # Another request may have invoiced this order while we waited for the lock.
                existing = Invoice.objects.filter(order_id=order.order_id).first()
                if existing is not None:
                    return existing, False
                counter.last += 1
                counter.save(update_fields=["last"])
                sequence = counter.last
                number = number_in(series, sequence)
            invoice = Invoice.objects.create(
                number=number,
                series=series,
                sequence=sequence,
                order_id=order.order_id,
                order_number=order.order_number,
                owner_id=order.owner_id,
                issued_at=now,
                currency=order.currency,
                total_net=order.total_net,
                total_gross=order.total_gross,
                bill_to=bill_to.to_dict(),
                billing_email=bill_to.email or order.customer_email,
            )
    except IntegrityError:
        # The order was invoiced by a request in another sequence (a new year began between
        # the two), or a typed number is taken.
        existing = Invoice.objects.filter(order_id=order.order_id).first()
        if existing is not None:
            return existing, False
        raise LicenseError(
            LicenseErrorCode.INVALID, "This invoice number is already used.", "number"
        ) from None
    return invoice, True


# --- the document ------------------------------------------------------------------------------


def _years(count: int) -> str:
    return f"{count} year" if count == 1 else f"{count} years"


def license_details(line: LineFacts, licenses: Mapping[int, License]) -> tuple[str, list[str]]:
    """(action label, detail lines) of a license line: keys by hint, deployment, term."""
    if not line.intent:
        return "", []
    intent = LineIntent(**line.intent)
    action = intent.line_action
    details = []
    if action is LineAction.NEW and intent.maintenance_years:
        details.append(f"Maintenance: {_years(intent.maintenance_years)}")
    if action in (LineAction.RENEW_LICENSE, LineAction.RENEW_MAINTENANCE):
        details.append(f"Term: {_years(intent.years)}")
    ids = line.license_ids or ((intent.license_id,) if intent.license_id else ())
    hints = [f"…{licenses[pk].key_hint}" for pk in ids if pk in licenses]
    if hints:
        details.append(("License keys: " if len(hints) > 1 else "License key: ") + ", ".join(hints))
    deployments = {intent.deployment_id} if intent.deployment_id else set()
    deployments |= {
        licenses[pk].deployment.public_id  # type: ignore[union-attr]
        for pk in ids
        if pk in licenses and licenses[pk].deployment is not None
    }
    if deployments:
        details.append("Deployment: " + ", ".join(sorted(deployments)))
    expiries = set()
    for pk in ids:
        if (license := licenses.get(pk)) is None:
            continue
        if license.term_expires_at:
            expiries.add(f"Term until {license.term_expires_at:%Y-%m-%d}")
        if license.maintenance_expires_at and action is not LineAction.RENEW_LICENSE:
            expiries.add(f"Maintenance until {license.maintenance_expires_at:%Y-%m-%d}")
    details += sorted(expiries)
    return ACTION_LABELS[action], details


def compose(order: OrderFacts, invoice: Invoice, settings: LicenseSettings) -> InvoiceDocument:
    """What the PDF prints: the seller from the settings (Dashboard), the invoice's bill-to
    snapshot, each line with its license action, key hints, deployment and term, the taxes and
    totals as the host computed them, payments and the reference (PO / PI) number."""
    ids = {pk for line in order.lines for pk in line.license_ids}
    ids |= {
        int(line.intent["license_id"])
        for line in order.lines
        if line.intent and line.intent.get("license_id")
    }
    licenses = License.objects.select_related("deployment").in_bulk(list(ids)) if ids else {}
    lines = []
    for line in order.lines:
        label, details = license_details(line, licenses)
        if line.sku:
            details.insert(0, f"SKU {line.sku}")
        if line.discount_amount:
            amount = money(line.discount_amount, order.currency)
            details.append(f"Discount: {line.discount or 'discount'} (−{amount})")
        lines.append(
            DocumentLine(
                description=f"{label}: {line.name}" if label else line.name,
                details=tuple(details),
                quantity=line.quantity,
                unit_net=line.unit_net,
                tax_rate=line.tax_rate,
                total_net=line.total_net,
                total_gross=line.total_gross,
            )
        )
    bill_to = BillTo.from_dict(invoice.bill_to)
    end_customer = [
        str(order.metadata.get(key) or "").strip()
        for key in END_CUSTOMER_KEYS
        if str(order.metadata.get(key) or "").strip()
    ]
    return InvoiceDocument(
        number=invoice.number,
        issued_at=invoice.issued_at,
        order_number=order.order_number,
        order_date=order.created_at,
        currency=order.currency,
        seller=tuple(line for line in settings.invoice_seller.splitlines() if line.strip()),
        bill_to=tuple(bill_to.lines()),
        bill_to_email=invoice.billing_email,
        reference=str(order.metadata.get(REFERENCE_KEY) or "").strip()[:64],
        end_customer=tuple(end_customer),
        lines=tuple(lines),
        subtotal_net=order.subtotal_net,
        shipping=(order.shipping_name or "Shipping", order.shipping_net, order.shipping_gross)
        if order.shipping_gross or order.shipping_net
        else None,
        discounts=order.discounts,
        total_net=order.total_net,
        total_gross=order.total_gross,
        payments=order.payments,
        paid=order.paid,
        footer=tuple(line for line in settings.invoice_footer.splitlines() if line.strip()),
    )


# --- storage -----------------------------------------------------------------------------------


def invoice_storage(settings: LicenseSettings) -> Storage:
    """``INVOICE_STORAGE`` (a STORAGES alias or a storage class's dotted path), else Django's
    ``PRIVATE_FILE_STORAGE`` (Saleor's private storage), else the default storage."""
    name = settings.invoice_storage or getattr(django_settings, "PRIVATE_FILE_STORAGE", None)
    if not name:
        return default_storage
    if name in getattr(django_settings, "STORAGES", {}):
        return storages[name]
    return import_string(name)()


def store_pdf(invoice: Invoice, pdf: bytes, settings: LicenseSettings) -> Invoice:
    name = f"saleor-license-plugin/invoices/{invoice.issued_at:%Y}/{uuid.uuid4().hex}.pdf"
    saved = invoice_storage(settings).save(name, ContentFile(pdf))
    invoice.file_name = saved
    invoice.sha256 = hashlib.sha256(pdf).hexdigest()
    invoice.save(update_fields=["file_name", "sha256"])
    return invoice


def read_pdf(invoice: Invoice, settings: LicenseSettings) -> bytes:
    if not invoice.file_name:
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "The invoice's PDF is not ready yet.", "id")
    with invoice_storage(settings).open(invoice.file_name, "rb") as handle:
        pdf = handle.read()
    if invoice.sha256 and hashlib.sha256(pdf).hexdigest() != invoice.sha256:
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "The invoice's PDF is damaged.", "id")
    return bytes(pdf)


def file_name_for(invoice: Invoice) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in invoice.number)
    return f"invoice-{safe}.pdf"


# --- who sees which invoices -------------------------------------------------------------------


def visible_invoices(principal: Principal) -> QuerySet[Invoice]:
    """The caller's own invoices (as the buyer); every one for staff."""
    return access.visible_rows(principal, Invoice.objects.all(), lambda user: Q(owner_id=user))


# --- one-time links ----------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(
    invoice: Invoice,
    *,
    recipient: str,
    purpose: str,
    hours: int,
    now: datetime | None = None,
) -> tuple[str, InvoiceLink]:
    """A new link's token (shown once: only its digest is kept) and row."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    link = InvoiceLink.objects.create(
        invoice=invoice,
        token_digest=_digest(token),
        recipient=recipient,
        purpose=purpose,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    return token, link


def link_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/invoices/download/?token={token}" if base else ""


def find_link(token: Any) -> InvoiceLink | None:
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    return InvoiceLink.objects.select_related("invoice").filter(token_digest=_digest(token)).first()


def link_state(link: InvoiceLink, now: datetime | None = None) -> str:
    """``valid``, ``used`` or ``expired``."""
    now = now or timezone.now()
    if link.used_at is not None:
        return "used"
    return "valid" if link.expires_at > now else "expired"


def consume_link(link: InvoiceLink, now: datetime | None = None) -> bool:
    """Use the link: True for exactly one caller, while it is unused and unexpired."""
    now = now or timezone.now()
    claimed = InvoiceLink.objects.filter(
        pk=link.pk, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    return claimed == 1


def request_new_link(
    invoice: Invoice, *, hours: int, now: datetime | None = None
) -> tuple[str, InvoiceLink] | None:
    """ "Send me a new link" from an expired or used link's page: a new link for the invoice's
    billing email (never the asker's), at most one per ``RESEND_COOLDOWN`` per invoice so the
    page cannot flood a mailbox; None when one was made too recently."""
    now = now or timezone.now()
    with transaction.atomic():
        Invoice.objects.select_for_update().filter(pk=invoice.pk).first()
        if InvoiceLink.objects.filter(
            invoice=invoice, purpose="resend", created_at__gt=now - RESEND_COOLDOWN
        ).exists():
            return None
        return create_link(
            invoice, recipient=invoice.billing_email, purpose="resend", hours=hours, now=now
        )
