"""``invoices/download/?token=…``: the one-time link to an invoice.

Mail scanners fetch links, so a GET only shows a page with a download button; the POST that
button sends downloads the PDF and uses the link up, atomically (one conditional UPDATE:
``used_at IS NULL AND expires_at > now``), so two concurrent POSTs download once. A link that
expired or was used gets a page that says so and offers to email a new link to the invoice's
billing contact (never to whoever asks; at most once per 10 minutes per invoice). Signed-in
owners download their invoices from the API whenever they like.
"""

from __future__ import annotations

from html import escape

from django.http import HttpRequest, HttpResponse

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.fulfillment.invoicing import send_invoice_email
from saleor_license_plugin.http.responses import method_not_allowed
from saleor_license_plugin.licensing.errors import LicenseError
from saleor_license_plugin.licensing.invoice_pdf import money
from saleor_license_plugin.licensing.invoices import (
    consume_link,
    file_name_for,
    find_link,
    link_state,
    read_pdf,
    request_new_link,
)
from saleor_license_plugin.models import Invoice, InvoiceLink

ROUTE = "invoices/download/"
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width"><meta name="robots" content="noindex">
</head><body style="font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em">
<h1 style="font-size:1.4em">{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(
        PAGE.format(title=escape(title), body=body),
        content_type="text/html; charset=utf-8",
        status=status,
    )
    _private(response)
    return response


def _private(response: HttpResponse) -> None:
    # The token is in the URL: keep it out of caches, referrers and search engines.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"


def masked(email: str) -> str:
    """``b•••@example.com``: enough to recognise one's own address, not to learn another's."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}" if name and domain else "the billing contact"


def _form(token: str, action: str, label: str) -> str:
    return (
        f'<form method="post"><input type="hidden" name="token" value="{escape(token)}">'
        f'<input type="hidden" name="action" value="{action}">'
        f'<button type="submit" style="font-size:1.1em;padding:.5em 1.2em">{label}</button></form>'
    )


def _what(invoice: Invoice) -> str:
    return (
        f"<p>Invoice <strong>{escape(invoice.number)}</strong> for order "
        f"{escape(invoice.order_number or invoice.order_id)}, "
        f"{escape(money(invoice.total_gross, invoice.currency))}.</p>"
    )


def _unusable(link: InvoiceLink, token: str, state: str) -> HttpResponse:
    why = "was already used" if state == "used" else "has expired"
    body = _what(link.invoice) + f"<p>This download link {why}: each link works once, for "
    body += f"{get_settings().invoice_link_hours} hours.</p>"
    if link.invoice.billing_email:
        body += (
            f"<p>We can email a new link to {escape(masked(link.invoice.billing_email))}, "
            "the invoice's billing contact.</p>" + _form(token, "new_link", "Email me a new link")
        )
    body += "<p>Signed in to your account, you can download your invoices at any time.</p>"
    return _page("This link cannot be used any more", body, status=410)


def _base_url(request: HttpRequest) -> str:
    """Where this API is reached: PUBLIC_API_URL, else this request's own URL less the route."""
    configured = get_settings().public_api_url
    if configured:
        return configured
    here = request.build_absolute_uri(request.path)
    return here[: -len(ROUTE)] if here.endswith(ROUTE) else ""


def serve(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return method_not_allowed("GET, POST")
    source = request.POST if request.method == "POST" else request.GET
    token = str(source.get("token") or "")
    link = find_link(token)
    if link is None:
        body = "<p>This link is not valid. Check that it was copied whole from the email.</p>"
        return _page("Invoice link not found", body, status=404)
    state = link_state(link)
    action = source.get("action") or ""
    if request.method == "GET" or action not in ("download", "new_link"):
        if state != "valid":
            return _unusable(link, token, state)
        body = _what(link.invoice) + _form(token, "download", "Download the invoice (PDF)")
        body += "<p style='font-size:small'>The link works once.</p>"
        return _page(f"Invoice {link.invoice.number}", body)
    if action == "new_link":
        return _new_link(request, link, token, state)
    settings = get_settings()
    try:
        pdf = read_pdf(link.invoice, settings)  # before using the link up: a storage fault
    except (LicenseError, OSError):  # must not cost the customer their link
        body = "<p>The invoice cannot be read right now. Please try again later.</p>"
        return _page("Invoice not available", body, status=503)
    if not consume_link(link):
        link.refresh_from_db()
        return _unusable(link, token, link_state(link))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{file_name_for(link.invoice)}"'
    response["X-Content-Type-Options"] = "nosniff"
    _private(response)
    return response


def _new_link(request: HttpRequest, link: InvoiceLink, token: str, state: str) -> HttpResponse:
    invoice = link.invoice
    if state == "valid":
        body = _what(invoice) + _form(token, "download", "Download the invoice (PDF)")
        return _page(f"Invoice {invoice.number}", body)
    if not invoice.billing_email:
        return _unusable(link, token, state)
    settings = get_settings()
    made = request_new_link(invoice, hours=settings.invoice_link_hours)
    to = escape(masked(invoice.billing_email))
    if made is None:
        body = f"<p>A new link was sent to {to} a few minutes ago. Please check that mailbox.</p>"
        return _page("A new link is on its way", body, status=429)
    new_token, new = made
    send_invoice_email(
        invoice,
        settings,
        _base_url(request),
        key=f"invoice:{invoice.pk}:resend:{new.pk}",
        token=new_token,
    )
    return _page("A new link is on its way", f"<p>We sent a new download link to {to}.</p>")
