"""What the Dashboard page needs from the API: staff search filters, the license's activations,
history and orders, and the staff actions (reveal a key, extend, reset activations, resend the
key, an offline entitlement), each one recorded in the history; everyone else is denied."""

import base64
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from saleor_license_plugin.graphql.core import to_global_id
from saleor_license_plugin.licensing import activation, lifecycle
from saleor_license_plugin.models import Activation, License, LicenseEvent
from tests.api.helpers import ALICE, BOB, STAFF, gql, issue

pytestmark = pytest.mark.django_db

SEARCH = """
query($filter: LicenseFilterInput) {
  licenses(filter: $filter, first: 10) { totalCount edges { node { keyHint } } }
}"""
DETAIL = """
query($id: ID!) {
  license(id: $id) {
    status orderIds
    activations(includeInactive: true) { id device firstSeenAt lastSeenAt deactivatedAt }
    events { action actor note before after orderId createdAt }
  }
}"""


def gid(license: License) -> str:
    return to_global_id("License", license.pk)


def test_staff_search_by_key_order_and_owner():
    first, key = issue("pro-16", ALICE, order_line=lifecycle.OrderLineRef("order-1", "line-1"))
    second, _ = issue("pro-16", BOB)
    hints = lambda filter: [  # noqa: E731
        e["node"]["keyHint"]
        for e in gql(SEARCH, {"filter": filter}, principal=STAFF).data["licenses"]["edges"]
    ]
    assert hints({"key": key.lower()}) == [first.key_hint]
    assert hints({"orderId": "order-1"}) == [first.key_hint]
    order_gid = base64.b64encode(b"Order:order-1").decode()
    assert hints({"orderId": order_gid}) == [first.key_hint]
    assert hints({"ownerId": BOB.user_id}) == [second.key_hint]
    # an order that changed a license finds it too
    lifecycle.renew_maintenance(
        second.pk, years=1, order_line=lifecycle.OrderLineRef("order-2", "line-9")
    )
    assert hints({"orderId": "order-2"}) == [second.key_hint]


def test_only_staff_use_the_staff_filters():
    issue("pro-16", ALICE)
    reply = gql(SEARCH, {"filter": {"ownerId": "user:bob"}}, principal=ALICE)
    assert reply.codes() == ["PERMISSION_DENIED"]


def test_staff_see_history_activations_and_orders():
    license, key = issue("pro-16", ALICE, order_line=lifecycle.OrderLineRef("order-1", "line-1"))
    activation.activate(license, "device-aaaa-0001")
    lifecycle.suspend_license(license.pk, reason="chargeback", actor="user:staff:1")
    data = gql(DETAIL, {"id": gid(license)}, principal=STAFF).data["license"]
    assert data["orderIds"] == ["order-1"]
    assert [a["deactivatedAt"] for a in data["activations"]] == [None]
    actions = [(e["action"], e["actor"], e["note"]) for e in data["events"]]
    assert actions[0][0] == "issued" and actions[-1] == ("suspended", "user:staff:1", "chargeback")
    last = data["events"][-1]
    assert json.loads(last["before"])["status"] == "active"
    assert json.loads(last["after"])["status"] == "suspended"
    # the owner sees the license and its devices, not the history
    owner = gql(DETAIL, {"id": gid(license)}, principal=ALICE).data["license"]
    assert owner["events"] is None and owner["orderIds"] is None
    assert len(owner["activations"]) == 1


REVEAL = "mutation($id: ID!) { licenseKeyReveal(id: $id) { errors { code } key } }"


def test_revealing_a_key_is_recorded():
    license, key = issue("pro-16", ALICE)
    assert (
        gql(REVEAL, {"id": gid(license)}, principal=STAFF).payload("licenseKeyReveal")["key"] == key
    )
    event = license.events.order_by("pk").last()
    assert (event.action, event.actor) == ("key_revealed", "user:staff:1")


@pytest.mark.parametrize("principal", [ALICE, BOB])
def test_everyone_else_is_denied_every_staff_action(principal):
    license, _ = issue("pro-16", ALICE)
    id = gid(license)
    for document, name in [
        (REVEAL, "licenseKeyReveal"),
        (EXTEND, "extendLicense"),
        (RESET, "licenseActivationsReset"),
        (RESEND, "licenseKeysResend"),
        (ENTITLEMENT, "licenseEntitlementIssue"),
    ]:
        variables = {"id": id, "termDays": 30, "reason": "x", "fingerprint": "device-aaaa-0001"}
        reply = gql(document, variables, principal=principal)
        assert reply.codes(name) == ["PERMISSION_DENIED"], name
    assert list(license.events.values_list("action", flat=True)) == ["issued"]


EXTEND = """
mutation($id: ID!, $termDays: Int, $maintenanceDays: Int, $reason: String!) {
  extendLicense(id: $id, termDays: $termDays, maintenanceDays: $maintenanceDays,
                reason: $reason) {
    errors { field code } license { status termExpiresAt maintenanceExpiresAt revision }
  }
}"""


def test_extend_the_term_and_maintenance_with_a_reason():
    license, _ = issue("cloud-8", ALICE)  # annual
    term = license.term_expires_at
    payload = gql(
        EXTEND,
        {"id": gid(license), "termDays": 30, "maintenanceDays": 10, "reason": "outage credit"},
        principal=STAFF,
    ).payload("extendLicense")
    license.refresh_from_db()
    assert license.term_expires_at == term + timedelta(days=30)
    assert payload["license"]["revision"] == 2
    event = license.events.order_by("pk").last()
    assert (event.action, event.note) == ("extended", "outage credit")
    assert event.before["term_expires_at"] != event.after["term_expires_at"]


