"""Invoices against a real Saleor: the Dashboard's "Generate" (invoiceRequest) and "Send"
(invoiceSendNotification) on an order, an order invoiced and emailed to its billing contact when
paid, and checkouts that may name only their buyer's own billing contacts."""

import io
from urllib.parse import parse_qs, urlparse

import pytest
from pypdf import PdfReader
from saleor.core import JobStatus
from saleor.graphql.tests.utils import get_graphql_content
from saleor.order.models import Order

from saleor_license_plugin import conf
from saleor_license_plugin.licensing.invoices import read_pdf
from saleor_license_plugin.models import BillingContact, Invoice, License

from flows import ADD_PROMO_CODE, add_license_lines, complete, create_checkout, pay_and_complete
from license_fixtures import gid
from test_orders import new_line

INVOICE_REQUEST = """
mutation Request($orderId: ID!, $number: String) {
  invoiceRequest(orderId: $orderId, number: $number) {
    invoice { id number status url createdAt }
    errors { field code message }
  }
}
"""
INVOICE_SEND = """
mutation Send($id: ID!) {
  invoiceSendNotification(id: $id) { invoice { id } errors { field code message } }
}
"""
UPDATE_METADATA = """
mutation Meta($id: ID!, $input: [MetadataInput!]!) {
  updateMetadata(id: $id, input: $input) { errors { field code message } }
}
"""
CONTACT_CREATE = """
mutation Contact($input: BillingContactInput!) {
  billingContactCreate(input: $input) { billingContact { id } errors { field code message } }
}
"""
MY_INVOICES = """
{ invoices(first: 5) { totalCount edges { node { id number orderNumber total { amount } } } } }
"""
SELLER = "License Shop Sp. z o.o.\nul. Długa 1, 00-001 Warszawa\nVAT PL5260001246"


