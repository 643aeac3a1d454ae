"""Device activation (activation.py and the GraphQL mutations): seats, refresh, deactivation
budget, deployment binding, state checks, and entitlements that only fit one device."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_license_plugin.licensing import activation, lifecycle
from saleor_license_plugin.licensing.device_verify import verify_entitlement
from saleor_license_plugin.licensing.entitlements import get_signer, public_key_b64
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.models import Activation, LicenseEvent
from tests.api.helpers import ALICE, BOB, gql, issue

pytestmark = pytest.mark.django_db


def trusted():
    signer = get_signer()
    return {signer.kid: public_key_b64(signer.public_key)}


def refused(call, code):
    with pytest.raises(LicenseError) as info:
        call()
    assert info.value.code is code
    return info.value


def test_activation_signs_a_document_bound_to_the_device():
    license, _ = issue("pro-8", ALICE)
    granted = activation.activate(license, "  pbx-serial-0001 ")
    claims = verify_entitlement(granted.document, trusted())
    assert claims["device"] == activation.device_hash("pbx-serial-0001") == granted.device
    assert claims["device"] != activation.device_hash("pbx-serial-0002")
    assert (claims["edition"], claims["capacity"], claims["license_id"]) == (
        "Professional",
        8,
        license.pk,
    )
    assert granted.created is True
    stored = Activation.objects.get()
    assert stored.fingerprint == granted.device  # the raw fingerprint is not stored
    assert LicenseEvent.objects.filter(license=license, action="activated").count() == 1


def test_the_same_device_refreshes_without_taking_another_seat():
    license, _ = issue("pro-8", ALICE)
    first = activation.activate(license, "pbx-serial-0001")
    later = timezone.now() + timedelta(hours=1)
    again = activation.activate(license, "pbx-serial-0001", now=later)
    assert again.created is False and again.etag == first.etag
    assert again.document["signature"] != first.document["signature"]  # freshly issued
    assert Activation.objects.count() == 1
    assert Activation.objects.get().last_seen_at == later
    assert LicenseEvent.objects.filter(action="activated").count() == 1


def test_the_activation_limit_is_per_license():
    license, _ = issue("pro-8", ALICE)  # demo catalog: 2 devices
    activation.activate(license, "device-one-0001")
    activation.activate(license, "device-two-0002")
    error = refused(
        lambda: activation.activate(license, "device-three-0003"),
        LicenseErrorCode.ACTIVATION_LIMIT_REACHED,
    )
    assert error.field == "fingerprint"
    activation.deactivate(license, "device-one-0001")
    assert activation.activate(license, "device-three-0003").created


def test_deactivations_are_budgeted(settings):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "DEACTIVATION_LIMIT": 2}
    license, _ = issue("pro-8", ALICE)
    now = timezone.now()
    for index in range(2):
        activation.activate(license, f"device-hop-{index:04}", now=now)
        activation.deactivate(license, f"device-hop-{index:04}", now=now)
    activation.activate(license, "device-hop-0002", now=now)
    refused(
        lambda: activation.deactivate(license, "device-hop-0002", now=now),
        LicenseErrorCode.DEACTIVATION_LIMIT_REACHED,
    )
    # the window moves on
    activation.deactivate(license, "device-hop-0002", now=now + timedelta(days=31))
    actions = list(LicenseEvent.objects.filter(license=license).values_list("action", flat=True))
    assert actions.count("deactivated") == 3


def test_deactivating_a_device_that_holds_no_seat_is_not_found():
    license, _ = issue("pro-8", ALICE)
    refused(lambda: activation.deactivate(license, "never-activated"), LicenseErrorCode.NOT_FOUND)


@pytest.mark.parametrize(
    "change, code",
    [
        (lifecycle.suspend_license, LicenseErrorCode.LICENSE_NOT_ACTIVE),
        (lifecycle.revoke_license, LicenseErrorCode.LICENSE_REVOKED),
    ],
)
def test_only_active_licenses_activate(change, code):
    license, _ = issue("pro-8", ALICE)
    change(license.pk)
    refused(lambda: activation.activate(license, "pbx-serial-0001"), code)


def test_a_license_past_its_term_does_not_activate_even_before_the_expiry_job_ran():
    license, _ = issue("cloud-8", ALICE)
    after_term = license.term_expires_at + timedelta(seconds=1)
    refused(
        lambda: activation.activate(license, "pbx-serial-0001", now=after_term),
        LicenseErrorCode.LICENSE_NOT_ACTIVE,
    )


@pytest.mark.parametrize("fingerprint", ["short", "x" * 513, "tab\there-0001", 12345678, None])
def test_unusable_fingerprints_are_refused(fingerprint):
    license, _ = issue("pro-8", ALICE)
    refused(lambda: activation.activate(license, fingerprint), LicenseErrorCode.INVALID_FINGERPRINT)


def test_an_unbound_license_binds_to_the_owners_deployment_on_first_activation():
    license, _ = issue("pro-8", ALICE)
    home = lifecycle.create_deployment(name="Home", owner_id=ALICE.user_id)
    granted = activation.activate(license, "pbx-serial-0001", deployment=home)
    license.refresh_from_db()
    assert license.deployment_id == home.pk and license.revision == 2
    assert verify_entitlement(granted.document, trusted())["deployment"] == home.public_id
    other = lifecycle.create_deployment(name="Other", owner_id=ALICE.user_id)
    refused(
        lambda: activation.activate(license, "pbx-serial-0002", deployment=other),
        LicenseErrorCode.DEPLOYMENT_MISMATCH,
    )
    # a bound license activates without naming its deployment, too
    assert activation.activate(license, "pbx-serial-0002").created


def test_someone_elses_deployment_is_answered_as_unknown_and_nothing_is_bound():
    license, _ = issue("pro-8", ALICE)
    bobs = lifecycle.create_deployment(name="Bob", owner_id=BOB.user_id)
    error = refused(
        lambda: activation.activate(license, "pbx-serial-0001", deployment=bobs),
        LicenseErrorCode.NOT_FOUND,
    )
    assert (error.message, error.field) == ("No such deployment.", "deploymentId")
    license.refresh_from_db()
    assert license.deployment_id is None and not Activation.objects.exists()


ACTIVATE = """
mutation($key: String!, $fingerprint: String!, $deploymentId: String) {
  activateLicense(key: $key, fingerprint: $fingerprint, deploymentId: $deploymentId) {
    errors { field code message }
    entitlement { document kid device revision filename }
  }
}"""
DEACTIVATE = """
mutation($key: String!, $fingerprint: String!) {
  deactivateLicense(key: $key, fingerprint: $fingerprint) { errors { field code } deactivated }
}"""
FILE = """
mutation($key: String!, $fingerprint: String!) {
  licenseEntitlementFile(key: $key, fingerprint: $fingerprint) {
    errors { field code } filename content
  }
}"""


def test_graphql_activation_deactivation_and_offline_file():
    license, key = issue("pro-8", ALICE)
    entitlement = gql(ACTIVATE, {"key": key, "fingerprint": "pbx-serial-0001"}).payload(
        "activateLicense"
    )["entitlement"]
    claims = verify_entitlement(entitlement["document"], trusted())
    assert claims["device"] == entitlement["device"] and entitlement["kid"] == get_signer().kid
    offline = gql(FILE, {"key": key, "fingerprint": "offline-box-0002"}).payload(
        "licenseEntitlementFile"
    )
    assert offline["filename"].startswith(f"license-{license.key_hint}-")
    assert verify_entitlement(json.loads(offline["content"]), trusted())["device"] == (
        activation.device_hash("offline-box-0002")
    )
    assert gql(DEACTIVATE, {"key": key, "fingerprint": "pbx-serial-0001"}).payload(
        "deactivateLicense"
    ) == {"errors": [], "deactivated": True}
    assert Activation.objects.filter(deactivated_at__isnull=True).count() == 1


def test_graphql_activation_refusals_carry_codes_and_fields():
    license, key = issue("pro-8", ALICE)
    lifecycle.suspend_license(license.pk)
    cases = [
        ({"key": key, "fingerprint": "pbx-serial-0001"}, "LICENSE_NOT_ACTIVE", "key"),
        ({"key": "ZZZZZ", "fingerprint": "pbx-serial-0001"}, "MALFORMED_KEY", "key"),
        ({"key": key, "fingerprint": "x"}, "INVALID_FINGERPRINT", "fingerprint"),
        (
            {"key": key, "fingerprint": "pbx-serial-0001", "deploymentId": "D-NOPE"},
            "NOT_FOUND",
            "deploymentId",
        ),
    ]
    for variables, code, field in cases:
        errors = gql(ACTIVATE, variables).data["activateLicense"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)], variables
