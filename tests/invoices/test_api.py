"""Billing contacts and invoices in the plugin's API: owner-scoped contacts with one default,
invoices listed for their owner (staff: all) and downloaded as a file or a one-time link."""

import base64

import pytest

from saleor_license_plugin import conf
from saleor_license_plugin.fulfillment.invoicing import issue
from saleor_license_plugin.licensing.billing import contact_global_id
from saleor_license_plugin.models import BillingContact, InvoiceLink
from tests.api.helpers import ALICE, BOB, STAFF, gql
from tests.invoices.helpers import facts

pytestmark = pytest.mark.django_db

FIELDS = "id name company email country vatNumber isDefault streetAddress1"
CREATE = f"""
mutation Create($input: BillingContactInput!) {{
  billingContactCreate(input: $input) {{ billingContact {{ {FIELDS} }} errors {{ field code }} }}
}}"""
UPDATE = f"""
mutation Update($id: ID!, $input: BillingContactInput!) {{
  billingContactUpdate(id: $id, input: $input) {{
    billingContact {{ {FIELDS} }} errors {{ field code }}
  }}
}}"""
SET_DEFAULT = """
mutation Default($id: ID!) {
  billingContactSetDefault(id: $id) { billingContact { id isDefault } errors { field code } }
}"""
DELETE = """
mutation Delete($id: ID!) { billingContactDelete(id: $id) { id errors { field code } } }"""
CONTACTS = f"{{ billingContacts {{ {FIELDS} }} }}"
INVOICES = """
query Invoices($filter: InvoiceFilterInput) {
  invoices(first: 10, filter: $filter) {
    totalCount
    edges { node { id number issuedAt orderId orderNumber isReady
                   total { amount currency } totalNet { amount } tax { amount }
                   billTo { name company email country } billingEmail } }
  }
}"""
DOWNLOAD = """
mutation Download($id: ID!, $link: Boolean) {
  invoiceDownload(id: $id, link: $link) {
    fileName contentType contentBase64 url expiresAt errors { field code }
  }
}"""


def create(principal, **data):
    return gql(CREATE, {"input": data}, principal=principal).data["billingContactCreate"]


def test_a_customer_keeps_contacts_and_the_first_is_the_default():
    first = create(ALICE, name="Ada", email="ada@example.com", country="pl", vatNumber="PL123")
    assert first["errors"] == []
    assert first["billingContact"]["isDefault"] is True
    assert first["billingContact"]["country"] == "PL"
    second = create(ALICE, name="Bob Books", email="books@example.com", company="Acme")
    assert second["billingContact"]["isDefault"] is False
    made = gql(SET_DEFAULT, {"id": second["billingContact"]["id"]}, principal=ALICE)
    assert made.payload("billingContactSetDefault")["billingContact"]["isDefault"] is True
    listed = gql(CONTACTS, principal=ALICE).data["billingContacts"]
    assert [(c["name"], c["isDefault"]) for c in listed] == [("Bob Books", True), ("Ada", False)]
    changed = gql(
        UPDATE,
        {"id": first["billingContact"]["id"], "input": {"company": "Ada Ltd", "isDefault": True}},
        principal=ALICE,
    ).payload("billingContactUpdate")["billingContact"]
    assert (changed["company"], changed["name"], changed["isDefault"]) == ("Ada Ltd", "Ada", True)
    assert BillingContact.objects.filter(is_default=True).count() == 1
    gql(DELETE, {"id": first["billingContact"]["id"]}, principal=ALICE).payload(
        "billingContactDelete"
    )
    assert [c["name"] for c in gql(CONTACTS, principal=ALICE).data["billingContacts"]] == [
        "Bob Books"
    ]


def test_contacts_are_their_owners_alone():
    alice_contact = create(ALICE, name="Ada", email="ada@example.com")["billingContact"]
    assert gql(CONTACTS, principal=BOB).data["billingContacts"] == []
    for document, variables, name in [
        (UPDATE, {"id": alice_contact["id"], "input": {"name": "Mallory"}}, "billingContactUpdate"),
        (SET_DEFAULT, {"id": alice_contact["id"]}, "billingContactSetDefault"),
        (DELETE, {"id": alice_contact["id"]}, "billingContactDelete"),
    ]:
        assert gql(document, variables, principal=BOB).codes(name) == ["NOT_FOUND"]
    assert BillingContact.objects.get().name == "Ada"
    assert gql(CONTACTS).codes() == ["PERMISSION_DENIED"]
    anonymous = gql(CREATE, {"input": {"name": "X", "email": "x@example.com"}})
    assert anonymous.codes("billingContactCreate") == ["PERMISSION_DENIED"]


@pytest.mark.parametrize(
    "data, field, code",
    [
        ({"email": "ada@example.com"}, "name", "REQUIRED"),
        ({"name": "Ada"}, "email", "REQUIRED"),
        ({"name": "Ada", "email": "not-an-email"}, "email", "INVALID"),
        ({"name": "Ada", "email": "ada@example.com", "country": "Poland"}, "country", "INVALID"),
        ({"name": "A" * 256, "email": "ada@example.com"}, "name", "INVALID"),
        ({"name": "Ada\x00", "email": "ada@example.com"}, "name", "INVALID"),
        (
            {"name": "Ada", "email": "ada@example.com", "vatNumber": "V" * 33},
            "vatNumber",
            "INVALID",
        ),
    ],
)
def test_bad_contacts_are_refused_with_the_field_at_fault(data, field, code):
    errors = create(ALICE, **data)["errors"]
    assert errors == [{"field": field, "code": code}]


