"""Views of the standalone server: thin wrappers around the router."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.http.responses import json_error
from saleor_license_plugin.http.router import dispatch, error_response
from saleor_license_plugin.licensing import keys
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import ANONYMOUS
from saleor_license_plugin.models import License
from saleor_license_plugin.server.auth import InvalidToken, resolve_principal
from saleor_license_plugin.server.catalog import load_catalog


@csrf_exempt
def graphql(request: HttpRequest) -> HttpResponse:
    try:
        principal = resolve_principal(request)
    except InvalidToken:  # in GraphQL's error shape, as every answer of /graphql/
        response = error_response(
            "graphql/",
            401,
            LicenseErrorCode.PERMISSION_DENIED,
            "The API token is invalid or revoked.",
        )
        response["WWW-Authenticate"] = "Bearer"
        return response
    return dispatch(request, "graphql/", principal=principal, catalog=load_catalog())


@csrf_exempt
def activation(request: HttpRequest) -> HttpResponse:
    # Devices authenticate with the license key itself.
    return dispatch(request, "activation/", principal=ANONYMOUS, catalog=load_catalog())


@csrf_exempt
def unsubscribe(request: HttpRequest) -> HttpResponse:
    # The signed token in the link names the customer.
    return dispatch(request, "reminders/unsubscribe/", principal=ANONYMOUS, catalog=load_catalog())


def dashboard(request: HttpRequest, rest: str = "") -> HttpResponse:
    # The Dashboard app's manifest, page and assets: public, the page's API calls carry a token.
    return dispatch(request, f"dashboard/{rest}", principal=ANONYMOUS, catalog=load_catalog())


def portal(request: HttpRequest, rest: str = "") -> HttpResponse:
    # The reference portal's page, assets and config: public; its API calls carry a token.
    return dispatch(request, f"portal/{rest}", principal=ANONYMOUS, catalog=load_catalog())


@csrf_exempt
def invoice_download(request: HttpRequest) -> HttpResponse:
    # The one-time token in the link names the invoice.
    return dispatch(request, "invoices/download/", principal=ANONYMOUS, catalog=load_catalog())


def bench_lookup(request: HttpRequest) -> HttpResponse:
    """Benchmark baseline (mounted only with ``LICENSE_BENCHMARK=1``): read a key, digest it,
    one indexed lookup, a small JSON answer. No auth, no rate limit: never expose it."""
    try:
        canonical = keys.normalize(request.GET.get("key", ""))
    except LicenseError as error:
        return json_error(400, error.code, error.message, error.field)
    digest = keys.digest(canonical, get_settings().key_secret)
    row = License.objects.filter(key_digest=digest).values_list("status", "edition").first()
    if row is None:
        return json_error(404, LicenseErrorCode.NOT_FOUND, "No license matches this key.")
    return JsonResponse({"status": row[0], "edition": row[1]})