@pytest.fixture
def invoices_stored(settings, tmp_path, license_plugin):
    """PDFs in this test's own folder (Saleor's private storage would be its media folder)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "license-invoices": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "INVOICE_STORAGE": "license-invoices"}
    return tmp_path


@pytest.fixture
def staff_orders_client(staff_api_client, permission_group_manage_orders):
    permission_group_manage_orders.user_set.add(staff_api_client.user)
    return staff_api_client


def pdf_text(pdf):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def link_path(url):
    parsed = urlparse(url)
    return parsed.path, parse_qs(parsed.query)["token"][0]


def paid_license_order(plugin_api, user_api_client, products, metadata=None):
    checkout_id = create_checkout(user_api_client)
    add_license_lines(plugin_api, checkout_id, [new_line(products)])
    if metadata:
        result = get_graphql_content(
            user_api_client.post_graphql(
                UPDATE_METADATA,
                {"id": checkout_id, "input": [{"key": k, "value": v} for k, v in metadata.items()]},
            )
        )
        assert result["data"]["updateMetadata"]["errors"] == []
    return checkout_id, pay_and_complete(user_api_client, checkout_id)


@pytest.mark.parametrize("plugin_config", [{"invoice_seller": SELLER}])
def test_generate_and_send_from_the_dashboard(
    invoices_stored,
    license_products,
    plugin_api,
    user_api_client,
    customer_user,
    staff_orders_client,
    client,
    plugin_config,
    mailoutbox,
):
    _, result = paid_license_order(plugin_api, user_api_client, license_products)
    order_id = result["order"]["id"]
    order = Order.objects.get()
    assert not order.invoices.exists()  # INVOICE_ON_PAYMENT is off by default
    keys_mails = len(mailoutbox)

    generated = get_graphql_content(
        staff_orders_client.post_graphql(INVOICE_REQUEST, {"orderId": order_id})
    )["data"]["invoiceRequest"]
    assert generated["errors"] == [], generated
    saleor_invoice = generated["invoice"]
    ours = Invoice.objects.get(order_id=str(order.pk))
    assert saleor_invoice["number"] == ours.number and ours.number.startswith("INV-")
    assert saleor_invoice["status"] == JobStatus.SUCCESS.upper()
    assert (
        "/plugins/global/saleor_license_plugin/invoices/download/?token=" in saleor_invoice["url"]
    )
    assert order.invoices.get().number == ours.number  # what the Dashboard's card lists
    assert order.events.filter(type="invoice_generated").exists()

    # The Dashboard's link: a page first, the PDF on the button's POST, once.
    path, token = link_path(saleor_invoice["url"])
    assert client.get(path, {"token": token}).status_code == 200
    download = client.post(path, {"token": token, "action": "download"})
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    text = pdf_text(download.content)
    [license] = License.objects.all()
    for expected in [
        ours.number,
        "License Shop Sp. z o.o.",
        "ul. Długa 1, 00-001 Warszawa",
        "New license: Professional 8 calls",
        f"License key: …{license.key_hint}",
        "400.00 USD",
        "Status: Paid",
    ]:
        assert expected in text, (expected, text)
    assert client.post(path, {"token": token, "action": "download"}).status_code == 410

    # Asking again gives the same invoice: one number per order.
    again = get_graphql_content(
        staff_orders_client.post_graphql(INVOICE_REQUEST, {"orderId": order_id})
    )["data"]["invoiceRequest"]
    assert again["invoice"]["number"] == ours.number and Invoice.objects.count() == 1

    sent = get_graphql_content(
        staff_orders_client.post_graphql(INVOICE_SEND, {"id": saleor_invoice["id"]})
    )["data"]["invoiceSendNotification"]
    assert sent["errors"] == [], sent
    [mail] = mailoutbox[keys_mails:]
    assert mail.to == [customer_user.email]  # no billing contact: the buyer
    assert ours.number in mail.subject and "/invoices/download/?token=" in mail.body

    # The customer's portal lists it.
    listed = plugin_api.post(MY_INVOICES)["invoices"]
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"]["orderNumber"] == str(order.number)


@pytest.mark.parametrize("plugin_config", [{"invoice_on_payment": "true"}])
def test_paying_an_order_invoices_it_and_emails_the_billing_contact(
    invoices_stored,
    license_products,
    plugin_api,
    user_api_client,
    customer_user,
    client,
    plugin_config,
    mailoutbox,
):
    contact = plugin_api.post(
        CONTACT_CREATE,
        {
            "input": {
                "name": "Accounts Payable",
                "company": "Buyer GmbH",
                "email": "ap@buyer.example",
                "country": "DE",
                "vatNumber": "DE123456789",
            }
        },
    )["billingContactCreate"]
    assert contact["errors"] == []
    _, result = paid_license_order(
        plugin_api,
        user_api_client,
        license_products,
        {"license.billing_contact": contact["billingContact"]["id"], "license.reference": "PO-9"},
    )
    assert result["errors"] == [], result
    order = Order.objects.get()
    ours = Invoice.objects.get()
    assert ours.order_id == str(order.pk) and ours.billing_email == "ap@buyer.example"
    saleor_invoice = order.invoices.get()
    assert (saleor_invoice.number, saleor_invoice.status) == (ours.number, JobStatus.SUCCESS)
    keys_mail, invoice_mail = mailoutbox
    assert keys_mail.to == [customer_user.email]
    assert invoice_mail.to == ["ap@buyer.example"] and ours.number in invoice_mail.subject
    path, token = link_path(invoice_mail.body.split("View or download it here: ")[1].split()[0])
    download = client.post(path, {"token": token, "action": "download"})
    text = pdf_text(download.content)
    [license] = License.objects.all()
    for expected in [
        "Buyer GmbH",
        "Accounts Payable",
        "VAT DE123456789",
        "ap@buyer.example",
        "Reference / PO / PI number: PO-9",
        f"License key: …{license.key_hint}",
    ]:
        assert expected in text, (expected, text)
    # Paying again (a second hook call, a redelivered task) changes nothing.
    from saleor_license_plugin.fulfillment.invoicing import invoice_paid_order
    from saleor_license_plugin.saleor_host.orders import SaleorTaskHost

    invoice_paid_order(str(order.pk), SaleorTaskHost())
    assert order.invoices.count() == 1 and len(mailoutbox) == 2


@pytest.mark.parametrize("plugin_config", [{"invoice_on_payment": "true"}])
def test_an_order_without_license_lines_is_invoiced_too(
    invoices_stored, checkout_ready_to_complete, customer_user, user_api_client, plugin_config
):
    checkout = checkout_ready_to_complete
    checkout.user, checkout.email = customer_user, customer_user.email
    checkout.save(update_fields=["user", "email"])
    result = pay_and_complete(user_api_client, checkout)
    assert result["errors"] == [], result
    order = Order.objects.get()
    ours = Invoice.objects.get(order_id=str(order.pk))
    assert order.invoices.get().number == ours.number
    assert ours.billing_email == customer_user.email  # no contact: the buyer


@pytest.mark.parametrize("plugin_config", [{"invoice_on_payment": "true"}])
def test_a_voucher_shows_on_the_invoice_once_with_saleors_totals(
    invoices_stored, license_products, plugin_api, user_api_client, voucher, plugin_config
):
    checkout_id = create_checkout(user_api_client)
    add_license_lines(plugin_api, checkout_id, [new_line(license_products, quantity=2)])
    promo = get_graphql_content(
        user_api_client.post_graphql(ADD_PROMO_CODE, {"id": checkout_id, "code": voucher.code})
    )
    assert promo["data"]["checkoutAddPromoCode"]["errors"] == []
    assert pay_and_complete(user_api_client, checkout_id)["errors"] == []
    order = Order.objects.get()
    text = pdf_text(read_pdf(Invoice.objects.get(), conf.get_settings()))
    # Saleor spreads the entire-order voucher over the line: the line says so, nothing else.
    assert f"Discount: Entire order voucher code: {voucher.code} (−20.00" in text, text
    assert "Included discount" not in text
    assert f"{order.total_gross_amount:,.2f} USD" in text  # 780.00: Saleor's total, as it is


def test_a_checkout_may_name_only_the_buyers_own_billing_contact(
    invoices_stored, license_products, plugin_api, user_api_client, staff_user
):
    others = BillingContact.objects.create(
        owner_id=gid("User", staff_user.pk), name="Someone else", email="else@example.com"
    )
    checkout_id, result = paid_license_order(
        plugin_api,
        user_api_client,
        license_products,
        {"license.billing_contact": gid("BillingContact", others.pk)},
    )
    assert result["order"] is None
    [error] = result["errors"]
    assert error["code"] == "NOT_FOUND"
    assert error["message"].startswith("BILLING_CONTACT_NOT_FOUND:")
    mine = plugin_api.post(CONTACT_CREATE, {"input": {"name": "Me", "email": "me@example.com"}})[
        "billingContactCreate"
    ]["billingContact"]
    # The same checkout, now naming the buyer's own contact.
    get_graphql_content(
        user_api_client.post_graphql(
            UPDATE_METADATA,
            {"id": checkout_id, "input": [{"key": "license.billing_contact", "value": mine["id"]}]},
        )
    )
    assert complete(user_api_client, checkout_id)["errors"] == []
