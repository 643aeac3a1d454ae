"""The device endpoint: 200 with a signed document and an ETag, a cheap 304 for the current
ETag, an ETag that follows the document's content (not its issued-at), JSON errors."""

import pytest

from saleor_license_plugin.licensing import activation, keys, lifecycle
from saleor_license_plugin.licensing.device_verify import verify_entitlement
from saleor_license_plugin.licensing.entitlements import get_signer, public_key_b64
from saleor_license_plugin.licensing.errors import LicenseErrorCode
from saleor_license_plugin.licensing.keys import format_key
from tests.api.conftest import set_limits
from tests.api.helpers import ALICE, CATALOG, device, issue

pytestmark = pytest.mark.django_db
FINGERPRINT = "pbx-serial-0001"


def trusted():
    signer = get_signer()
    return {signer.kid: public_key_b64(signer.public_key)}


def test_activation_returns_the_document_and_an_etag():
    _, key = issue("pro-8", ALICE)
    reply = device({"key": key, "fingerprint": FINGERPRINT})
    assert reply.status == 200
    claims = verify_entitlement(reply.body["entitlement"], trusted())
    assert claims["device"] == activation.device_hash(FINGERPRINT)
    assert reply.headers["ETag"].startswith('"')
    assert reply.headers["Cache-Control"] == "private, no-cache"


def test_the_current_etag_gets_304_in_few_queries(django_assert_max_num_queries):
    _, key = issue("pro-8", ALICE)
    tag = device({"key": key, "fingerprint": FINGERPRINT}).headers["ETag"]
    with django_assert_max_num_queries(1):
        reply = device({"key": key, "fingerprint": FINGERPRINT}, HTTP_IF_NONE_MATCH=tag)
    assert reply.status == 304 and reply.headers["ETag"] == tag and reply.body == {}
    # W/ prefixes and lists, as caches send them
    weak = device({"key": key, "fingerprint": FINGERPRINT}, HTTP_IF_NONE_MATCH=f'"x", W/{tag}')
    assert weak.status == 304


def test_the_etag_changes_with_the_content_not_with_time():
    license, key = issue("pro-8", ALICE)
    first = device({"key": key, "fingerprint": FINGERPRINT})
    again = device({"key": key, "fingerprint": FINGERPRINT})
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.body["entitlement"]["payload"] != first.body["entitlement"]["payload"]

    lifecycle.upgrade_license(license.pk, target=CATALOG.get("pro-16").terms)
    stale = device(
        {"key": key, "fingerprint": FINGERPRINT}, HTTP_IF_NONE_MATCH=first.headers["ETag"]
    )
    assert stale.status == 200 and stale.headers["ETag"] != first.headers["ETag"]
    assert verify_entitlement(stale.body["entitlement"], trusted())["capacity"] == 16
    other_device = device({"key": key, "fingerprint": "pbx-serial-0002"})
    assert other_device.headers["ETag"] != stale.headers["ETag"]


def test_no_304_once_the_device_lost_its_seat_or_the_license_its_status():
    license, key = issue("pro-8", ALICE)
    tag = device({"key": key, "fingerprint": FINGERPRINT}).headers["ETag"]
    lifecycle.suspend_license(license.pk)
    reply = device({"key": key, "fingerprint": FINGERPRINT}, HTTP_IF_NONE_MATCH=tag)
    assert reply.status == 409 and reply.body["errors"][0]["code"] == "LICENSE_NOT_ACTIVE"

    other, other_key = issue("pro-8", ALICE)
    tag = device({"key": other_key, "fingerprint": FINGERPRINT}).headers["ETag"]
    activation.deactivate(other, FINGERPRINT)
    reply = device({"key": other_key, "fingerprint": FINGERPRINT}, HTTP_IF_NONE_MATCH=tag)
    assert reply.status == 200  # a fresh activation, not a 304 for a freed seat


