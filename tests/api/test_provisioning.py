"""The API after a subscription is ordered (issue 11): provisioning results and the credentials
e-mails, plan changes, cancellation, auto-renew, the domain; each through the one access rule."""

import logging

import pytest
from django.core import mail
from django.utils import timezone

from saleor_license_plugin.fulfillment import provisioning as delivery
from saleor_license_plugin.fulfillment.host import PlainHost
from saleor_license_plugin.fulfillment.orders import apply_order
from saleor_license_plugin.fulfillment.pipeline import fulfill
from saleor_license_plugin.graphql.core import to_global_id
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import (
    LicenseEvent,
    OutboxMessage,
    ProvisioningRequest,
    Subscription,
)
from tests.factories import CATALOG
from tests.fulfillment.payloads import LineInput, order

from .helpers import ALICE, BOB, STAFF, gql

pytestmark = pytest.mark.django_db
PASSWORD = "Xy7-initial-Password-9q"
PARTNER = Principal("user:partner", "sales@partner.example")

PROVISIONED = """mutation($id: ID!, $url: String!, $user: String!, $password: String!) {
  subscriptionProvisioned(id: $id, loginUrl: $url, username: $user, password: $password) {
    credentialsSent
    subscription { provisioning { status loginUrl username } }
    errors { field code message } } }"""
FAILED = """mutation($id: ID!, $reason: String!) {
  subscriptionProvisioningFailed(id: $id, reason: $reason) {
    subscription { provisioning { status failureReason } } errors { field code } } }"""
DOWNGRADE = """mutation($id: ID!, $variant: ID) {
  subscriptionDowngradeSchedule(id: $id, variantId: $variant) {
    subscription { plan pendingPlan pendingPlanVariantId } errors { field code } } }"""
CANCEL = """mutation($id: ID!, $cancel: Boolean!) {
  subscriptionCancelAtPeriodEnd(id: $id, cancel: $cancel) {
    subscription { cancelAtPeriodEnd } errors { field code } } }"""
AUTO_RENEW = """mutation($id: ID!, $enabled: Boolean!) {
  subscriptionAutoRenewSet(id: $id, enabled: $enabled) {
    subscription { autoRenew } errors { field code } } }"""
DOMAIN = """mutation($id: ID!, $domain: String!, $reason: String!) {
  subscriptionDomainChange(id: $id, domain: $domain, reason: $reason) {
    subscription { domain } errors { field code } } }"""
UPGRADE = """mutation($id: ID!, $variant: ID!) {
  subscriptionUpgradeCheckoutCreate(id: $id, variantId: $variant) {
    checkoutId errors { field code } } }"""


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []


def ordered(buyer=PARTNER, customer_too=True, mode="prepaid", domain="pbx.acme.example"):
    """A subscription a partner ordered (manual provisioning), its global id."""
    details = {
        "mode": mode,
        "domain": domain,
        "data_location": "eu-west",
        "email": "ada@acme.example",
        "send_credentials_to_customer": customer_too,
    }
    line = [LineInput("plan-m", LineAction.SUBSCRIBE, subscription=details)]
    fulfill(order(f"o-{domain}", buyer, line, timezone.now()), PlainHost())
    mail.outbox = []  # the keys email (order ID and key)
    subscription = Subscription.objects.get(domain=domain)
    return subscription, to_global_id("Subscription", subscription.pk)


def provisioned(sid, principal=STAFF):
    variables = {"id": sid, "url": "https://pbx.acme.example/login", "user": "Admin"}
    return gql(PROVISIONED, {**variables, "password": PASSWORD}, principal=principal)


