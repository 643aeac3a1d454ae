"""The emailed link: a GET shows a page (mail scanners follow links), only the POST downloads,
once, within 24 hours; expired or used links say so and offer a new link to the billing
contact. Served by the router, as inside Saleor and on the standalone server."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.utils import timezone

from saleor_license_plugin import conf
from saleor_license_plugin.fulfillment.invoicing import issue, send_invoice_email
from saleor_license_plugin.http.router import dispatch
from saleor_license_plugin.licensing.invoices import RESEND_COOLDOWN, create_link, read_pdf
from saleor_license_plugin.licensing.ports import ANONYMOUS
from saleor_license_plugin.models import InvoiceLink
from tests.api.helpers import CATALOG
from tests.invoices.helpers import facts
from tests.invoices.test_numbers import run_concurrently

PATH = "invoices/download/"


def call(method, data):
    factory = RequestFactory()
    request = factory.get("/" + PATH, data) if method == "GET" else factory.post("/" + PATH, data)
    return dispatch(request, PATH, principal=ANONYMOUS, catalog=CATALOG)


@pytest.fixture
def invoice(db):
    return issue(facts(), conf.get_settings())


@pytest.fixture
def token(invoice):
    made, _ = create_link(invoice, recipient="alice@example.com", purpose="email", hours=24)
    return made


def test_a_get_shows_a_download_button_and_uses_nothing(invoice, token):
    for _ in range(3):  # a mail scanner, a preview, the customer
        page = call("GET", {"token": token})
        assert page.status_code == 200
        assert b'name="action" value="download"' in page.content
        assert invoice.number.encode() in page.content
        assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "no-referrer"
    assert InvoiceLink.objects.get().used_at is None


def test_the_post_downloads_once(invoice, token):
    first = call("POST", {"token": token, "action": "download"})
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    assert first.content == read_pdf(invoice, conf.get_settings())
    assert f'filename="invoice-{invoice.number}.pdf"' in first["Content-Disposition"]
    again = call("POST", {"token": token, "action": "download"})
    assert again.status_code == 410 and b"was already used" in again.content
    assert (
        b"Email me a new link" in again.content
        and b"a\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2@example.com" in again.content
    )
    assert call("GET", {"token": token}).status_code == 410


def test_an_expired_link_says_so(invoice):
    token, link = create_link(
        invoice, recipient="", purpose="email", hours=24, now=timezone.now() - timedelta(hours=25)
    )
    page = call("POST", {"token": token, "action": "download"})
    assert page.status_code == 410 and b"has expired" in page.content
    assert InvoiceLink.objects.get(pk=link.pk).used_at is None


@pytest.mark.parametrize("token", ["", "nope", "x" * 43, "y" * 500])
def test_an_unknown_link_is_a_clear_404(db, token):
    page = call("GET", {"token": token})
    assert page.status_code == 404 and b"not valid" in page.content


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_download_once(settings, tmp_path):
    invoice = issue(facts(), conf.get_settings())
    token, _ = create_link(invoice, recipient="", purpose="email", hours=24)
    statuses = run_concurrently(
        20, lambda _: call("POST", {"token": token, "action": "download"}).status_code
    )
    assert sorted(statuses) == [200] + [410] * 19
    assert InvoiceLink.objects.get().used_at is not None


def test_a_used_link_can_ask_for_a_new_one_for_the_billing_contact_only(invoice, token):
    call("POST", {"token": token, "action": "download"})
    sent = call("POST", {"token": token, "action": "new_link"})
    assert sent.status_code == 200 and b"We sent a new download link" in sent.content
    [message] = mail.outbox
    assert message.to == [invoice.billing_email] == ["alice@example.com"]
    new_token = re.search(r"token=([\w-]+)", message.body).group(1)
    assert new_token != token
    assert call("POST", {"token": new_token, "action": "download"}).status_code == 200
    # At most one new link per invoice per cooldown: the page cannot flood a mailbox.
    again = call("POST", {"token": token, "action": "new_link"})
    assert again.status_code == 429 and len(mail.outbox) == 1
    InvoiceLink.objects.filter(purpose="resend").update(
        created_at=timezone.now() - RESEND_COOLDOWN - timedelta(seconds=1)
    )
    assert call("POST", {"token": token, "action": "new_link"}).status_code == 200
    assert len(mail.outbox) == 2


def test_the_email_links_to_the_page_and_the_link_lasts_the_configured_hours(settings, invoice):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "INVOICE_LINK_HOURS": 48}
    sent = send_invoice_email(
        invoice,
        conf.get_settings(),
        "https://shop.example/plugins/global/saleor_license_plugin/",
        key="test",
    )
    assert sent
    [message] = mail.outbox
    assert (
        "https://shop.example/plugins/global/saleor_license_plugin/invoices/download/?token="
        in message.body
    )
    assert "48 hours" in message.body and message.attachments == []
    link = InvoiceLink.objects.get()
    assert link.expires_at - link.created_at == timedelta(hours=48)
    assert link.recipient == "alice@example.com" and link.token_digest not in message.body


def test_without_a_public_url_the_email_carries_the_pdf(invoice):
    assert send_invoice_email(invoice, conf.get_settings(), "", key="test")
    [message] = mail.outbox
    [(name, content, kind)] = message.attachments
    assert (name, kind) == (f"invoice-{invoice.number}.pdf", "application/pdf")
    assert content == read_pdf(invoice, conf.get_settings())


def test_the_standalone_server_serves_the_page(invoice, token, settings):
    settings.ROOT_URLCONF = "saleor_license_plugin.server.urls"
    page = Client().get("/invoices/download/", {"token": token})
    assert page.status_code == 200 and invoice.number.encode() in page.content
