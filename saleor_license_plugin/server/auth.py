"""Standalone principals: ``Authorization: Bearer <API token>``; no header is anonymous.

Resolved tokens are remembered per process for ``LICENSE_TOKEN_CACHE_SECONDS`` (default 10), so
a busy client costs one query per interval, not per request; a revoked token therefore keeps
working for at most that long on a process that saw it. Set it to 0 to look up every time.
"""

from __future__ import annotations

import time
from threading import Lock

from django.conf import settings
from django.http import HttpRequest

from saleor_license_plugin.licensing.ports import ANONYMOUS, MANAGE_ORDERS, Principal
from saleor_license_plugin.server.models import ApiToken, token_digest

MAX_TOKEN_LENGTH = 200
MAX_REMEMBERED = 1024

_remembered: dict[str, tuple[float, Principal]] = {}
_lock = Lock()


class InvalidToken(Exception):
    """A token was given but is malformed, unknown or revoked."""


def resolve_principal(request: HttpRequest) -> Principal:
    """Who is calling the standalone server: the principal of an API token."""
    header = request.headers.get("Authorization", "")
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken
    digest = token_digest(token)
    ttl = float(getattr(settings, "LICENSE_TOKEN_CACHE_SECONDS", 10))
    now = time.monotonic()
    with _lock:
        remembered = _remembered.get(digest)
    if remembered is not None and remembered[0] > now:
        return remembered[1]
    principal = _lookup(digest)
    if ttl > 0:
        with _lock:
            if len(_remembered) >= MAX_REMEMBERED:
                _remembered.clear()
            _remembered[digest] = (now + ttl, principal)
    return principal


def forget_tokens() -> None:
    """Drop remembered tokens (after revoking, in tests)."""
    with _lock:
        _remembered.clear()


def _lookup(digest: str) -> Principal:
    row = (
        ApiToken.objects.filter(digest=digest, revoked_at__isnull=True)
        .values_list("user_id", "email", "is_staff")
        .first()
    )
    if row is None:
        raise InvalidToken
    user_id, email, is_staff = row
    return Principal(
        user_id=user_id,
        email=email,
        permissions=frozenset({MANAGE_ORDERS}) if is_staff else frozenset(),
    )
