"""``reminders/unsubscribe/?token=…``: the link in every renewal reminder.

GET shows a page with one button, because mail scanners fetch links: a GET that unsubscribed
would unsubscribe people who never clicked. POST (the button, or a mail client's RFC 8058
one-click ``List-Unsubscribe=One-Click``) turns reminders off for the customer the signed
token names.
"""

from __future__ import annotations

from html import escape

from django.http import HttpRequest, HttpResponse

from saleor_license_plugin.fulfillment.reminders import set_opt_out
from saleor_license_plugin.http.responses import json_error, method_not_allowed
from saleor_license_plugin.licensing.errors import LicenseError
from saleor_license_plugin.licensing.renewals import read_unsubscribe_token

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Renewal reminders</title>
<meta name="viewport" content="width=device-width"></head><body style="font-family:sans-serif">
{body}</body></html>"""


def serve(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("token") or request.POST.get("token") or ""
    try:
        owner_id = read_unsubscribe_token(token)
    except LicenseError as error:
        return json_error(400, error.code, error.message, "token")
    if request.method == "GET":
        form = (
            "<p>Stop the renewal reminders for your licenses?</p>"
            f'<form method="post"><input type="hidden" name="token" value="{escape(token)}">'
            '<button type="submit">Unsubscribe</button></form>'
        )
        return HttpResponse(PAGE.format(body=form), content_type="text/html; charset=utf-8")
    if request.method != "POST":
        return method_not_allowed("GET, POST")
    set_opt_out(owner_id, True)
    body = "<p>You will get no more renewal reminders. Your licenses are not affected.</p>"
    return HttpResponse(PAGE.format(body=body), content_type="text/html; charset=utf-8")