def test_extending_an_expired_license_reactivates_it():
    license, _ = issue("cloud-8", ALICE)
    past = timezone.now() - timedelta(days=3)
    License.objects.filter(pk=license.pk).update(term_expires_at=past, status="expired")
    reply = gql(EXTEND, {"id": gid(license), "termDays": 10, "reason": "goodwill"}, principal=STAFF)
    assert reply.payload("extendLicense")["license"]["status"] == "ACTIVE"


@pytest.mark.parametrize(
    "variables, code",
    [
        ({"termDays": 10, "reason": " "}, "REQUIRED"),
        ({"reason": "why"}, "REQUIRED"),
        ({"termDays": -1, "reason": "why"}, "INVALID"),
        ({"termDays": 99999, "reason": "why"}, "INVALID"),
    ],
)
def test_extend_refusals(variables, code):
    license, _ = issue("cloud-8", ALICE)
    reply = gql(EXTEND, {"id": gid(license), **variables}, principal=STAFF)
    assert reply.codes("extendLicense") == [code]


def test_a_perpetual_term_is_not_extended_and_revoked_stays_revoked():
    perpetual, _ = issue("pro-16", ALICE)
    reply = gql(EXTEND, {"id": gid(perpetual), "termDays": 5, "reason": "x"}, principal=STAFF)
    assert reply.codes("extendLicense") == ["NOT_RENEWABLE"]
    lifecycle.revoke_license(perpetual.pk)
    reply = gql(
        EXTEND, {"id": gid(perpetual), "maintenanceDays": 5, "reason": "x"}, principal=STAFF
    )
    assert reply.codes("extendLicense") == ["LICENSE_REVOKED"]


RESET = """
mutation($id: ID!, $activationId: ID, $reason: String) {
  licenseActivationsReset(id: $id, activationId: $activationId, reason: $reason) {
    errors { field code } freed license { activationCount }
  }
}"""


def test_reset_one_then_all_activations_beyond_the_deactivation_limit(settings):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "DEACTIVATION_LIMIT": 0}
    license, _ = issue("pro-16", ALICE)
    License.objects.filter(pk=license.pk).update(max_activations=3)
    for n in range(3):
        activation.activate(license, f"device-aaaa-000{n}")
    first = Activation.objects.order_by("pk").first()
    one = gql(
        RESET,
        {"id": gid(license), "activationId": to_global_id("LicenseActivation", first.pk)},
        principal=STAFF,
    ).payload("licenseActivationsReset")
    assert (one["freed"], one["license"]["activationCount"]) == (1, 2)
    again = gql(
        RESET,
        {"id": gid(license), "activationId": to_global_id("LicenseActivation", first.pk)},
        principal=STAFF,
    )
    assert again.codes("licenseActivationsReset") == ["NOT_FOUND"]
    rest = gql(RESET, {"id": gid(license), "reason": "new hardware"}, principal=STAFF).payload(
        "licenseActivationsReset"
    )
    assert (rest["freed"], rest["license"]["activationCount"]) == (2, 0)
    events = list(license.events.filter(action="activations_reset").order_by("pk"))
    assert len(events) == 2 and events[1].note.startswith("new hardware (2 device(s) freed")


RESEND = "mutation($id: ID!) { licenseKeysResend(id: $id) { errors { code } recipient } }"


def test_resend_the_key_to_its_owner_each_time_asked():
    license, key = issue("pro-16", ALICE)
    for _ in range(2):
        payload = gql(RESEND, {"id": gid(license)}, principal=STAFF).payload("licenseKeysResend")
        assert payload["recipient"] == "alice@example.com"
    assert len(mail.outbox) == 2 and key in mail.outbox[0].body
    assert license.events.filter(action="keys_resent").count() == 2


def test_resend_without_an_address_or_when_mail_fails(settings):
    nobody, _ = issue("pro-16", ALICE)
    License.objects.filter(pk=nobody.pk).update(owner_email="")
    assert gql(RESEND, {"id": gid(nobody)}, principal=STAFF).codes("licenseKeysResend") == [
        "REQUIRED"
    ]
    settings.EMAIL_BACKEND = "tests.api.test_dashboard_api.FailingBackend"
    license, _ = issue("pro-16", ALICE)
    reply = gql(RESEND, {"id": gid(license)}, principal=STAFF)
    assert reply.codes("licenseKeysResend") == ["EMAIL_FAILED"]
    assert not LicenseEvent.objects.filter(action="keys_resent").exists()


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


ENTITLEMENT = """
mutation($id: ID!, $fingerprint: String!) {
  licenseEntitlementIssue(id: $id, fingerprint: $fingerprint) {
    errors { field code } filename content
  }
}"""


def test_staff_download_an_offline_entitlement():
    license, _ = issue("pro-16", ALICE)
    payload = gql(
        ENTITLEMENT, {"id": gid(license), "fingerprint": "device-aaaa-0001"}, principal=STAFF
    ).payload("licenseEntitlementIssue")
    assert payload["filename"].startswith(f"license-{license.key_hint}-")
    assert json.loads(payload["content"])["kid"]
    assert license.activations.count() == 1
    lifecycle.suspend_license(license.pk)
    reply = gql(
        ENTITLEMENT, {"id": gid(license), "fingerprint": "device-aaaa-0001"}, principal=STAFF
    )
    assert reply.codes("licenseEntitlementIssue") == ["LICENSE_NOT_ACTIVE"]
