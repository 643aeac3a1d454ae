"""Billing contacts and invoices in the API: a customer's contacts (one the default), their
invoices (staff see all) and downloading one, as a file or a fresh one-time link."""

from __future__ import annotations

import base64
from typing import Any

import graphene
from django.db.models import Q
from graphene import relay

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.graphql.core import (
    BaseMutation,
    CountableConnection,
    Money,
    from_global_id,
    newest_first,
    query,
    require_signed_in,
    require_user,
    text,
)
from saleor_license_plugin.licensing import billing
from saleor_license_plugin.licensing.billing import BillTo
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.invoices import (
    create_link,
    file_name_for,
    link_url,
    read_pdf,
    visible_invoices,
)
from saleor_license_plugin.licensing.pricing import Money as MoneyValue
from saleor_license_plugin.models import BillingContact, Invoice

GRAPHQL_ROUTE = "graphql/"
INVOICE_TYPE = "BillingInvoice"  # not "Invoice": Saleor's own invoices have ids "Invoice:<pk>"


class BillingContactType(graphene.ObjectType):
    name = graphene.String(required=True)
    company = graphene.String(required=True)
    email = graphene.String(required=True, description="Where invoices are emailed.")
    phone = graphene.String(required=True)
    street_address_1 = graphene.String(required=True)
    street_address_2 = graphene.String(required=True)
    city = graphene.String(required=True)
    postal_code = graphene.String(required=True)
    country_area = graphene.String(required=True)
    country = graphene.String(required=True, description="ISO 3166-1 alpha-2 code, e.g. PL.")
    vat_number = graphene.String(required=True)
    is_default = graphene.Boolean(
        required=True, description="Billed when a checkout names no contact."
    )
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)

    class Meta:
        name = "BillingContact"
        interfaces = (relay.Node,)
        description = (
            "Who invoices are made out to and emailed to. A checkout names one in its metadata "
            "(license.billing_contact: this id); with none named the default is billed."
        )


class BillingContactInput(graphene.InputObjectType):
    name = graphene.String(description="Required when creating.")
    company = graphene.String()
    email = graphene.String(description="Required when creating.")
    phone = graphene.String()
    street_address_1 = graphene.String()
    street_address_2 = graphene.String()
    city = graphene.String()
    postal_code = graphene.String()
    country_area = graphene.String()
    country = graphene.String(description="ISO 3166-1 alpha-2 code, e.g. PL.")
    vat_number = graphene.String()
    is_default = graphene.Boolean(description="Make this the default contact.")


class InvoiceBillTo(graphene.ObjectType):
    name = graphene.String(required=True)
    company = graphene.String(required=True)
    email = graphene.String(required=True)
    street_address_1 = graphene.String(required=True)
    street_address_2 = graphene.String(required=True)
    city = graphene.String(required=True)
    postal_code = graphene.String(required=True)
    country_area = graphene.String(required=True)
    country = graphene.String(required=True)
    vat_number = graphene.String(required=True)

    class Meta:
        description = "Who an invoice is made out to, as printed on it."


class InvoiceType(graphene.ObjectType):
    number = graphene.String(required=True, description="e.g. INV-2026-000042.")
    issued_at = graphene.DateTime(required=True)
    order_id = graphene.String(required=True, description="The host's order id.")
    order_number = graphene.String(required=True)
    owner_id = graphene.String(description="The buyer's user id; null for a guest's order.")
    total = graphene.Field(Money, required=True, description="Total, taxes included.")
    total_net = graphene.Field(Money, required=True)
    tax = graphene.Field(Money, required=True)
    bill_to = graphene.Field(InvoiceBillTo, required=True)
    billing_email = graphene.String(description="Where the invoice was emailed.")
    is_ready = graphene.Boolean(required=True, description="The PDF can be downloaded.")

    class Meta:
        name = "BillingInvoice"
        interfaces = (relay.Node,)
        description = (
            "An order's invoice, as this plugin issued it (Saleor lists it on the order as an "
            "Invoice of its own, with another id). Download it with invoiceDownload."
        )

    @staticmethod
    def resolve_total(root: Invoice, info: Any) -> MoneyValue:
        return MoneyValue(root.total_gross, root.currency).rounded()

    @staticmethod
    def resolve_total_net(root: Invoice, info: Any) -> MoneyValue:
        return MoneyValue(root.total_net, root.currency).rounded()

    @staticmethod
    def resolve_tax(root: Invoice, info: Any) -> MoneyValue:
        return MoneyValue(root.total_gross - root.total_net, root.currency).rounded()

    @staticmethod
    def resolve_owner_id(root: Invoice, info: Any) -> str | None:
        return root.owner_id or None

    @staticmethod
    def resolve_bill_to(root: Invoice, info: Any) -> InvoiceBillTo:
        data = BillTo.from_dict(root.bill_to or {}).to_dict()
        data.pop("phone", None)
        return InvoiceBillTo(**data)

    @staticmethod
    def resolve_billing_email(root: Invoice, info: Any) -> str | None:
        return root.billing_email or None

    @staticmethod
    def resolve_is_ready(root: Invoice, info: Any) -> bool:
        return bool(root.file_name)


class InvoiceCountableConnection(CountableConnection):
    class Meta:
        node = InvoiceType


class InvoiceFilterInput(graphene.InputObjectType):
    search = graphene.String(description="Part of the invoice number, or the order number.")
    order_id = graphene.String(description="The host's order id.")


# --- queries -------------------------------------------------------------------------------------


