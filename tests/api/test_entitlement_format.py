"""docs/api.md specifies entitlement documents well enough to verify one without this package:
the recipe published there (a block of Python on PyNaCl, an Ed25519 implementation independent
of `cryptography`) is run as written against documents issued through the API (issue 9)."""

import base64
import json
import re
from pathlib import Path

import nacl.exceptions
import pytest

from tests.api.helpers import STAFF, device, gql

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ISSUE = """
mutation($input: IssueLicenseInput!) {
  issueLicense(input: $input) { errors { code message } key license { keyHint } }
}"""
ACTIVATE = """
mutation($key: String!, $fingerprint: String!) {
  activateLicense(key: $key, fingerprint: $fingerprint) {
    errors { code message } entitlement { document kid device }
  }
}"""
OFFLINE = """
mutation($key: String!, $fingerprint: String!) {
  licenseEntitlementFile(key: $key, fingerprint: $fingerprint) { errors { code } content }
}"""
PUBLIC_KEY = "{ licensingPublicKey { kid algorithm publicKey } }"


def section() -> str:
    text = DOC.read_text()
    start = text.index("### Entitlement documents")
    return text[start : text.index("\n## ", start)]


@pytest.fixture(scope="module")
def recipe() -> dict:
    """The documented verifier, executed from the docs' own text."""
    (block,) = re.findall(r"^```python\n(.*?)^```", section(), re.MULTILINE | re.DOTALL)
    namespace: dict = {}
    exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 (our own docs)
    return namespace


@pytest.fixture
def trusted(recipe):
    published = gql(PUBLIC_KEY).data["licensingPublicKey"]
    assert published["algorithm"] == "Ed25519"
    public_key = recipe["b64u_decode"](published["publicKey"])
    assert len(public_key) == 32
    assert recipe["key_id"](public_key) == published["kid"]  # the documented kid
    return {published["kid"]: public_key}


@pytest.fixture
def key():
    payload = gql(
        ISSUE,
        {"input": {"variantId": "pro-16", "ownerId": "user:carol", "maintenanceYears": 1}},
        principal=STAFF,
    ).data["issueLicense"]
    assert payload["errors"] == []
    return payload["key"]


def test_the_documented_prefixes_are_the_recipes():
    text = section()
    recipe_text = re.search(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL).group(1)
    for name, label in (
        ("ENTITLEMENT_PREFIX", "saleor-license-plugin/entitlement/v1"),
        ("DEVICE_PREFIX", "saleor-license-plugin/device/v1"),
    ):
        prefix = label.encode() + b"\x00"
        assert f'{name} = b"{label}\\x00"' in recipe_text
        assert f"`{prefix.hex()}`" in text  # the hex given in the prose
        assert f"the {len(prefix)} bytes `{label}`" in text


def test_a_document_from_the_device_endpoint_verifies_with_pynacl(recipe, trusted, key):
    fingerprint = "  PBX-Serial-0001\t"  # the server strips it; the recipe says how
    reply = device({"key": key, "fingerprint": fingerprint})
    assert reply.status == 200
    document = reply.body["entitlement"]
    assert set(document) == {"v", "kid", "payload", "signature"} and document["v"] == 1
    assert "=" not in document["payload"] + document["signature"]
    assert len(recipe["b64u_decode"](document["signature"])) == 64

    claims = recipe["verify"](document, trusted)
    assert claims["device"] == recipe["device_hash"](fingerprint)
    assert claims["device"] == recipe["device_hash"]("PBX-Serial-0001")
    assert claims["device"] != recipe["device_hash"]("pbx-serial-0001")  # case is kept
    assert re.fullmatch(r"[0-9a-f]{64}", claims["device"])
    assert claims["status"] == "active" and claims["capacity"] == 16
    assert claims["license"] == key[-5:]
    assert set(claims) == {
        "license",
        "license_id",
        "status",
        "edition",
        "capacity",
        "capacity_unit",
        "add_ons",
        "term_expires_at",
        "maintenance_expires_at",
        "deployment",
        "revision",
        "issued_at",
        "device",
    }


def test_the_payload_is_canonical_json(recipe, trusted, key):
    document = device({"key": key, "fingerprint": "pbx-serial-0001"}).body["entitlement"]
    payload = recipe["b64u_decode"](document["payload"])
    claims = json.loads(payload)
    canonical = json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert payload == canonical.encode("utf-8")


def test_the_graphql_documents_verify_too(recipe, trusted, key):
    variables = {"key": key, "fingerprint": "desk-unit-0002"}
    online = gql(ACTIVATE, variables).data["activateLicense"]
    assert online["errors"] == []
    claims = recipe["verify"](json.loads(online["entitlement"]["document"]), trusted)
    assert (
        claims["device"]
        == online["entitlement"]["device"]
        == recipe["device_hash"]("desk-unit-0002")
    )

    offline = gql(OFFLINE, {**variables, "fingerprint": "offline-box-0003"}).data
    content = offline["licenseEntitlementFile"]["content"]
    claims = recipe["verify"](json.loads(content), trusted)
    assert claims["device"] == recipe["device_hash"]("offline-box-0003")


def test_what_the_recipe_refuses(recipe, trusted, key):
    document = device({"key": key, "fingerprint": "pbx-serial-0001"}).body["entitlement"]
    payload = recipe["b64u_decode"](document["payload"])
    forged_claims = json.loads(payload) | {"capacity": 1000}
    forged = {
        **document,
        "payload": base64.urlsafe_b64encode(
            json.dumps(forged_claims, sort_keys=True, separators=(",", ":")).encode()
        )
        .rstrip(b"=")
        .decode(),
    }
    with pytest.raises(nacl.exceptions.BadSignatureError):
        recipe["verify"](forged, trusted)
    with pytest.raises(KeyError):
        recipe["verify"]({**document, "kid": "0" * 16}, trusted)
    with pytest.raises(ValueError):
        recipe["verify"]({**document, "v": 2}, trusted)
    # the signature covers the prefix: the bare payload does not verify
    from nacl.signing import VerifyKey

    with pytest.raises(nacl.exceptions.BadSignatureError):
        VerifyKey(trusted[document["kid"]]).verify(
            payload, recipe["b64u_decode"](document["signature"])
        )