def test_invoices_are_listed_for_their_owner_and_staff_see_all(settings):
    settings_now = conf.get_settings()
    mine = issue(facts("order-1"), settings_now)
    issue(facts("order-2", owner_id=BOB.user_id, email=BOB.email), settings_now)
    listed = gql(INVOICES, principal=ALICE).data["invoices"]
    assert listed["totalCount"] == 1
    node = listed["edges"][0]["node"]
    assert node["number"] == mine.number and node["orderId"] == "order-1"
    assert node["orderNumber"] == "1" and node["isReady"] is True
    assert node["total"] == {"amount": 492.0, "currency": "EUR"}
    assert (node["totalNet"]["amount"], node["tax"]["amount"]) == (400.0, 92.0)
    assert node["billTo"] == {
        "name": "Zoë Łukasiewicz",
        "company": "Tęcza Sp. z o.o.",
        "email": "alice@example.com",
        "country": "PL",
    }
    assert gql(INVOICES, principal=STAFF).data["invoices"]["totalCount"] == 2
    for spec, expected in [
        ({"search": mine.number}, ["order-1"]),
        ({"orderId": "order-2"}, ["order-2"]),
    ]:
        found = gql(INVOICES, {"filter": spec}, principal=STAFF).data["invoices"]
        assert [e["node"]["orderId"] for e in found["edges"]] == expected
    assert gql(INVOICES).codes() == ["PERMISSION_DENIED"]


def test_the_owner_downloads_the_pdf_or_a_one_time_link(settings):
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "PUBLIC_API_URL": "https://shop.example/plugins/global/saleor_license_plugin/",
    }
    invoice = issue(facts(), conf.get_settings())
    invoice_id = base64.b64encode(f"BillingInvoice:{invoice.pk}".encode()).decode()
    file = gql(DOWNLOAD, {"id": invoice_id}, principal=ALICE).payload("invoiceDownload")
    assert base64.b64decode(file["contentBase64"]).startswith(b"%PDF-")
    assert file["fileName"] == f"invoice-{invoice.number}.pdf"
    link = gql(DOWNLOAD, {"id": invoice_id, "link": True}, principal=ALICE).payload(
        "invoiceDownload"
    )
    assert link["url"].startswith(
        "https://shop.example/plugins/global/saleor_license_plugin/invoices/download/?token="
    )
    assert link["contentBase64"] is None and link["expiresAt"]
    assert InvoiceLink.objects.get().purpose == "api"
    staff = gql(DOWNLOAD, {"id": invoice_id}, principal=STAFF).payload("invoiceDownload")
    assert staff["contentBase64"] == file["contentBase64"]
    assert gql(DOWNLOAD, {"id": invoice_id}, principal=BOB).codes("invoiceDownload") == [
        "NOT_FOUND"
    ]
    assert gql(DOWNLOAD, {"id": invoice_id}).codes("invoiceDownload") == ["PERMISSION_DENIED"]
    # Saleor's own invoice ids ("Invoice:<pk>") are not ours.
    saleors = base64.b64encode(f"Invoice:{invoice.pk}".encode()).decode()
    assert gql(DOWNLOAD, {"id": saleors}, principal=ALICE).codes("invoiceDownload") == [
        "INVALID_ID"
    ]


def test_an_order_is_billed_to_the_contact_it_names_else_the_default_else_its_address():
    settings_now = conf.get_settings()
    default = BillingContact.objects.create(
        owner_id=ALICE.user_id, name="Default D", email="d@example.com", is_default=True
    )
    named = BillingContact.objects.create(
        owner_id=ALICE.user_id, name="Named N", email="n@example.com", vat_number="PL9"
    )
    bobs = BillingContact.objects.create(owner_id=BOB.user_id, name="Bob", email="b@example.com")
    key = "license.billing_contact"
    cases = {
        "o-named": ({key: contact_global_id(named.pk)}, "Named N", "n@example.com"),
        "o-default": ({}, "Default D", "d@example.com"),
        "o-others": ({key: contact_global_id(bobs.pk)}, "Zoë Łukasiewicz", "alice@example.com"),
        "o-garbage": ({key: "nope"}, "Zoë Łukasiewicz", "alice@example.com"),
    }
    for order_id, (metadata, name, email) in cases.items():
        invoice = issue(facts(order_id, metadata=metadata), settings_now)
        assert (invoice.bill_to["name"], invoice.billing_email) == (name, email), order_id
    default.delete()
    guest = issue(facts("o-guest", owner_id="", email="guest@example.com"), settings_now)
    assert guest.billing_email == "guest@example.com"
    # Editing the contact later does not change what an invoice printed.
    named.name = "Renamed"
    named.save()
    again = issue(facts("o-named", metadata={key: contact_global_id(named.pk)}), settings_now)
    assert again.bill_to["name"] == "Named N"
