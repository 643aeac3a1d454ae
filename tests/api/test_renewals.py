"""Renewal links become checkouts; customers opt out of reminders through the API or the link
in every reminder (issue 10)."""

import pytest
from django.test import RequestFactory
from django.utils import timezone

from saleor_license_plugin.http.router import dispatch
from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.ports import AddedLine
from saleor_license_plugin.licensing.renewals import (
    ExpiryKind,
    make_link_token,
    make_unsubscribe_token,
)
from saleor_license_plugin.models import CustomerPreference

from .helpers import ALICE, BOB, CATALOG, gql, issue

pytestmark = pytest.mark.django_db

RENEW = """mutation($token: String!) { renewalCheckoutCreate(token: $token) {
  checkoutId lines { id quantity quote { action total { amount currency } } }
  errors { field code message } } }"""
OPT = """mutation($out: Boolean!) { licenseRemindersSet(optOut: $out) {
  remindersOptedOut errors { code } } }"""
PREFERENCE = "{ licenseReminderPreference { optedOut } }"


class Checkouts:
    """A host with checkouts, recording what it was asked to create (inside Saleor:
    saleor_host.checkout.SaleorCheckoutHost, run in tests/saleor)."""

    def __init__(self):
        self.created = []

    def add_license_lines(self, checkout_id, principal, lines, *, client_ip):
        raise AssertionError("not used here")

    def create_checkout(self, principal, lines, *, client_ip):
        from saleor_license_plugin.licensing.checkout_lines import prepare_line

        priced = [
            prepare_line(line, principal, CATALOG, timezone.now(), client_ip=client_ip)[1]
            for line in lines
        ]
        self.created.append((principal.user_id, lines))
        return "Q2hlY2tvdXQ6MQ==", [AddedLine(f"line-{i}", 1, p) for i, p in enumerate(priced)]


def test_a_link_becomes_a_checkout_with_a_renewal_line_per_license():
    cloud, _ = issue("cloud-8", ALICE)
    pro, _ = issue("pro-8", ALICE, maintenance_years=1)
    revoked, _ = issue("cloud-8", ALICE)
    lifecycle.revoke_license(revoked.pk)
    token = make_link_token(
        ALICE.user_id,
        [
            (cloud.pk, ExpiryKind.TERM),
            (pro.pk, ExpiryKind.MAINTENANCE),
            (revoked.pk, ExpiryKind.TERM),
        ],
    )
    host = Checkouts()
    payload = gql(RENEW, {"token": token}, principal=ALICE, checkout=host).payload(
        "renewalCheckoutCreate"
    )
    assert [line["quote"]["action"] for line in payload["lines"]] == [
        "RENEW_LICENSE",
        "RENEW_MAINTENANCE",
    ]
    [(owner, lines)] = host.created
    assert owner == ALICE.user_id and all(line.years == 1 for line in lines)


def link(pk):
    return make_link_token(ALICE.user_id, [(pk, ExpiryKind.TERM)])


@pytest.mark.parametrize(
    "make, principal, code",
    [
        (
            lambda pk: make_link_token(ALICE.user_id, [(pk, ExpiryKind.TERM)]),
            BOB,
            "PERMISSION_DENIED",
        ),
        (
            lambda pk: make_link_token(ALICE.user_id, [(pk, ExpiryKind.TERM)])[:-3] + "xyz",
            ALICE,
            "INVALID",
        ),
        (lambda pk: "nonsense", ALICE, "INVALID"),
        (
            lambda pk: make_link_token(ALICE.user_id, [(pk + 999, ExpiryKind.TERM)]),
            ALICE,
            "NOTHING_TO_RENEW",
        ),
    ],
)
def test_bad_links_get_coded_errors(make, principal, code):
    cloud, _ = issue("cloud-8", ALICE)
    reply = gql(RENEW, {"token": make(cloud.pk)}, principal=principal, checkout=Checkouts())
    assert reply.codes("renewalCheckoutCreate") == [code]


def test_an_expired_link_says_so():
    cloud, _ = issue("cloud-8", ALICE)
    stale = make_stale_token(ALICE.user_id, cloud.pk, days=31)  # RENEWAL_LINK_DAYS is 30
    reply = gql(RENEW, {"token": stale}, principal=ALICE, checkout=Checkouts())
    assert reply.codes("renewalCheckoutCreate") == ["LINK_EXPIRED"]


def make_stale_token(owner, pk, days):
    import time
    from unittest import mock

    with mock.patch.object(time, "time", return_value=time.time() - days * 86400):
        return make_link_token(owner, [(pk, ExpiryKind.TERM)])


def test_without_checkouts_the_standalone_server_answers_not_found():
    cloud, _ = issue("cloud-8", ALICE)
    token = make_link_token(ALICE.user_id, [(cloud.pk, ExpiryKind.TERM)])
    assert gql(RENEW, {"token": token}, principal=ALICE).codes("renewalCheckoutCreate") == [
        "NOT_FOUND"
    ]


def test_customers_turn_reminders_off_and_on():
    assert gql(PREFERENCE, principal=ALICE).data["licenseReminderPreference"]["optedOut"] is False
    assert gql(OPT, {"out": True}, principal=ALICE).payload("licenseRemindersSet")[
        "remindersOptedOut"
    ]
    assert gql(PREFERENCE, principal=ALICE).data["licenseReminderPreference"]["optedOut"] is True
    assert gql(OPT, {"out": True}).codes("licenseRemindersSet") == ["PERMISSION_DENIED"]


def test_the_unsubscribe_link_asks_before_it_unsubscribes():
    token = make_unsubscribe_token(ALICE.user_id)
    rf = RequestFactory()
    path = "reminders/unsubscribe/"
    page = dispatch(rf.get(f"/{path}", {"token": token}), path, principal=ALICE, catalog=CATALOG)
    assert page.status_code == 200 and b"<form" in page.content
    assert not CustomerPreference.objects.exists()  # a mail scanner's GET changes nothing
    done = dispatch(
        rf.post(f"/{path}?token={token}", {"List-Unsubscribe": "One-Click"}),
        path,
        principal=ALICE,
        catalog=CATALOG,
    )
    assert done.status_code == 200
    assert CustomerPreference.objects.get(owner_id=ALICE.user_id).reminders_opted_out
    bad = dispatch(rf.post(f"/{path}?token=forged"), path, principal=ALICE, catalog=CATALOG)
    assert bad.status_code == 400
