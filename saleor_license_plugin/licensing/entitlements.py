"""Signed activation documents (entitlements).

An entitlement says what a license allows right now: edition, capacity, add-ons, term and
maintenance expiry, deployment, revision, issued-at. It is signed with Ed25519 over a
domain-separated payload, so no other thing signed with the same key can pass as one::

    signature = Ed25519.sign(b"saleor-license-plugin/entitlement/v1\\x00" + payload)

The document a device receives is JSON: ``{"v": 1, "kid": ..., "payload": <base64url of
canonical JSON>, "signature": <base64url>}``. ``device_verify.py`` checks it with nothing but
``cryptography``; it is meant to be copied into device firmware. docs/api.md ("Entitlement
documents") specifies the format for device vendors, and tests/api/test_entitlement_format.py
verifies real documents with that recipe on PyNaCl: change neither without the other.

Signing key: ``SALEOR_LICENSE["SIGNING_KEY"]`` (PEM, or base64 of the 32-byte seed). If unset, a
key is generated on first use and kept in the database, sealed under the key secret. Rotation: see
the README ("Rotating the signing key").
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.db import IntegrityError, transaction

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing import keys

DOMAIN = b"saleor-license-plugin/entitlement/v1\x00"
VERSION = 1


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    return b64u(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def load_private_key(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("SIGNING_KEY must be an Ed25519 private key.")
        return key
    try:
        seed = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise ValueError("SIGNING_KEY must be PEM or base64 of a 32-byte Ed25519 seed.") from exc
    if len(seed) != 32:
        raise ValueError("SIGNING_KEY must be PEM or base64 of a 32-byte Ed25519 seed.")
    return Ed25519PrivateKey.from_private_bytes(seed)


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey
    kid: str

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, claims: dict[str, Any]) -> dict[str, Any]:
        payload = canonical_json(claims)
        signature = self.private_key.sign(DOMAIN + payload)
        return {
            "v": VERSION,
            "kid": self.kid,
            "payload": b64u(payload),
            "signature": b64u(signature),
        }


def canonical_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


_cached: tuple[str | None, Signer] | None = None


def get_signer() -> Signer:
    """The configured signer, or the one generated on first use (stable across web nodes)."""
    global _cached
    configured = get_settings().signing_key
    if _cached is not None and _cached[0] == configured:
        return _cached[1]
    if configured:
        private = load_private_key(configured)
        signer = Signer(private, key_id(private.public_key()))
    else:
        signer = _stored_signer()
    _cached = (configured, signer)
    return signer


def reset_signer_cache() -> None:
    global _cached
    _cached = None


def _stored_signer() -> Signer:
    from saleor_license_plugin.models import SigningKey

    secret = get_settings().key_secret
    stored = SigningKey.objects.filter(active=True).first()
    if stored is None:
        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        try:
            with transaction.atomic():
                stored = SigningKey.objects.create(
                    kid=key_id(private.public_key()),
                    private_key_sealed=keys.seal(b64u(seed), secret),
                    public_key=public_key_b64(private.public_key()),
                )
        except IntegrityError:  # another process generated one first: use theirs
            stored = SigningKey.objects.get(active=True)
    seed = b64u_decode(keys.unseal(stored.private_key_sealed, secret))
    return Signer(Ed25519PrivateKey.from_private_bytes(seed), stored.kid)


def claims_for(license: Any, issued_at: datetime) -> dict[str, Any]:
    """The claims of a license's entitlement (no key material: the digest hint only)."""
    return {
        "license": license.key_hint,
        "license_id": license.pk,
        "status": license.status,
        "edition": license.edition,
        "capacity": license.capacity,
        "capacity_unit": license.capacity_unit,
        "add_ons": license.add_ons,
        "term_expires_at": _iso(license.term_expires_at),
        "maintenance_expires_at": _iso(license.maintenance_expires_at),
        "deployment": license.deployment.public_id if license.deployment else None,
        "revision": license.revision,
        "issued_at": _iso(issued_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
