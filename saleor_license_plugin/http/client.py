"""Who is at the other end of a request: the client address used for rate limits."""

from __future__ import annotations

from django.http import HttpRequest

from saleor_license_plugin.conf import get_settings


def client_ip(request: HttpRequest) -> str:
    """The peer address, or the address ``TRUSTED_PROXY_HOPS`` trusted proxies saw."""
    hops = get_settings().trusted_proxy_hops
    if hops > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return str(request.META.get("REMOTE_ADDR") or "unknown")[:64]
