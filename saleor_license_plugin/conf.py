"""Settings in one place.

Values come from ``settings.SALEOR_LICENSE`` (a dict) with the defaults below; inside Saleor the
plugin's Dashboard configuration is passed on top (see ``plugin.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings

DEFAULTS: dict[str, Any] = {
    # Secret for key digests and for encrypting keys at rest. Must never change once keys exist.
    "KEY_SECRET": None,
    # Ed25519 private key (PEM, or base64 of the 32-byte seed). Empty: generated once, kept in DB.
    "SIGNING_KEY": None,
    "MIN_YEARS": 1,
    "MAX_YEARS": 10,
    "PRORATE_UPGRADES": True,
    # Upgrade floor: the quote is never below max(FLOOR_AMOUNT, FLOOR_RATE x full difference).
    "UPGRADE_FLOOR_AMOUNT": "0",
    "UPGRADE_FLOOR_RATE": "0",
    "PENDING_PAYMENT_GRACE_DAYS": 0,
    "MAX_ACTIVATIONS": 1,
    # A checkout line's quote stays valid this long (the license and price must also be unchanged).
    "QUOTE_TTL_MINUTES": 24 * 60,
    # checkoutComplete requires checkout metadata license.terms_accepted=true / license.reference.
    "REQUIRE_TERMS_ACCEPTANCE": False,
    "REQUIRE_REFERENCE": False,
    # --- API and device activation (docs/api.md); read with api.options.option(NAME) ---
    # "off": anonymous verifyLicenseKey callers get PERMISSION_DENIED; "minimal": status and
    # expiries only (no owner, deployment or offers).
    "ANONYMOUS_VERIFICATION": "off",
    # "<count>/<seconds>" per client IP and per key digest; None or "" switches one off.
    "RATE_LIMITS": {
        "verify_ip": "60/60",
        "verify_key": "20/60",
        "activate_ip": "120/3600",
        "activate_key": "30/3600",
    },
    "RATE_LIMIT_CACHE": "default",  # a Django cache alias: Redis in production
    # X-Forwarded-For hops added by trusted proxies (0: the peer address is the client).
    "TRUSTED_PROXY_HOPS": 0,
    # At most this many device deactivations per license in the window (activation churn).
    "DEACTIVATION_LIMIT": 3,
    "DEACTIVATION_WINDOW_DAYS": 30,
    # Request bodies larger than this are refused (413) before they are parsed.
    "MAX_REQUEST_BYTES": 64 * 1024,
    # Standalone server: the catalog JSON file (default: the packaged demo catalog).
    "CATALOG_FILE": None,
}


@dataclass(frozen=True)
class LicenseSettings:
    key_secret: bytes
    signing_key: str | None
    min_years: int = 1
    max_years: int = 10
    prorate_upgrades: bool = True
    upgrade_floor_amount: Decimal = Decimal("0")
    upgrade_floor_rate: Decimal = Decimal("0")
    pending_payment_grace_days: int = 0
    max_activations: int = 1
    quote_ttl_minutes: int = 24 * 60
    require_terms_acceptance: bool = False
    require_reference: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def with_overrides(self, **overrides: Any) -> LicenseSettings:
        return replace(self, **overrides)


def _key_secret(value: Any) -> bytes:
    if value:
        return value.encode() if isinstance(value, str) else bytes(value)
    # Derived from SECRET_KEY so a fresh install works; `checks.py` warns that it should be set
    # explicitly, because rotating SECRET_KEY would otherwise orphan every stored key.
    return hashlib.sha256(
        b"saleor-license-plugin/key-secret\x00" + django_settings.SECRET_KEY.encode()
    ).digest()


# Keys with a typed field in LicenseSettings; every other key travels in ``extra``.
TYPED_KEYS = frozenset(
    {
        "KEY_SECRET",
        "SIGNING_KEY",
        "MIN_YEARS",
        "MAX_YEARS",
        "PRORATE_UPGRADES",
        "UPGRADE_FLOOR_AMOUNT",
        "UPGRADE_FLOOR_RATE",
        "PENDING_PAYMENT_GRACE_DAYS",
        "MAX_ACTIVATIONS",
        "QUOTE_TTL_MINUTES",
        "REQUIRE_TERMS_ACCEPTANCE",
        "REQUIRE_REFERENCE",
    }
)

_override: ContextVar[LicenseSettings | None] = ContextVar("saleor_license_settings", default=None)


@contextmanager
def using(settings: LicenseSettings) -> Iterator[LicenseSettings]:
    """Run a block with these settings: how the Saleor plugin applies its Dashboard
    configuration to everything it calls, for that request only."""
    token = _override.set(settings)
    try:
        yield settings
    finally:
        _override.reset(token)


def overridden() -> LicenseSettings | None:
    """The settings a host applied to this request with :func:`using`, if any."""
    return _override.get()


def get_settings() -> LicenseSettings:
    if (current := _override.get()) is not None:
        return current
    return from_django_settings()


def from_django_settings() -> LicenseSettings:
    raw = {**DEFAULTS, **getattr(django_settings, "SALEOR_LICENSE", {})}
    return LicenseSettings(
        key_secret=_key_secret(raw["KEY_SECRET"]),
        signing_key=raw["SIGNING_KEY"] or None,
        min_years=int(raw["MIN_YEARS"]),
        max_years=int(raw["MAX_YEARS"]),
        prorate_upgrades=bool(raw["PRORATE_UPGRADES"]),
        upgrade_floor_amount=Decimal(str(raw["UPGRADE_FLOOR_AMOUNT"])),
        upgrade_floor_rate=Decimal(str(raw["UPGRADE_FLOOR_RATE"])),
        pending_payment_grace_days=int(raw["PENDING_PAYMENT_GRACE_DAYS"]),
        max_activations=int(raw["MAX_ACTIVATIONS"]),
        quote_ttl_minutes=int(raw["QUOTE_TTL_MINUTES"]),
        require_terms_acceptance=bool(raw["REQUIRE_TERMS_ACCEPTANCE"]),
        require_reference=bool(raw["REQUIRE_REFERENCE"]),
        extra={k: v for k, v in raw.items() if k not in TYPED_KEYS},
    )
