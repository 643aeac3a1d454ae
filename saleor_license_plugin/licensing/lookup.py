"""Finding a license by its key, rate-limited and without an existence oracle.

Unknown keys and keys the caller may not see get the same error, after the same work: normalise,
digest, count against the limits, one indexed query, the same permission test.
"""

from __future__ import annotations

from typing import Any

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing import keys, ratelimit
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.models import License

NOT_FOUND_MESSAGE = "No license matches this key."


def key_digest(text: Any, *, field: str = "key") -> str:
    """The lookup digest of a typed key; ``MALFORMED_KEY`` (on ``field``) if it cannot exist."""
    try:
        canonical = keys.normalize(text)
    except LicenseError as exc:
        raise LicenseError(exc.code, exc.message, field) from None
    return keys.digest(canonical, get_settings().key_secret)


def count_attempt(text: Any, *, action: str, client_ip: str, field: str = "key") -> str:
    """Count the attempt per client and per key (one round trip) and return the key's digest;
    a malformed key counts against the client only, then raises ``MALFORMED_KEY``."""
    ip_check = (f"{action}_ip", client_ip, ratelimit.configured_limit(f"{action}_ip"))
    try:
        digest = key_digest(text, field=field)
    except LicenseError:
        ratelimit.hit_many([ip_check])
        raise
    key_check = (f"{action}_key", digest, ratelimit.configured_limit(f"{action}_key"))
    ratelimit.hit_many([ip_check, key_check])
    return digest


def find(digest: str) -> License | None:
    """One indexed lookup by the unique digest, as plain SQL: on the hot path of every
    verification, compiling the ORM query cost more than running it. The deployment is not
    joined: most licenses have none, and a bound one loads it when an answer asks for it."""
    table = License._meta.db_table
    sql = f"SELECT * FROM {table} WHERE key_digest = %s LIMIT 1"  # noqa: S608  (no user text)
    return next(iter(License.objects.raw(sql, [digest])), None)


def find_by_key(text: Any) -> License | None:
    """For trusted callers only (staff tools, the demo, tests): no rate limit, no
    permission test. ``MALFORMED_KEY`` for a key that cannot exist."""
    return find(key_digest(text))


def license_by_key(
    text: Any, *, action: str, client_ip: str, field: str = "key"
) -> tuple[str, License | None]:
    """Count the attempt and look the key up."""
    digest = count_attempt(text, action=action, client_ip=client_ip, field=field)
    return digest, find(digest)


def not_found(field: str = "key") -> LicenseError:
    return LicenseError(LicenseErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, field)


def visible_license(
    text: Any, principal: Principal, *, action: str, client_ip: str, field: str = "key"
) -> License:
    """The license if the caller is its owner, its partner or staff; NOT_FOUND otherwise,
    exactly as for a key that does not exist."""
    _, license = license_by_key(text, action=action, client_ip=client_ip, field=field)
    visible = license is not None and principal.can_see(license)
    if not visible or license is None:
        raise not_found(field)
    return license