def test_a_deployment_named_by_the_device_must_match():
    home = lifecycle.create_deployment(name="Home", owner_id=ALICE.user_id)
    other = lifecycle.create_deployment(name="Other", owner_id=ALICE.user_id)
    _, key = issue("pro-8", ALICE, deployment=home)
    ok = device({"key": key, "fingerprint": FINGERPRINT, "deploymentId": home.public_id})
    assert ok.status == 200
    tag = ok.headers["ETag"]
    mismatch = device(
        {"key": key, "fingerprint": FINGERPRINT, "deploymentId": other.public_id},
        HTTP_IF_NONE_MATCH=tag,
    )
    assert mismatch.status == 409
    assert mismatch.body["errors"] == [
        {
            "code": "DEPLOYMENT_MISMATCH",
            "message": "This license is bound to another deployment.",
            "field": "deploymentId",
        }
    ]


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"fingerprint": FINGERPRINT}, 400, "REQUIRED"),
        ({"key": "12345", "fingerprint": FINGERPRINT}, 400, "MALFORMED_KEY"),
        ({"key": None, "fingerprint": FINGERPRINT}, 400, "REQUIRED"),
        ({"key": ["list"], "fingerprint": FINGERPRINT}, 400, "MALFORMED_KEY"),
        ({"key": "KEY", "fingerprint": "short"}, 400, "INVALID_FINGERPRINT"),
        ({"key": "KEY", "fingerprint": FINGERPRINT, "deploymentId": 7}, 400, "INVALID"),
        ({"key": "UNKNOWN", "fingerprint": FINGERPRINT}, 404, "NOT_FOUND"),
        ({"key": "KEY", "fingerprint": FINGERPRINT, "deploymentId": "D-NONE"}, 404, "NOT_FOUND"),
        ([1, 2], 400, "INVALID"),
        ("not json", 400, "INVALID"),
    ],
)
def test_errors_are_json_with_status_codes(body, status, code):
    _, key = issue("pro-8", ALICE)
    unknown = format_key(keys.generate())
    if isinstance(body, dict):
        names = {"KEY": key, "UNKNOWN": unknown}
        body = {k: names.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    reply = device(body if not isinstance(body, str) else body.encode())
    assert reply.status == status
    assert reply.body["errors"][0]["code"] == code


def test_oversized_bodies_are_refused_before_parsing(settings):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "MAX_REQUEST_BYTES": 1024}
    reply = device({"key": "x" * 2000, "fingerprint": FINGERPRINT})
    assert reply.status == 413 and reply.body["errors"][0]["code"] == "INVALID"


def test_only_post_is_allowed(rf):
    from saleor_license_plugin.http.router import dispatch

    response = dispatch(rf.get("/activation/"), "/activation/", principal=ALICE, catalog=CATALOG)
    assert response.status_code == 405 and response["Allow"] == "POST"


def test_rate_limited_devices_get_429_with_retry_after(settings):
    set_limits(settings, activate_key="2/3600")
    _, key = issue("pro-8", ALICE)
    assert [device({"key": key, "fingerprint": FINGERPRINT}).status for _ in range(2)] == [200, 200]
    reply = device({"key": key, "fingerprint": FINGERPRINT})
    assert reply.status == 429 and reply.body["errors"][0]["code"] == "RATE_LIMITED"
    assert 1 <= int(reply.headers["Retry-After"]) <= 3600


UNPRINTABLE = ["\u0000", "\ud800", "\udfff", "a\u0000b", "\x7f", "\u202e"]


@pytest.mark.parametrize("bad", UNPRINTABLE)
@pytest.mark.parametrize("field", ["key", "fingerprint", "deploymentId"])
def test_unprintable_text_in_every_field_is_a_400(field, bad):
    """Issue 9 saw NUL and lone surrogates in deploymentId reach PostgreSQL (500); since
    d0073d7 every field is checked before any query: this keeps it so."""
    _, key = issue("pro-8", ALICE)
    body = {"key": key, "fingerprint": FINGERPRINT, "deploymentId": "D-AAAAAAAA"}
    body[field] = body[field][:4] + bad + body[field][4:]
    reply = device(body)
    assert reply.status == 400, reply.body
    (error,) = reply.body["errors"]
    assert error["field"] == field and error["code"] in set(LicenseErrorCode)
