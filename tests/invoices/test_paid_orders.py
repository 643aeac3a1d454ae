"""Invoices of paid orders: issued and attached once, emailed to the billing contact once, from
the fulfillment pipeline (after the licenses exist) or the invoice task; failures are retried
by the reconciliation. Checkouts name only their buyer's own billing contacts."""

import re
from dataclasses import replace

import pytest
from django.core import mail

from saleor_license_plugin.fulfillment import invoicing
from saleor_license_plugin.fulfillment.pipeline import fulfill
from saleor_license_plugin.fulfillment.reconcile import reconcile
from saleor_license_plugin.fulfillment.tasks import invoice_order_task
from saleor_license_plugin.licensing.billing import (
    CONTACT_KEY,
    check_checkout_contact,
    contact_global_id,
)
from saleor_license_plugin.licensing.checkout_lines import LineIntent
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import BillingContact, Invoice, License, OutboxMessage
from tests.fulfillment.payloads import LineInput, order
from tests.invoices.helpers import OrdersHost, facts, line
from tests.invoices.test_numbers import run_concurrently

ALICE = Principal("user:alice", "alice@example.com")
BASE = "https://shop.example/api/"


@pytest.fixture
def contact(db):
    return BillingContact.objects.create(
        owner_id=ALICE.user_id, name="Accounts", email="accounts@alice.example", is_default=True
    )


def test_a_paid_order_is_invoiced_attached_and_emailed_once(contact):
    host = OrdersHost({"o-1": facts("o-1")}, base=BASE)
    for _ in range(3):  # redelivered or retried tasks
        invoice = invoicing.invoice_paid_order("o-1", host)
    assert Invoice.objects.count() == 1
    [(order_id, number, url)] = host.attached
    assert (order_id, number) == ("o-1", invoice.number)
    assert url.startswith(BASE + "invoices/download/?token=")
    [message] = mail.outbox
    assert message.to == ["accounts@alice.example"]
    assert invoice.number in message.subject and "Order summary" in message.body
    assert re.search(r"invoices/download/\?token=[\w-]{40,}", message.body)
    assert "valid for 24 hours and can be used once" in message.body


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_invoice_attach_and_email_once(settings):
    BillingContact.objects.create(
        owner_id=ALICE.user_id, name="Accounts", email="accounts@alice.example", is_default=True
    )
    host = OrdersHost({"o-1": facts("o-1")}, base=BASE)
    run_concurrently(10, lambda _: invoicing.invoice_paid_order("o-1", host))
    assert Invoice.objects.count() == 1 and len(host.attached) == 1 and len(mail.outbox) == 1


def test_emails_can_be_switched_off(settings, contact):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "SEND_INVOICE_EMAILS": False}
    host = OrdersHost({"o-1": facts("o-1")})
    assert invoicing.invoice_paid_order("o-1", host) is not None
    assert mail.outbox == [] and len(host.attached) == 1


def test_the_invoice_task_needs_a_host_with_orders(db):
    # The standalone server has no orders: nothing to invoice.
    assert invoice_order_task.apply(args=["o-1"], throw=True).result == {"invoice": ""}


def test_a_failed_attach_is_recorded_and_the_reconciliation_finishes_it(contact, now):
    host = OrdersHost({"o-1": facts("o-1")})
    host.fail_attach = True
    invoicing.invoice_paid_order("o-1", host)
    # The invoice exists, so its contact gets it; only showing it on the order is left over.
    assert host.attached == [] and len(mail.outbox) == 1
    assert OutboxMessage.objects.get(key="order:o-1:invoice").status == "failed"
    host.fail_attach = False

    class Source:
        def paid_orders(self, **kw):
            return []

        def withdrawn_orders(self, **kw):
            return []

    report = reconcile(Source(), host, since=now)
    assert report.invoices_retried == ["order:o-1:invoice"]
    assert len(host.attached) == 1 and len(mail.outbox) == 1  # not emailed twice
    assert Invoice.objects.count() == 1  # the same invoice, not a second number
    assert reconcile(Source(), host, since=now).invoices_retried == []


class FulfilledHost(OrdersHost):
    """Reads an order's license ids the way Saleor's host does (from what fulfillment wrote),
    so the invoice can name the keys just issued."""

    def __init__(self, payload, **kw):
        super().__init__({}, **kw)
        self.payload = payload

    def order_facts(self, order_id):
        lines = []
        for item in self.payload.lines:
            ids = tuple(
                License.objects.filter(origin_order_line_id=item.line_id).values_list(
                    "pk", flat=True
                )
            )
            lines.append(line(intent=LineIntent(**item.intent), license_ids=ids, quantity=2))
        return facts(order_id, lines=tuple(lines))


def test_the_pipeline_invoices_a_paid_order_after_issuing_its_licenses(contact, now):
    payload = order("o-9", ALICE, [LineInput("pro-8", LineAction.NEW, quantity=2)], now)
    host = FulfilledHost(replace(payload, invoice=True))
    fulfill(replace(payload, invoice=True), host)
    keys_mail, invoice_mail = mail.outbox
    assert keys_mail.to == ["alice@example.com"] and invoice_mail.to == ["accounts@alice.example"]
    invoice = Invoice.objects.get(order_id="o-9")
    assert invoice.file_name and len(host.attached) == 1
    hints = sorted(License.objects.values_list("key_hint", flat=True))
    from saleor_license_plugin import conf
    from saleor_license_plugin.licensing.invoices import read_pdf
    from tests.invoices.test_pdf import pdf_text

    text = pdf_text(read_pdf(invoice, conf.get_settings()))
    assert all(f"…{hint}" in text for hint in hints), text


def test_the_pipeline_leaves_unpaid_and_unasked_orders_alone(contact, now):
    payload = order("o-9", ALICE, [LineInput("pro-8", LineAction.NEW)], now)
    fulfill(payload, FulfilledHost(payload))  # invoice=False: the setting is off
    fulfill(replace(payload, order_id="o-10", paid=False, invoice=True), FulfilledHost(payload))
    assert Invoice.objects.count() == 0


def test_a_checkout_may_name_only_its_buyers_contact(contact):
    bobs = BillingContact.objects.create(owner_id="user:bob", name="Bob", email="b@example.com")
    check_checkout_contact({}, ALICE.user_id)
    check_checkout_contact({CONTACT_KEY: ""}, ALICE.user_id)
    check_checkout_contact({CONTACT_KEY: contact_global_id(contact.pk)}, ALICE.user_id)
    for value, buyer in [
        (contact_global_id(bobs.pk), ALICE.user_id),
        (contact_global_id(contact.pk), None),
        (contact_global_id(999999), ALICE.user_id),
        ("garbage", ALICE.user_id),
        (base64_of("License:1"), ALICE.user_id),
    ]:
        with pytest.raises(LicenseError) as refused:
            check_checkout_contact({CONTACT_KEY: value}, buyer)
        assert refused.value.code is LicenseErrorCode.BILLING_CONTACT_NOT_FOUND


def base64_of(text):
    import base64

    return base64.b64encode(text.encode()).decode()
