"""No existence oracle: "unknown" and "not yours" get the same code, message, field and HTTP
status, everywhere a caller names a key or a deployment (issue 9). docs/api.md ("What an
answer reveals") lists the answers that do differ, and why."""

import pytest

from saleor_license_plugin.licensing import activation, keys, lifecycle
from saleor_license_plugin.licensing.keys import format_key
from tests.api.helpers import ALICE, BOB, device, gql, issue

pytestmark = pytest.mark.django_db

FINGERPRINT = "pbx-serial-0001"
UNKNOWN_DEPLOYMENT = "D-ZZZZZZZZ"  # well formed, never created

ACTIVATE = """
mutation($key: String!, $fingerprint: String!, $deploymentId: String) {
  activateLicense(key: $key, fingerprint: $fingerprint, deploymentId: $deploymentId) {
    errors { field code message } entitlement { kid }
  }
}"""
FILE = """
mutation($key: String!, $fingerprint: String!, $deploymentId: String) {
  licenseEntitlementFile(key: $key, fingerprint: $fingerprint, deploymentId: $deploymentId) {
    errors { field code message } filename
  }
}"""
DEACTIVATE = """
mutation($key: String!, $fingerprint: String!) {
  deactivateLicense(key: $key, fingerprint: $fingerprint) {
    errors { field code message } deactivated
  }
}"""
VERIFY = """
mutation($key: String!, $deploymentId: String) {
  verifyLicenseKey(key: $key, deploymentId: $deploymentId) {
    errors { field code message } verification { status }
  }
}"""

MUTATIONS = [(ACTIVATE, "activateLicense"), (FILE, "licenseEntitlementFile")]


def unknown_key() -> str:
    return format_key(keys.generate())


def gql_answer(query, name, **variables):
    reply = gql(query, variables)
    return reply.status, reply.data[name]["errors"]


def device_answer(**body):
    reply = device(body)
    return reply.status, reply.body


# --- deactivateLicense -----------------------------------------------------------------------


def test_deactivation_answers_an_unknown_key_and_a_device_without_a_seat_alike():
    license, bobs_key = issue("pro-8", BOB)
    activation.activate(license, "bobs-own-device-01")
    unknown = gql_answer(
        DEACTIVATE, "deactivateLicense", key=unknown_key(), fingerprint=FINGERPRINT
    )
    no_seat = gql_answer(DEACTIVATE, "deactivateLicense", key=bobs_key, fingerprint=FINGERPRINT)
    assert unknown == no_seat
    assert [e["code"] for e in unknown[1]] == ["NOT_FOUND"]


def test_deactivation_checks_the_fingerprint_before_the_key():
    _, key = issue("pro-8", BOB)
    unknown = gql_answer(DEACTIVATE, "deactivateLicense", key=unknown_key(), fingerprint="x")
    known = gql_answer(DEACTIVATE, "deactivateLicense", key=key, fingerprint="x")
    assert unknown == known
    assert [e["code"] for e in known[1]] == ["INVALID_FINGERPRINT"]


# --- activation: input errors come before the key ----------------------------------------------


@pytest.mark.parametrize(
    "query, name", [(ACTIVATE, "activateLicense"), (FILE, "licenseEntitlementFile")]
)
@pytest.mark.parametrize(
    "variables, code",
    [
        ({"fingerprint": "x"}, "INVALID_FINGERPRINT"),
        ({"fingerprint": FINGERPRINT, "deploymentId": "D-" + "9" * 40}, "INVALID"),
    ],
)
def test_graphql_activation_input_errors_do_not_depend_on_the_key(query, name, variables, code):
    _, key = issue("pro-8", BOB)
    known = gql_answer(query, name, key=key, **variables)
    unknown = gql_answer(query, name, key=unknown_key(), **variables)
    assert known == unknown
    assert [e["code"] for e in known[1]] == [code]


# --- activation: someone else's deployment is an unknown deployment -----------------------------


@pytest.fixture
def bobs_deployment():
    return lifecycle.create_deployment(name="Bob's PBX", owner_id=BOB.user_id)


@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "bound"])
@pytest.mark.parametrize("state", [None, lifecycle.suspend_license, lifecycle.revoke_license])
def test_the_device_endpoint_answers_someone_elses_deployment_as_unknown(
    bound, state, bobs_deployment
):
    home = lifecycle.create_deployment(name="Home", owner_id=ALICE.user_id) if bound else None
    license, key = issue("pro-8", ALICE, deployment=home)
    if state is not None:
        state(license.pk)
    theirs = device_answer(key=key, fingerprint=FINGERPRINT, deploymentId=bobs_deployment.public_id)
    unknown = device_answer(key=key, fingerprint=FINGERPRINT, deploymentId=UNKNOWN_DEPLOYMENT)
    assert theirs == unknown
    assert theirs[0] == 404 and theirs[1]["errors"][0]["code"] == "NOT_FOUND"
    license.refresh_from_db()
    assert license.deployment_id == (home.pk if home else None)  # nothing was bound


@pytest.mark.parametrize(
    "query, name", [(ACTIVATE, "activateLicense"), (FILE, "licenseEntitlementFile")]
)
@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "bound"])
def test_graphql_activation_answers_someone_elses_deployment_as_unknown(
    query, name, bound, bobs_deployment
):
    home = lifecycle.create_deployment(name="Home", owner_id=ALICE.user_id) if bound else None
    _, key = issue("pro-8", ALICE, deployment=home)
    variables = {"key": key, "fingerprint": FINGERPRINT}
    theirs = gql_answer(query, name, **variables, deploymentId=bobs_deployment.public_id)
    unknown = gql_answer(query, name, **variables, deploymentId=UNKNOWN_DEPLOYMENT)
    assert theirs == unknown
    assert [(e["code"], e["field"]) for e in theirs[1]] == [("NOT_FOUND", "deploymentId")]


def test_a_resellers_deployment_still_binds_a_license_it_resells():
    reseller_deployment = lifecycle.create_deployment(
        name="Managed", owner_id="user:customer", reseller_id="user:reseller"
    )
    license, key = issue("pro-8", ALICE, reseller_id="user:reseller")
    reply = device(
        {"key": key, "fingerprint": FINGERPRINT, "deploymentId": reseller_deployment.public_id}
    )
    assert reply.status == 200
    license.refresh_from_db()
    assert license.deployment_id == reseller_deployment.pk


# --- lookups that were already uniform (regressions) --------------------------------------------


def test_verification_answers_someone_elses_deployment_as_unknown(bobs_deployment):
    _, key = issue("pro-8", ALICE)
    theirs = gql(VERIFY, {"key": key, "deploymentId": bobs_deployment.public_id}, principal=ALICE)
    unknown = gql(VERIFY, {"key": key, "deploymentId": UNKNOWN_DEPLOYMENT}, principal=ALICE)
    assert theirs.body == unknown.body
    assert theirs.codes("verifyLicenseKey") == ["NOT_FOUND"]


def test_license_by_key_is_null_for_someone_elses_key_and_an_unknown_one():
    _, alices = issue("pro-8", ALICE)
    query = "query($key: String){ license(key: $key){ keyHint } }"
    theirs = gql(query, {"key": alices}, principal=BOB)
    unknown = gql(query, {"key": unknown_key()}, principal=BOB)
    assert theirs.body == unknown.body  # extensions (the query's cost) included
    assert theirs.body["data"] == {"license": None} and "errors" not in theirs.body
