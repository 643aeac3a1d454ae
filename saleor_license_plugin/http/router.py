"""One entry point for every path the plugin serves below its base URL.

Inside Saleor, ``LicensePlugin.webhook`` calls :func:`dispatch` with the path under
``/plugins/global/<PLUGIN_ID>/``, the principal resolved from Saleor's JWT and the channel's
catalog. The standalone server's views call it the same way. Neither endpoint uses cookies, so
both are CSRF-exempt by construction (callers must not wrap them in CSRF middleware).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from saleor_license_plugin.http import device, graphql_view, invoice_link, unsubscribe
from saleor_license_plugin.http.responses import json_error
from saleor_license_plugin.licensing.errors import LicenseErrorCode
from saleor_license_plugin.licensing.ports import Catalog, CheckoutHost, Principal


def dispatch(
    request: HttpRequest,
    path: str,
    *,
    principal: Principal,
    catalog: Catalog,
    checkout: CheckoutHost | None = None,
) -> HttpResponse:
    """Serve ``graphql/``, ``activation/``, ``reminders/unsubscribe/`` and
    ``invoices/download/``; a JSON 404 for anything else."""
    route = path.strip("/")
    if route == "graphql":
        from saleor_license_plugin.graphql.schema import schema

        return graphql_view.serve(
            request, principal=principal, catalog=catalog, schema=schema, checkout=checkout
        )
    if route == "activation":
        return device.serve(request)
    if route == "reminders/unsubscribe":
        return unsubscribe.serve(request)
    if route == "invoices/download":
        return invoice_link.serve(request)
    return json_error(404, LicenseErrorCode.NOT_FOUND, "No such endpoint.")
