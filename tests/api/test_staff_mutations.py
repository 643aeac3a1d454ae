"""Staff mutations: issueLicense (manual, NFR, trial, order line, idempotent), suspend,
reinstate, revoke with reasons in the history; everyone else is denied; deploymentCreate."""

import pytest

from saleor_license_plugin.graphql.core import to_global_id
from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.keys import format_key, normalize
from saleor_license_plugin.models import License, LicenseEvent
from tests.api.helpers import (
    ALICE,
    BOB,
    PARTNER_A,
    PARTNER_B,
    RESELLER,
    STAFF,
    gql,
    issue,
    make_customer,
    make_partner,
)

pytestmark = pytest.mark.django_db

ISSUE = """
mutation($input: IssueLicenseInput!) {
  issueLicense(input: $input) {
    errors { field code message }
    key created
    license { id key kind status edition capacity termExpiresAt maintenanceExpiresAt
              ownerId ownerEmail orderId deployment { publicId } }
  }
}"""
CHANGE = """
mutation($id: ID!, $reason: String) {
  suspendLicense(id: $id, reason: $reason) { errors { field code message } license { status } }
}"""


def issue_input(**overrides):
    return {"input": {"variantId": "pro-16", "ownerId": "user:carol", **overrides}}


def test_staff_issue_a_license_and_see_its_key_once():
    payload = gql(
        ISSUE, issue_input(ownerEmail="carol@example.com", maintenanceYears=2), principal=STAFF
    ).payload("issueLicense")
    license = License.objects.get()
    assert payload["created"] is True
    assert normalize(payload["key"]) and payload["key"] == payload["license"]["key"]
    assert license.display_key() == payload["key"]
    assert (license.edition, license.capacity, license.owner_email) == (
        "Professional",
        16,
        "carol@example.com",
    )
    assert license.maintenance_expires_at.year == license.created_at.year + 2
    assert license.events.get().actor == "user:staff:1"


@pytest.mark.parametrize(
    "kind, extra, expected_kind",
    [("NOT_FOR_RESALE", {}, "nfr"), ("TRIAL", {"trialDays": 14}, "trial")],
)
def test_nfr_and_trial_licenses(kind, extra, expected_kind):
    payload = gql(ISSUE, issue_input(kind=kind, **extra), principal=STAFF).payload("issueLicense")
    license = License.objects.get()
    assert license.kind == expected_kind and payload["license"]["kind"] == kind
    if kind == "TRIAL":
        assert (license.term_expires_at - license.created_at).days == 14


def test_issuing_for_an_order_line_or_an_idempotency_key_happens_once():
    line = issue_input(orderId="order-1", orderLineId="line-1")
    first = gql(ISSUE, line, principal=STAFF).payload("issueLicense")
    again = gql(ISSUE, line, principal=STAFF).payload("issueLicense")
    assert first["created"] and first["key"] and first["license"]["orderId"] == "order-1"
    assert again["created"] is False and again["key"] is None
    assert again["license"]["id"] == first["license"]["id"]

    keyed = issue_input(idempotencyKey="ticket-42")
    one = gql(ISSUE, keyed, principal=STAFF).payload("issueLicense")
    two = gql(ISSUE, keyed, principal=STAFF).payload("issueLicense")
    assert one["license"]["id"] == two["license"]["id"] and two["key"] is None
    assert License.objects.count() == 2


def test_an_idempotency_key_reused_with_another_request_is_a_conflict():
    """The bug: the same key with a different payload silently returned the first license."""
    gql(ISSUE, issue_input(idempotencyKey="ticket-43"), principal=STAFF)
    other = issue_input(idempotencyKey="ticket-43", maintenanceYears=1)
    reply = gql(ISSUE, other, principal=STAFF)
    assert reply.codes("issueLicense") == ["IDEMPOTENCY_CONFLICT"]
    assert reply.data["issueLicense"]["license"] is None
    assert License.objects.count() == 1


