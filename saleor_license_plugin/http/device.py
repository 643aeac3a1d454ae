"""The device endpoint: ``POST activation/`` with ``{"key", "fingerprint", "deploymentId"?}``.

Devices poll it (hourly, say). The answer is the signed entitlement with an ``ETag``; a device
that sends its current ETag in ``If-None-Match`` gets ``304 Not Modified`` after the rate limit
check and one indexed query, without signing. Errors are ``{"errors": [{code, message, field}]}``
with 400 (bad input), 404 (no such key or deployment), 409 (the license's state refuses),
413 (body too large), 429 (rate limited, with ``Retry-After``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from saleor_license_plugin.http.client import client_ip
from saleor_license_plugin.http.responses import (
    BadRequest,
    json_error,
    method_not_allowed,
    read_json_object,
)
from saleor_license_plugin.licensing import access, activation, ratelimit
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.lookup import count_attempt, find, not_found

C = LicenseErrorCode
STATUS = {
    C.MALFORMED_KEY: 400,
    C.INVALID: 400,
    C.REQUIRED: 400,
    C.INVALID_FINGERPRINT: 400,
    C.INVALID_ID: 400,
    C.NOT_FOUND: 404,
    C.PERMISSION_DENIED: 403,
    C.RATE_LIMITED: 429,
}


def _deployment_id(value: Any) -> str | None:
    return None if value is None else access.normalize_deployment_id(value)


def _matches(if_none_match: str, tag: str) -> bool:
    candidates = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return tag in candidates or "*" in candidates


def serve(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return method_not_allowed("POST")
    try:
        return _activate(request, read_json_object(request))
    except BadRequest as bad:
        return json_error(bad.status, bad.code, bad.message, bad.field)
    except ratelimit.RateLimited as limited:
        response = json_error(429, limited.code, limited.message)
        response["Retry-After"] = str(limited.retry_after)
        return response
    except LicenseError as error:
        return json_error(STATUS.get(error.code, 409), error.code, error.message, error.field)


def _activate(request: HttpRequest, body: dict[str, Any]) -> HttpResponse:
    now = timezone.now()
    if body.get("key") is None:
        ratelimit.hit("activate_ip", client_ip(request), ratelimit.configured_limit("activate_ip"))
        raise LicenseError(C.REQUIRED, "key is required.", "key")
    digest = count_attempt(body["key"], action="activate", client_ip=client_ip(request))
    device = activation.device_hash(body.get("fingerprint"))
    deployment_id = _deployment_id(body.get("deploymentId"))

    if_none_match = request.headers.get("If-None-Match")
    if if_none_match:
        tag = activation.current_etag(digest, device, now, deployment_id=deployment_id)
        if tag is not None and _matches(if_none_match, tag):
            response = HttpResponse(status=304)
            del response["Content-Type"]
            response["ETag"] = tag
            return response

    license = find(digest)
    if license is None:
        raise not_found()
    deployment = access.named_deployment(deployment_id)
    granted = activation.activate(license, body["fingerprint"], deployment=deployment, now=now)
    response = JsonResponse({"entitlement": granted.document})
    response["ETag"] = granted.etag
    response["Cache-Control"] = "private, no-cache"
    return response
