"""Billing contacts, invoices, their gap-free number sequences and one-time download links.

Invoices refer to Saleor's orders by plain strings (the order's id and number), like licenses
do, so the table survives without Saleor. The PDF lives in a private storage under
``file_name``; it is only ever served through the plugin's own views, never at a storage URL.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class BillingContact(models.Model):
    """Who an invoice is made out to and emailed to: a customer (or partner) keeps several,
    one of them the default."""

    owner_id = models.CharField(max_length=128, db_index=True)  # the host's user id
    name = models.CharField(max_length=255)
    company = models.CharField(max_length=255, blank=True, default="")
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=32, blank=True, default="")
    street_address_1 = models.CharField(max_length=255, blank=True, default="")
    street_address_2 = models.CharField(max_length=255, blank=True, default="")
    city = models.CharField(max_length=255, blank=True, default="")
    postal_code = models.CharField(max_length=32, blank=True, default="")
    country_area = models.CharField(max_length=128, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="")  # ISO 3166-1 alpha-2
    vat_number = models.CharField(max_length=32, blank=True, default="")
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "saleor_license_plugin"
        ordering = ("-is_default", "name", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("owner_id",),
                condition=models.Q(is_default=True),
                name="slp_one_default_billing_contact",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class InvoiceCounter(models.Model):
    """The last number used in one sequence (``INV-2026-{seq:06d}``: one per year). Taken
    with ``SELECT … FOR UPDATE`` in the transaction that records the invoice, so numbers are
    gap-free and never repeat, however many requests number invoices at once."""

    series = models.CharField(max_length=128, unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "saleor_license_plugin"

    def __str__(self) -> str:
        return f"{self.series}: {self.last}"


class Invoice(models.Model):
    """One invoice per order: what was billed, to whom, and where its PDF is kept."""

    number = models.CharField(max_length=64, unique=True)
    series = models.CharField(max_length=128, blank=True)  # "": a number staff typed
    sequence = models.PositiveIntegerField(null=True, blank=True)  # null: a typed number
    order_id = models.CharField(max_length=128, unique=True)  # the host's order id
    order_number = models.CharField(max_length=32, blank=True, default="")
    owner_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    issued_at = models.DateTimeField(default=timezone.now, db_index=True)
    currency = models.CharField(max_length=3)
    total_net = models.DecimalField(max_digits=20, decimal_places=4)
    total_gross = models.DecimalField(max_digits=20, decimal_places=4)
    # Who it is made out to, as printed (a snapshot: later edits to the contact do not move it).
    bill_to = models.JSONField(default=dict)
    billing_email = models.EmailField(max_length=254, blank=True, default="")
    file_name = models.CharField(max_length=255, blank=True, default="")  # "": not rendered yet
    sha256 = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        app_label = "saleor_license_plugin"
        constraints = [
            models.UniqueConstraint(fields=("series", "sequence"), name="slp_invoice_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.number} (order {self.order_number or self.order_id})"


class InvoiceLink(models.Model):
    """A download link: valid until ``expires_at`` and used at most once. Only the token's
    digest is stored; the POST that downloads claims the row with one conditional UPDATE."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="links")
    token_digest = models.CharField(max_length=64, unique=True)
    recipient = models.EmailField(max_length=254, blank=True, default="")
    purpose = models.CharField(max_length=16)  # "email", "resend", "order", "api"
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "saleor_license_plugin"
        indexes = [models.Index(fields=("invoice", "created_at"), name="slp_invoice_link_recent")]

    def __str__(self) -> str:
        return f"link to {self.invoice_id} ({self.purpose})"