def test_issue_bound_to_a_deployment_of_the_owner():
    deployment = lifecycle.create_deployment(name="Carol PBX", owner_id="user:carol")
    payload = gql(ISSUE, issue_input(deploymentId=deployment.public_id), principal=STAFF).payload(
        "issueLicense"
    )
    assert payload["license"]["deployment"] == {"publicId": deployment.public_id}
    bobs = lifecycle.create_deployment(name="Bob PBX", owner_id=BOB.user_id)
    reply = gql(ISSUE, issue_input(deploymentId=bobs.public_id), principal=STAFF)
    assert reply.codes("issueLicense") == ["DEPLOYMENT_NOT_OWNED"]


@pytest.mark.parametrize(
    "overrides, code, field",
    [
        ({"variantId": "addon-calls"}, "NOT_A_LICENSE_PRODUCT", "variantId"),
        ({"variantId": "unknown"}, "NOT_A_LICENSE_PRODUCT", "variantId"),
        ({"ownerId": "  "}, "REQUIRED", "ownerId"),
        ({"ownerId": "u" * 129}, "INVALID", "ownerId"),
        ({"ownerEmail": "not-an-email"}, "INVALID", "ownerEmail"),
        ({"maintenanceYears": -1}, "INVALID_YEARS", "maintenanceYears"),
        ({"maintenanceYears": 11}, "INVALID_YEARS", "maintenanceYears"),
        ({"kind": "TRIAL", "trialDays": 0}, "INVALID", "trialDays"),
        ({"orderId": "order-1"}, "REQUIRED", "orderLineId"),
        ({"deploymentId": "D-NOPE"}, "NOT_FOUND", "deploymentId"),
    ],
)
def test_issue_refusals(overrides, code, field):
    reply = gql(ISSUE, issue_input(**overrides), principal=STAFF)
    errors = reply.data["issueLicense"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [(code, field)]
    assert not License.objects.exists()


@pytest.mark.parametrize("principal", [None, ALICE, RESELLER])
def test_only_staff_issue_suspend_reinstate_and_revoke(principal):
    license, _ = issue("pro-8", ALICE, reseller_id=RESELLER.user_id)
    kwargs = {"principal": principal} if principal else {}
    assert gql(ISSUE, issue_input(), **kwargs).codes("issueLicense") == ["PERMISSION_DENIED"]
    global_id = to_global_id("License", license.pk)
    for name in ("suspendLicense", "reinstateLicense", "revokeLicense"):
        reply = gql(
            f"mutation($id: ID!){{ {name}(id: $id){{ errors {{ code }} license {{ id }} }} }}",
            {"id": global_id},
            **kwargs,
        )
        assert reply.codes(name) == ["PERMISSION_DENIED"]
    license.refresh_from_db()
    assert license.status == "active" and license.events.count() == 1


def test_suspend_reinstate_revoke_with_reasons_in_the_history():
    license, _ = issue("pro-8", ALICE)
    global_id = to_global_id("License", license.pk)

    def change(name, reason):
        return gql(
            f"""mutation($id: ID!, $reason: String){{ {name}(id: $id, reason: $reason){{
                errors {{ code field }} license {{ status }} }} }}""",
            {"id": global_id, "reason": reason},
            principal=STAFF,
        )

    assert change("suspendLicense", "chargeback").payload("suspendLicense")["license"] == {
        "status": "SUSPENDED"
    }
    assert change("suspendLicense", "again").codes("suspendLicense") == ["INVALID_TRANSITION"]
    assert change("reinstateLicense", "resolved").payload("reinstateLicense")["license"] == {
        "status": "ACTIVE"
    }
    assert change("revokeLicense", "fraud").payload("revokeLicense")["license"] == {
        "status": "REVOKED"
    }
    assert change("reinstateLicense", "oops").codes("reinstateLicense") == ["LICENSE_REVOKED"]
    history = list(LicenseEvent.objects.filter(license=license).values_list("action", "note"))
    assert history == [
        ("issued", ""),
        ("suspended", "chargeback"),
        ("reinstated", "resolved"),
        ("revoked", "fraud"),
    ]


@pytest.mark.parametrize(
    "global_id, code",
    [
        ("nonsense", "INVALID_ID"),
        (to_global_id("Deployment", 1), "INVALID_ID"),
        (to_global_id("License", 987654), "NOT_FOUND"),
    ],
)
def test_staff_changes_refuse_bad_ids(global_id, code):
    reply = gql(CHANGE, {"id": global_id}, principal=STAFF)
    assert reply.codes("suspendLicense") == [code]


def test_reason_is_bounded():
    license, _ = issue("pro-8", ALICE)
    reply = gql(
        CHANGE, {"id": to_global_id("License", license.pk), "reason": "x" * 256}, principal=STAFF
    )
    assert reply.codes("suspendLicense") == ["INVALID"]


DEPLOYMENT_CREATE = """
mutation($name: String!, $customerId: String, $ownerId: String) {
  deploymentCreate(name: $name, customerId: $customerId, ownerId: $ownerId) {
    errors { field code message }
    deployment { id publicId name ownerId partnerId resellerId customer { publicId } }
  }
}"""


def test_deployment_create_for_self_and_by_a_partner_for_its_customer():
    customer = make_customer(make_partner(PARTNER_A))
    own = gql(DEPLOYMENT_CREATE, {"name": " Main PBX "}, principal=ALICE).payload(
        "deploymentCreate"
    )["deployment"]
    assert (own["name"], own["ownerId"], own["partnerId"]) == ("Main PBX", "user:alice", None)
    assert own["publicId"].startswith("D-")
    managed = gql(
        DEPLOYMENT_CREATE,
        {"name": "Acme PBX", "customerId": customer.public_id.lower()},
        principal=PARTNER_A,
    ).payload("deploymentCreate")["deployment"]
    assert (managed["ownerId"], managed["partnerId"], managed["resellerId"]) == (
        customer.owner_id,
        PARTNER_A.user_id,
        PARTNER_A.user_id,
    )
    assert managed["customer"] == {"publicId": customer.public_id}


def test_only_staff_and_the_customers_partner_create_deployments_for_a_customer():
    customer = make_customer(make_partner(PARTNER_A))
    make_partner(PARTNER_B)
    variables = {"name": "Planted", "customerId": customer.public_id}
    for principal in (ALICE, PARTNER_B):  # not their customer: as if there were none
        reply = gql(DEPLOYMENT_CREATE, variables, principal=principal)
        assert reply.codes("deploymentCreate") == ["NOT_FOUND"]
    for principal in (ALICE, PARTNER_A):  # a user's list is the user's (and staff's)
        reply = gql(
            DEPLOYMENT_CREATE, {"name": "Planted", "ownerId": "user:carol"}, principal=principal
        )
        assert reply.codes("deploymentCreate") == ["PERMISSION_DENIED"]
    staff_made = gql(
        DEPLOYMENT_CREATE, {"name": "Carol PBX", "ownerId": "user:carol"}, principal=STAFF
    ).payload("deploymentCreate")
    assert (staff_made["deployment"]["ownerId"], staff_made["deployment"]["partnerId"]) == (
        "user:carol",
        None,
    )
    for_customer = gql(DEPLOYMENT_CREATE, variables, principal=STAFF).payload("deploymentCreate")
    assert for_customer["deployment"]["partnerId"] == PARTNER_A.user_id


@pytest.mark.parametrize("name, code", [("", "REQUIRED"), ("x" * 256, "INVALID")])
def test_deployment_create_refusals(name, code):
    assert gql(DEPLOYMENT_CREATE, {"name": name}, principal=ALICE).codes("deploymentCreate") == [
        code
    ]
    assert gql(DEPLOYMENT_CREATE, {"name": "PBX"}).codes("deploymentCreate") == [
        "PERMISSION_DENIED"
    ]


def test_issued_key_is_grouped_for_reading():
    payload = gql(ISSUE, issue_input(), principal=STAFF).payload("issueLicense")
    assert payload["key"] == format_key(normalize(payload["key"]))


def test_the_note_of_a_manual_license_is_kept_in_its_history():
    """It was accepted and dropped."""
    gql(ISSUE, issue_input(note="Replacement for ticket 4711"), principal=STAFF)
    assert License.objects.get().events.get().note == "Replacement for ticket 4711"
