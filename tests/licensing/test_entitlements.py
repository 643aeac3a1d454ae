import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from saleor_license_plugin.licensing import entitlements, lifecycle
from saleor_license_plugin.licensing.device_verify import EntitlementInvalid, verify_entitlement
from saleor_license_plugin.models import SigningKey

pytestmark = pytest.mark.django_db


def sign(license, now):
    return entitlements.get_signer().sign(entitlements.claims_for(license, now))


def trusted(signer):
    return {signer.kid: entitlements.public_key_b64(signer.public_key)}


def test_device_verifies_a_signed_license(pro8, alice, now):
    license = lifecycle.issue_license(terms=pro8, owner=alice, maintenance_years=1, now=now).license
    signer = entitlements.get_signer()
    document = sign(license, now)
    claims = verify_entitlement(json.dumps(document), trusted(signer))
    assert claims["edition"] == "Professional" and claims["capacity"] == 8
    assert claims["maintenance_expires_at"] == "2027-03-01T12:00:00+00:00"
    assert claims["term_expires_at"] is None and claims["revision"] == 1
    assert claims["issued_at"] == now.isoformat()
    assert license.display_key().replace("-", "") not in json.dumps(document)


def test_tampered_payload_does_not_verify(pro8, alice, now):
    license = lifecycle.issue_license(terms=pro8, owner=alice, now=now).license
    document = sign(license, now)
    claims = json.loads(entitlements.b64u_decode(document["payload"]))
    claims["capacity"] = 64
    forged = {**document, "payload": entitlements.b64u(entitlements.canonical_json(claims))}
    with pytest.raises(EntitlementInvalid, match="does not verify"):
        verify_entitlement(forged, trusted(entitlements.get_signer()))


def test_signature_without_domain_separation_is_refused(pro8, alice, now):
    """A signature the same key made over the bare payload (another protocol) is not accepted."""
    signer = entitlements.get_signer()
    payload = entitlements.canonical_json({"edition": "Enterprise", "capacity": 1024})
    document = {
        "v": 1,
        "kid": signer.kid,
        "payload": entitlements.b64u(payload),
        "signature": entitlements.b64u(signer.private_key.sign(payload)),
    }
    with pytest.raises(EntitlementInvalid):
        verify_entitlement(document, trusted(signer))


@pytest.mark.parametrize(
    "document",
    ["not json", {"v": 2}, {"v": 1, "kid": "nope"}, [], {"v": 1, "kid": None, "payload": 3}],
)
def test_malformed_documents_are_refused(document):
    signer = entitlements.get_signer()
    with pytest.raises(EntitlementInvalid):
        verify_entitlement(document, trusted(signer))


def test_generated_key_is_created_once_and_sealed():
    first = entitlements.get_signer()
    entitlements.reset_signer_cache()
    second = entitlements.get_signer()
    assert first.kid == second.kid
    stored = SigningKey.objects.get()
    seed = first.private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert entitlements.b64u(seed) not in stored.private_key_sealed


def test_configured_key_wins_and_rotation_keeps_old_documents_verifiable(
    settings, pro8, alice, now
):
    license = lifecycle.issue_license(terms=pro8, owner=alice, now=now).license
    old = Ed25519PrivateKey.generate()
    pem = old.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "SIGNING_KEY": pem}
    old_signer = entitlements.get_signer()
    assert old_signer.kid == entitlements.key_id(old.public_key())
    old_document = sign(license, now)

    new = Ed25519PrivateKey.generate()
    seed = new.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "SIGNING_KEY": base64.b64encode(seed).decode(),
    }
    new_signer = entitlements.get_signer()
    assert new_signer.kid != old_signer.kid
    new_document = sign(license, now)

    both = {**trusted(old_signer), **trusted(new_signer)}
    assert verify_entitlement(old_document, both)["license_id"] == license.pk
    assert verify_entitlement(new_document, both)["license_id"] == license.pk
    with pytest.raises(EntitlementInvalid, match="does not trust"):
        verify_entitlement(old_document, trusted(new_signer))


@pytest.mark.parametrize("bad", ["not base64!!", base64.b64encode(b"short").decode()])
def test_bad_configured_key_is_a_clear_error(settings, bad):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "SIGNING_KEY": bad}
    with pytest.raises(ValueError, match="SIGNING_KEY") as info:
        entitlements.get_signer()
    assert bad not in str(info.value)