def test_ready_sends_the_login_to_the_partner_and_the_customer_once_and_wipes_it(caplog):
    caplog.set_level(logging.DEBUG)
    subscription, sid = ordered()
    reply = provisioned(sid).payload("subscriptionProvisioned")
    assert reply["credentialsSent"] == 2
    assert reply["subscription"]["provisioning"] == {
        "status": "ready",
        "loginUrl": "https://pbx.acme.example/login",
        "username": "Admin",
    }
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@acme.example", "sales@partner.example"]
    assert all(
        PASSWORD in m.body and "https://pbx.acme.example/login" in m.body for m in mail.outbox
    )
    request = ProvisioningRequest.objects.get()
    assert request.credentials_sealed == ""  # sent: nothing left to decrypt
    again = provisioned(sid)
    assert again.codes("subscriptionProvisioned") == ["INVALID_TRANSITION"]
    delivery.sweep()
    assert len(mail.outbox) == 2
    # The password is in no event, no outbox row, no log line, no error.
    history = LicenseEvent.objects.filter(license=subscription.license_id)
    assert {"provisioning_requested", "provisioned", "credentials_emailed"} <= {
        e.action for e in history
    }
    stored = [str(e.before) + str(e.after) + e.note for e in history]
    stored += [str(vars(row)) for row in OutboxMessage.objects.all()]
    assert not any(PASSWORD in text for text in stored)
    assert PASSWORD not in caplog.text and PASSWORD not in str(again.body)


def test_the_customer_gets_the_login_only_if_the_order_said_so():
    _, sid = ordered(customer_too=False)
    provisioned(sid).payload("subscriptionProvisioned")
    assert [m.to for m in mail.outbox] == [["sales@partner.example"]]


def test_a_failed_email_keeps_the_sealed_login_until_the_sweep_sends_it(settings):
    _, sid = ordered()
    settings.EMAIL_BACKEND = "tests.api.test_provisioning.RefusingBackend"
    assert provisioned(sid).payload("subscriptionProvisioned")["credentialsSent"] == 0
    request = ProvisioningRequest.objects.get()
    assert request.credentials_sealed and PASSWORD not in request.credentials_sealed
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert delivery.sweep()["emails"] == 2
    request.refresh_from_db()
    assert request.credentials_sealed == "" and len(mail.outbox) == 2


def test_an_unsent_login_is_wiped_after_its_ttl(settings):
    _, sid = ordered()
    settings.EMAIL_BACKEND = "tests.api.test_provisioning.RefusingBackend"
    provisioned(sid)
    request = ProvisioningRequest.objects.get()
    later = request.completed_at + timezone.timedelta(hours=73)
    assert delivery.sweep(now=later)["wiped"] == 1
    request.refresh_from_db()
    assert request.credentials_sealed == ""


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def test_only_staff_report_provisioning_and_bad_input_is_coded():
    _, sid = ordered()
    assert provisioned(sid, principal=PARTNER).codes("subscriptionProvisioned") == [
        "PERMISSION_DENIED"
    ]
    bad = gql(
        PROVISIONED,
        {"id": sid, "url": "javascript:alert(1)", "user": "Admin", "password": PASSWORD},
        principal=STAFF,
    )
    [error] = bad.data["subscriptionProvisioned"]["errors"]
    assert (error["field"], error["code"]) == ("loginUrl", "INVALID")
    empty = gql(
        PROVISIONED,
        {"id": sid, "url": "https://x.example", "user": "A", "password": ""},
        principal=STAFF,
    )
    assert empty.codes("subscriptionProvisioned") == ["INVALID"]
    failed = gql(FAILED, {"id": sid, "reason": "no capacity in eu-west"}, principal=STAFF)
    assert failed.payload("subscriptionProvisioningFailed")["subscription"]["provisioning"] == {
        "status": "failed",
        "failureReason": "no capacity in eu-west",
    }
    provisioned(sid).payload("subscriptionProvisioned")  # fixed later: ready after all
    wrong = gql(
        PROVISIONED,
        {"id": "nonsense", "url": "https://x.example", "user": "A", "password": "p"},
        principal=STAFF,
    )
    assert wrong.codes("subscriptionProvisioned") == ["INVALID_ID"]


