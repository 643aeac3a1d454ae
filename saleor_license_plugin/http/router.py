"""One entry point for every path the plugin serves below its base URL.

Inside Saleor, ``LicensePlugin.webhook`` calls :func:`dispatch` with the path under
``/plugins/global/<PLUGIN_ID>/``, the principal resolved from Saleor's JWT and the channel's
catalog. The standalone server's views call it the same way. Neither endpoint uses cookies, so
both are CSRF-exempt by construction (callers must not wrap them in CSRF middleware).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from saleor_license_plugin.http import (
    dashboard,
    device,
    graphql_view,
    invoice_link,
    portal,
    unsubscribe,
)
from saleor_license_plugin.http.responses import json_error
from saleor_license_plugin.licensing.errors import LicenseErrorCode
from saleor_license_plugin.licensing.ports import Catalog, CheckoutHost, Principal

# Routes that need neither the caller (principal) nor a channel's catalog: the host answers them
# before resolving either (a device's poll, often a 304, should cost no more than it must).
PLAIN_ROUTES = frozenset({"activation", "reminders/unsubscribe", "invoices/download"})


def needs_host(path: str) -> bool:
    """Whether serving ``path`` needs the principal, the catalog or the checkout host; when
    not, :func:`dispatch_plain` serves it."""
    return path.strip("/") not in PLAIN_ROUTES


def dispatch_plain(request: HttpRequest, path: str) -> HttpResponse:
    """Serve a route of :data:`PLAIN_ROUTES` (see :func:`needs_host`)."""
    route = path.strip("/")
    if route == "activation":
        return device.serve(request)
    if route == "reminders/unsubscribe":
        return unsubscribe.serve(request)
    if route == "invoices/download":
        return invoice_link.serve(request)
    raise ValueError(f"{route!r} needs the host's principal and catalog")


def dispatch(
    request: HttpRequest,
    path: str,
    *,
    principal: Principal,
    catalog: Catalog,
    checkout: CheckoutHost | None = None,
    dashboard_widgets: bool = True,
    saleor_api_url: str | None = None,
    channel: str | None = None,
    public_url: str | None = None,
) -> HttpResponse:
    """Serve ``graphql/``, ``activation/``, ``reminders/unsubscribe/``,
    ``invoices/download/``, the Dashboard app under ``dashboard/`` and the reference portal
    under ``portal/``; a JSON 404 for anything else. ``dashboard_widgets``: whether the host's
    Dashboard shows widget extensions (Saleor 3.22+). ``saleor_api_url`` and ``channel``: where
    the portal finds Saleor's API and which channel it sells in (none standalone).
    ``public_url``: the plugin's absolute base URL as the host is configured to be reached (the
    Dashboard manifest's URLs; else they are built from the request)."""
    route = path.strip("/")
    if route == "portal" or route.startswith("portal/"):
        return portal.serve(
            request, path, catalog=catalog, saleor_api_url=saleor_api_url, channel=channel
        )
    if route == "dashboard" or route.startswith("dashboard/"):
        return dashboard.serve(request, path, widgets=dashboard_widgets, public_url=public_url)
    if route == "graphql":
        from saleor_license_plugin.graphql.schema import schema

        return graphql_view.serve(
            request, principal=principal, catalog=catalog, schema=schema, checkout=checkout
        )
    if route in PLAIN_ROUTES:
        return dispatch_plain(request, path)
    return json_error(404, LicenseErrorCode.NOT_FOUND, "No such endpoint.")


def error_response(
    path: str, status: int, code: LicenseErrorCode, message: str, field: str | None = None
) -> JsonResponse:
    """An error a host answers before :func:`dispatch` (a bad token, no channel) in the shape
    of the endpoint asked for: GraphQL's on ``graphql/``, the device endpoint's elsewhere."""
    if path.strip("/") == "graphql":
        return graphql_view.error_response(status, code, message, field)
    return json_error(status, code, message, field)
