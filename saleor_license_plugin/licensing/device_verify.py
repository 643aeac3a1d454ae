"""Verify an entitlement document on a device. Copy this file: it needs only ``cryptography``.

    from device_verify import verify_entitlement
    claims = verify_entitlement(document, trusted_keys={"<kid>": "<base64url public key>"})

``trusted_keys`` maps key ids to public keys published by ``licensingPublicKey`` (keep the old
one next to the new one while rotating). Raises ``EntitlementInvalid`` if the document is not
well formed, is signed by an unknown key, or does not verify. Check ``claims["deployment"]``,
``claims["status"]`` and the expiries against the device yourself.
"""

import base64
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DOMAIN = b"saleor-license-plugin/entitlement/v1\x00"


class EntitlementInvalid(Exception):
    pass


def _b64u(text):
    if not isinstance(text, str):
        raise EntitlementInvalid("expected base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise EntitlementInvalid("bad base64url") from exc


def verify_entitlement(document, trusted_keys):
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise EntitlementInvalid("not JSON") from exc
    if not isinstance(document, dict) or document.get("v") != 1:
        raise EntitlementInvalid("unknown document version")
    public = trusted_keys.get(document.get("kid"))
    if public is None:
        raise EntitlementInvalid("signed by a key this device does not trust")
    payload = _b64u(document.get("payload"))
    signature = _b64u(document.get("signature"))
    try:
        Ed25519PublicKey.from_public_bytes(_b64u(public)).verify(signature, DOMAIN + payload)
    except (InvalidSignature, ValueError) as exc:
        raise EntitlementInvalid("signature does not verify") from exc
    return json.loads(payload)
