"""License management inside the Saleor Dashboard: a Saleor App served by the plugin itself.

``dashboard/manifest`` is the App manifest (``appInstall`` takes its URL); ``dashboard/`` is the
page, static HTML and vanilla JavaScript (``static/``, no build step, nothing from a CDN) that
speaks the Dashboard's AppBridge protocol: it tells the Dashboard it is ready, receives a
short-lived Saleor token for this app in the ``handshake`` message and calls the plugin's own
GraphQL API with it. Who may do what is decided there, as for any other caller (the host
checks that the token was issued for this app; see ``saleor_host/auth.py``).

Any path below ``dashboard/`` that is not an asset serves the page, so the Dashboard may join
an extension's path to the app URL or resolve it against the host: both land here.
"""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from saleor_license_plugin.http.responses import method_not_allowed
from saleor_license_plugin.licensing.ports import MANAGE_ORDERS

APP_ID = "saleor-license-plugin.dashboard"  # the manifest id: Saleor's App.identifier
APP_NAME = "Software licenses"
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}


@cache
def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def _version() -> str:
    try:
        return version("saleor-license-plugin")
    except PackageNotFoundError:  # pragma: no cover - a source checkout without metadata
        return "0.0.0"


def base_path(request: HttpRequest, path: str) -> str:
    """The plugin's base path (``/plugins/global/<PLUGIN_ID>/``) from the request and the
    path below it."""
    full = request.path
    below = "/" + path.lstrip("/")
    if full.endswith(below):
        full = full[: len(full) - len(below)]
    return full.rstrip("/") + "/"


def manifest(base_url: str, *, widgets: bool) -> dict[str, Any]:
    """The App manifest. ``base_url`` is the plugin's absolute base URL; ``widgets``: whether
    the Saleor serving it shows WIDGET extensions on order and customer pages (3.22+);
    without them, "more actions" entries open the license list for the order or customer."""
    page = base_url + "dashboard/"
    app_page_path = page[page.index("/", page.index("//") + 2) :]  # the path from the host root
    extensions: list[dict[str, Any]] = [
        {
            "identifier": "licenses",
            "label": "Licenses",
            "mount": "NAVIGATION_CUSTOMERS",
            "target": "APP_PAGE",
            "permissions": [MANAGE_ORDERS],
            "url": app_page_path,
        }
    ]
    if widgets:
        extensions += [
            {
                "identifier": f"{where}-licenses",
                "label": "Licenses",
                "mount": f"{where.upper()}_DETAILS_WIDGETS",
                "target": "WIDGET",
                "permissions": [MANAGE_ORDERS],
                "url": f"{page}widget/{where}",
                "options": {"widgetTarget": {"method": "GET"}},
            }
            for where in ("order", "customer")
        ]
    else:
        extensions += [
            {
                "identifier": f"{where}-licenses",
                "label": "Show licenses",
                "mount": f"{where.upper()}_DETAILS_MORE_ACTIONS",
                "target": "APP_PAGE",
                "permissions": [MANAGE_ORDERS],
                "url": app_page_path,
            }
            for where in ("order", "customer")
        ]
    return {
        "id": APP_ID,
        "name": APP_NAME,
        "version": _version(),
        "about": "Search, inspect and manage software licenses: suspend, reinstate, revoke, "
        "extend, reset activations, resend keys, offline entitlements.",
        "permissions": [MANAGE_ORDERS],
        "appUrl": page,
        # Saleor up to 3.22 requires it; installation posts the app's auth token there. The
        # plugin keeps no token (it checks the Dashboard's short-lived token per request).
        "tokenTargetUrl": f"{base_url.rstrip('/')}/dashboard/register",
        "author": "saleor-license-plugin",
        "extensions": extensions,
    }


def _page(base: str) -> str:
    return _asset("index.html").replace("{{BASE}}", html.escape(base, quote=True))


def serve(
    request: HttpRequest, path: str, *, widgets: bool = True, public_url: str | None = None
) -> HttpResponse:
    """``path`` is below the plugin's base and starts with ``dashboard``. ``public_url``: the
    plugin's absolute base URL as the host is reached (Saleor's ``PUBLIC_URL``); without it
    the manifest's URLs are built from the request, whose ``Host`` may lack the port (Saleor
    fetches manifests with a client that sends the host name alone)."""
    route = path.strip("/").removeprefix("dashboard").strip("/")
    if route == "register":
        # The installation's token handover: acknowledged, never stored.
        if request.method != "POST":
            return method_not_allowed("POST")
        return JsonResponse({"success": True})
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed("GET, HEAD")
    base = base_path(request, path)
    if route == "manifest":
        body = manifest(public_url or request.build_absolute_uri(base), widgets=widgets)
        response: HttpResponse = JsonResponse(body, json_dumps_params={"indent": 2})
        response["Access-Control-Allow-Origin"] = "*"  # the Dashboard may fetch it to show it
        response["Cache-Control"] = "no-store"
        return response
    if route in ASSETS:
        response = HttpResponse(_asset(route), content_type=ASSETS[route])
        response["Cache-Control"] = "public, max-age=300"
    else:
        response = HttpResponse(_page(base), content_type="text/html; charset=utf-8")
        response["Cache-Control"] = "no-store"
        # The page runs inside the Dashboard's iframe (another origin): it may be framed,
        # and loads nothing but its own assets and the plugin's API.
        response["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'none'"
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "strict-origin"
    return response
