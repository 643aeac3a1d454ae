"""The invoice PDF opens and says what it should: seller, bill-to (non-Latin-1 letters too),
lines with their license action, key hint, deployment and term, taxes, totals, payment and the
reference number. Its text is read back with pypdf, an independent PDF library."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from saleor_license_plugin import conf
from saleor_license_plugin.fulfillment.invoicing import issue
from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.checkout_lines import LineInput, prepare_line
from saleor_license_plugin.licensing.invoices import compose, read_pdf
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from tests.factories import CATALOG
from tests.factories import issue as issue_license
from tests.invoices.helpers import facts, line

ALICE = Principal("user:alice", "alice@example.com")


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def licensed_order(now):
    """An order with a new license (2 units, a year of maintenance) and an upgrade."""
    deployment = lifecycle.create_deployment(name="HQ PBX", owner_id=ALICE.user_id)
    new_intent, _ = prepare_line(
        LineInput("pro-8", LineAction.NEW, quantity=2, maintenance_years=1),
        ALICE,
        CATALOG,
        now,
        client_ip="10.0.0.1",
    )
    owner = lifecycle.Owner(ALICE.user_id, ALICE.email)
    issued = [issue_license("pro-8", owner, now, deployment=deployment) for _ in range(2)]
    existing = issue_license("std-8", owner, now)
    upgrade_intent, _ = prepare_line(
        LineInput("pro-8", LineAction.UPGRADE, license_key=existing.display_key()),
        ALICE,
        CATALOG,
        now,
        client_ip="10.0.0.1",
    )
    order = facts(
        "order-1042",
        lines=(
            line(
                "Professional 8 calls",
                quantity=2,
                intent=new_intent,
                license_ids=tuple(lic.pk for lic in issued),
                discount="voucher SPRING",
                discount_amount=Decimal("20.00"),
            ),
            line("Professional 8 calls", unit_net="200.00", intent=upgrade_intent, sku="PRO-8-UP"),
            line("Printed manual", unit_net="15.00", tax_rate="0.05", sku="MAN"),
        ),
        metadata={"license.reference": "PO-2026-17", "license.end_customer_company": "Ørsted A/S"},
        payments=("Stripe, visa •••• 4242, ref pi_3Nabc",),
        paid=True,
    )
    return order, issued, existing, deployment


@pytest.mark.django_db
def test_the_pdf_opens_and_says_what_was_sold_to_whom(licensed_order):
    order, issued, existing, deployment = licensed_order
    settings = conf.get_settings()
    invoice = issue(order, settings)
    pdf = read_pdf(invoice, settings)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    expected = [
        invoice.number,
        "Yeastar-like Ltd.",
        "VAT IE1234567X",  # seller, from the settings
        "Tęcza Sp. z o.o.",
        "Zoë Łukasiewicz",
        "53-601 Wrocław",
        "alice@example.com",  # bill to
        "Ørsted A/S",  # end customer
        "Reference / PO / PI number: PO-2026-17",
        "Order: 1042",
        "New license: Professional 8 calls",
        "Maintenance: 1 year",
        f"License keys: …{issued[0].key_hint}, …{issued[1].key_hint}",
        f"Deployment: {deployment.public_id}",
        "Discount: voucher SPRING (−20.00 EUR)",
        "Upgrade: Professional 8 calls",
        f"License key: …{existing.key_hint}",
        "Printed manual",
        "SKU MAN",
        "23 %",
        "5 %",
        "1,015.00 EUR",  # total net: 800 + 200 + 15
        "230.75 EUR",  # tax: 184 + 46 + 0.75
        "1,245.75 EUR",  # total
        "Stripe, visa •••• 4242, ref pi_3Nabc",
        "Status: Paid",
        "Payable within 14 days.",
    ]
    missing = [item for item in expected if item not in text]
    assert missing == [], text
    assert existing.display_key() not in text and issued[0].display_key() not in text


@pytest.mark.django_db
def test_the_same_document_renders_the_same_bytes(licensed_order):
    from saleor_license_plugin.licensing.invoice_pdf import render

    order, *_ = licensed_order
    invoice = issue(order, conf.get_settings())
    document = compose(order, invoice, conf.get_settings())
    assert render(document) == render(document)


@pytest.mark.django_db
def test_a_long_order_runs_over_pages_and_keeps_its_totals():
    order = facts("order-9", lines=tuple(line(f"Item {i}", unit_net="1.00") for i in range(120)))
    settings = conf.get_settings()
    reader = PdfReader(io.BytesIO(read_pdf(issue(order, settings), settings)))
    assert len(reader.pages) > 2
    last = reader.pages[-1].extract_text()
    assert "Item 119" in last and "147.60 EUR" in last  # 120 × 1.23


@pytest.mark.django_db
def test_the_pdf_is_kept_in_the_configured_private_storage(invoice_settings):
    settings = conf.get_settings()
    invoice = issue(facts(), settings)
    stored = invoice_settings / invoice.file_name
    assert stored.is_file() and len(invoice.sha256) == 64
    assert invoice.file_name.startswith("saleor-license-plugin/invoices/")
    stored.write_bytes(b"%PDF- tampered")
    with pytest.raises(Exception, match="damaged"):
        read_pdf(invoice, settings)