@query
def resolve_billing_contacts(ctx: ApiContext) -> list[BillingContact]:
    return billing.contacts_of(require_user(ctx))


def _invoices(ctx: ApiContext) -> Any:
    require_signed_in(ctx)
    return visible_invoices(ctx.principal)


@query
def resolve_invoices(
    ctx: ApiContext, filter: Any = None, first: Any = None, after: Any = None
) -> Any:
    queryset = _invoices(ctx)
    spec = dict(filter or {})
    if search := text(spec.get("search"), "search", maximum=64):
        queryset = queryset.filter(Q(number__icontains=search) | Q(order_number=search))
    if order_id := text(spec.get("order_id"), "orderId", maximum=128):
        queryset = queryset.filter(order_id=order_id)
    return newest_first(
        InvoiceCountableConnection, queryset, first=first, after=after, field="issued_at"
    )


@query
def resolve_invoice(ctx: ApiContext, id: Any = None) -> Invoice | None:
    pk = from_global_id(id, INVOICE_TYPE)
    return _invoices(ctx).filter(pk=pk).first()


# --- mutations -----------------------------------------------------------------------------------


def _contact_id(value: Any) -> int:
    return from_global_id(value, "BillingContact")


def _contact_input(input: Any) -> tuple[dict[str, Any], bool]:
    """The contact's fields, and whether to make it the default."""
    data = dict(input or {})
    return data, bool(data.pop("is_default", False))


class BillingContactCreate(BaseMutation):
    billing_contact = graphene.Field(BillingContactType)

    class Arguments:
        input = BillingContactInput(required=True)

    class Meta:
        description = (
            "Add a billing contact (at most 50). Your first contact becomes the default; "
            "isDefault makes this one the default."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, input: Any = None) -> Any:
        data, make_default = _contact_input(input)
        contact = billing.create_contact(
            require_user(ctx), data, make_default=make_default, now=ctx.now
        )
        return cls.success(billing_contact=contact)


class BillingContactUpdate(BaseMutation):
    billing_contact = graphene.Field(BillingContactType)

    class Arguments:
        id = graphene.ID(required=True)
        input = BillingContactInput(required=True)

    class Meta:
        description = "Change a billing contact: the fields given. Invoices keep what they printed."

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, input: Any = None) -> Any:
        owner = require_user(ctx)
        data, make_default = _contact_input(input)
        contact = billing.update_contact(
            owner, _contact_id(id), data, make_default=make_default, now=ctx.now
        )
        return cls.success(billing_contact=contact)


class BillingContactSetDefault(BaseMutation):
    billing_contact = graphene.Field(BillingContactType)

    class Arguments:
        id = graphene.ID(required=True)

    class Meta:
        description = "Make a billing contact the default."

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None) -> Any:
        contact = billing.set_default(require_user(ctx), _contact_id(id), now=ctx.now)
        return cls.success(billing_contact=contact)


class BillingContactDelete(BaseMutation):
    id = graphene.ID(description="The deleted contact's id.")

    class Arguments:
        id = graphene.ID(required=True)

    class Meta:
        description = (
            "Delete a billing contact. A checkout naming it fails at checkoutComplete "
            "(BILLING_CONTACT_NOT_FOUND); an order naming it is billed to its billing address."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None) -> Any:
        billing.delete_contact(require_user(ctx), _contact_id(id))
        return cls.success(id=id)


def api_base_url(ctx: ApiContext) -> str:
    """Where this API is reached: PUBLIC_API_URL, else this request's URL less ``graphql/``."""
    configured = get_settings().public_api_url
    if configured or ctx.request is None:
        return configured
    here = ctx.request.build_absolute_uri(ctx.request.path)
    return here[: -len(GRAPHQL_ROUTE)] if here.endswith(GRAPHQL_ROUTE) else ""


class InvoiceDownload(BaseMutation):
    file_name = graphene.String(description="e.g. invoice-INV-2026-000042.pdf.")
    content_type = graphene.String()
    content_base64 = graphene.String(description="The PDF, base64-encoded (link: false).")
    url = graphene.String(description="A one-time download link (link: true).")
    expires_at = graphene.DateTime(description="When the link stops working.")

    class Arguments:
        id = graphene.ID(required=True, description="The invoice's id.")
        link = graphene.Boolean(
            default_value=False,
            description="true: a one-time link (valid INVOICE_LINK_HOURS) instead of the file.",
        )

    class Meta:
        description = "Download one of your invoices (staff: any), as a file or a one-time link."

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, link: Any = False) -> Any:
        invoice = _invoices(ctx).filter(pk=from_global_id(id, INVOICE_TYPE)).first()
        if invoice is None:
            raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such invoice.", "id")
        settings = get_settings()
        if not invoice.file_name:
            raise LicenseError(LicenseErrorCode.NOT_FOUND, "The PDF is not ready yet.", "id")
        common = {"file_name": file_name_for(invoice), "content_type": "application/pdf"}
        if link:
            base = api_base_url(ctx)
            if not base:
                raise LicenseError(
                    LicenseErrorCode.INVALID,
                    "Links need PUBLIC_API_URL; download the file instead.",
                    "link",
                )
            token, made = create_link(
                invoice,
                recipient=ctx.principal.email,
                purpose="api",
                hours=settings.invoice_link_hours,
                now=ctx.now,
            )
            return cls.success(url=link_url(base, token), expires_at=made.expires_at, **common)
        pdf = read_pdf(invoice, settings)
        return cls.success(content_base64=base64.b64encode(pdf).decode(), **common)
