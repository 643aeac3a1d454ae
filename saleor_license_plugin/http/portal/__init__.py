"""The reference partner portal: a static web app (``static/``: plain ES modules and CSS, no
build step, nothing from a CDN) that speaks Saleor's GraphQL API and the plugin's, as any
headless storefront would.

``portal/`` serves the page, ``portal/<file>.js|css`` its assets and ``portal/config.json``
where the two APIs are. Inside Saleor (``/plugins/global/<PLUGIN_ID>/portal/``) the config names
Saleor's API (``/graphql/`` on the same host) and the channel; standalone (``/portal/``) there is
no Saleor: the config says so and carries the catalog file's items, so the pages that need no
checkout (sign-in with an API token, verify, quotes, licenses, offline files) still work.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse

from saleor_license_plugin.http.dashboard import base_path
from saleor_license_plugin.http.responses import json_error, method_not_allowed
from saleor_license_plugin.licensing.catalog import AddOnTerms, EditionTerms
from saleor_license_plugin.licensing.errors import LicenseErrorCode
from saleor_license_plugin.licensing.ports import Catalog

# An asset is a file of static/ (or static/pages/) with a plain name: nothing else is read.
ASSET = re.compile(r"^(?:pages/)?[a-z][a-z0-9-]*\.(js|css)$")
TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
# Stripe.js is the one script from elsewhere the portal may load, and only inside Saleor when
# the channel's Stripe gateway has a publishable key (it is never loaded standalone).
STRIPE = "https://js.stripe.com"


@cache
def _asset(name: str) -> str | None:
    path = resources.files(__package__).joinpath("static", *name.split("/"))
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": float(amount), "currency": currency}


def catalog_items(catalog: Catalog) -> list[dict[str, Any]]:
    """Editions and add-ons as the portal's "Buy" page lists them (the same fields it reads
    from Saleor's product metadata inside Saleor)."""
    items: list[dict[str, Any]] = []
    for item in catalog.items():
        row: dict[str, Any] = {
            "variantId": item.variant_id,
            "name": item.name,
            "price": _money(item.price.amount, item.price.currency),
        }
        terms = item.terms
        if isinstance(terms, EditionTerms):
            row.update(
                kind="edition",
                edition=terms.edition,
                rank=terms.rank,
                capacity=terms.capacity,
                capacityUnit=terms.capacity_unit,
                term=terms.term.value,
                requiresDeployment=terms.requires_deployment,
            )
        elif isinstance(terms, AddOnTerms):
            row.update(
                kind="add_on",
                addOn=terms.code,
                addOnKind=terms.kind.value,
                units=terms.units,
                maxQuantity=terms.max_quantity,
                requiresDeployment=terms.requires_deployment,
            )
        else:  # subscription plans have pages of their own (not in the portal yet)
            continue
        items.append(row)
    return items


def config(
    request: HttpRequest,
    base: str,
    *,
    saleor_api_url: str | None,
    channel: str | None,
    catalog: Catalog,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "licenseApi": request.build_absolute_uri(base + "graphql/"),
        "saleorApi": saleor_api_url,
        "channel": channel,
        "mode": "saleor" if saleor_api_url else "standalone",
    }
    if not saleor_api_url:
        body["catalog"] = catalog_items(catalog)
    return body


def _csp(saleor_api_url: str | None) -> str:
    connect = ["'self'"]
    script = ["'self'"]
    frame = ["'none'"]
    if saleor_api_url:
        parts = urlsplit(saleor_api_url)
        connect.append(f"{parts.scheme}://{parts.netloc}")
        script.append(STRIPE)
        connect.append("https://api.stripe.com")
        frame = [STRIPE, "https://hooks.stripe.com"]
    return (
        f"default-src 'self'; script-src {' '.join(script)}; style-src 'self'; "
        f"img-src 'self' data:; connect-src {' '.join(connect)}; frame-src {' '.join(frame)}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def serve(
    request: HttpRequest,
    path: str,
    *,
    catalog: Catalog,
    saleor_api_url: str | None = None,
    channel: str | None = None,
) -> HttpResponse:
    """``path`` is below the plugin's base and starts with ``portal``."""
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed("GET, HEAD")
    route = path.strip("/").removeprefix("portal").strip("/")
    base = base_path(request, path)
    response: HttpResponse
    if route == "config.json":
        body = config(
            request, base, saleor_api_url=saleor_api_url, channel=channel, catalog=catalog
        )
        response = JsonResponse(body)
        response["Cache-Control"] = "no-store"
    elif ASSET.match(route):
        text = _asset(route)
        if text is None:
            return json_error(404, LicenseErrorCode.NOT_FOUND, "No such file.")
        response = HttpResponse(text, content_type=TYPES[route.rsplit(".", 1)[1]])
        response["Cache-Control"] = "public, max-age=300"
    elif "." in route.rsplit("/", 1)[-1]:
        return json_error(404, LicenseErrorCode.NOT_FOUND, "No such file.")
    else:  # the page itself, for any path (the portal routes with #/… fragments)
        page = (_asset("index.html") or "").replace("{{BASE}}", html.escape(base, quote=True))
        response = HttpResponse(page, content_type="text/html; charset=utf-8")
        response["Cache-Control"] = "no-store"
        response["Content-Security-Policy"] = _csp(saleor_api_url)
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "strict-origin"
    return response
