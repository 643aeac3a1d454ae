"""JSON responses and safe request-body reading shared by the endpoints."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing.errors import LicenseErrorCode


class BadRequest(Exception):
    """A request that cannot be read: answered with ``status`` and a JSON error."""

    def __init__(self, status: int, code: LicenseErrorCode, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def json_error(
    status: int, code: LicenseErrorCode | str, message: str, field: str | None = None
) -> JsonResponse:
    code_text = code.value if isinstance(code, LicenseErrorCode) else code
    return JsonResponse(
        {"errors": [{"code": code_text, "message": message, "field": field}]}, status=status
    )


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object, refusing oversized, non-JSON and non-object bodies."""
    limit = get_settings().max_request_bytes
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadRequest(400, LicenseErrorCode.INVALID, "Bad Content-Length.") from None
    if declared > limit:
        raise BadRequest(413, LicenseErrorCode.INVALID, f"The body exceeds {limit} bytes.")
    try:
        body = request.body
    except RequestDataTooBig:
        raise BadRequest(
            413, LicenseErrorCode.INVALID, f"The body exceeds {limit} bytes."
        ) from None
    if len(body) > limit:
        raise BadRequest(413, LicenseErrorCode.INVALID, f"The body exceeds {limit} bytes.")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadRequest(400, LicenseErrorCode.INVALID, "The body must be JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest(400, LicenseErrorCode.INVALID, "The body must be a JSON object.")
    return data


def method_not_allowed(allowed: str) -> HttpResponse:
    response = json_error(405, LicenseErrorCode.INVALID, f"Use {allowed}.")
    response["Allow"] = allowed
    return response