def test_plan_changes_follow_the_access_rule():
    subscription, sid = ordered(buyer=ALICE)
    assert gql(
        DOWNGRADE, {"id": sid, "variant": "plan-m-basic"}, principal=BOB, catalog=CATALOG
    ).codes("subscriptionDowngradeSchedule") == ["NOT_FOUND"]
    assert gql(CANCEL, {"id": sid, "cancel": True}).codes("subscriptionCancelAtPeriodEnd") == [
        "PERMISSION_DENIED"
    ]
    scheduled = gql(
        DOWNGRADE, {"id": sid, "variant": "plan-m-basic"}, principal=ALICE, catalog=CATALOG
    ).payload("subscriptionDowngradeSchedule")
    assert scheduled["subscription"] == {
        "plan": "Cloud PBX",
        "pendingPlan": "Cloud PBX Basic",
        "pendingPlanVariantId": "plan-m-basic",
    }
    dearer = gql(DOWNGRADE, {"id": sid, "variant": "plan-m-pro"}, principal=ALICE, catalog=CATALOG)
    assert dearer.codes("subscriptionDowngradeSchedule") == ["NOT_A_DOWNGRADE"]
    withdrawn = gql(DOWNGRADE, {"id": sid, "variant": None}, principal=STAFF, catalog=CATALOG)
    assert withdrawn.payload("subscriptionDowngradeSchedule")["subscription"]["pendingPlan"] is None
    cancel = gql(CANCEL, {"id": sid, "cancel": True}, principal=ALICE)
    assert cancel.payload("subscriptionCancelAtPeriodEnd")["subscription"] == {
        "cancelAtPeriodEnd": True
    }
    renew = gql(AUTO_RENEW, {"id": sid, "enabled": False}, principal=ALICE)
    assert renew.payload("subscriptionAutoRenewSet")["subscription"] == {"autoRenew": False}
    actors = set(
        LicenseEvent.objects.filter(license=subscription.license_id).values_list("actor", flat=True)
    )
    assert {"user:user:alice", "user:staff:1"} <= actors  # ApiContext.actor


def test_the_partner_managing_the_customer_changes_its_plan():
    from tests.api.helpers import make_customer, make_partner

    partner = make_partner(PARTNER)
    customer = make_customer(partner)
    details = {"mode": "prepaid", "domain": "cust.acme.example", "data_location": "us-east"}
    line = [LineInput("plan-m", LineAction.SUBSCRIBE, subscription=details)]
    apply_order(
        order("o-c", PARTNER, line, timezone.now(), customer=customer.public_id),
        now=timezone.now(),
    )
    sid = to_global_id("Subscription", Subscription.objects.get().pk)
    reply = gql(CANCEL, {"id": sid, "cancel": True}, principal=PARTNER)
    assert reply.payload("subscriptionCancelAtPeriodEnd")["subscription"]["cancelAtPeriodEnd"]
    assert gql(CANCEL, {"id": sid, "cancel": False}, principal=BOB).codes(
        "subscriptionCancelAtPeriodEnd"
    ) == ["NOT_FOUND"]


def test_only_staff_change_the_domain():
    _, sid = ordered(buyer=ALICE)
    variables = {"id": sid, "domain": "new.acme.example", "reason": "typo at ordering"}
    assert gql(DOMAIN, variables, principal=ALICE).codes("subscriptionDomainChange") == [
        "PERMISSION_DENIED"
    ]
    changed = gql(DOMAIN, variables, principal=STAFF).payload("subscriptionDomainChange")
    assert changed["subscription"] == {"domain": "new.acme.example"}
    ordered(buyer=ALICE, domain="other.acme.example")
    taken = gql(DOMAIN, {**variables, "domain": "other.acme.example"}, principal=STAFF)
    assert taken.codes("subscriptionDomainChange") == ["DOMAIN_TAKEN"]


def test_an_upgrade_checkout_needs_a_host_with_checkouts():
    _, sid = ordered(buyer=ALICE)
    reply = gql(UPGRADE, {"id": sid, "variant": "plan-m-pro"}, principal=ALICE, catalog=CATALOG)
    assert reply.codes("subscriptionUpgradeCheckoutCreate") == ["NOT_FOUND"]
