"""A partner's order for one of its end customers (issue 13): the licenses are the customer's,
managed by the partner; the customer is checked again at fulfillment; the keys go to the
partner, the customer or both, once each; a NEW line naming a trial key converts the trial."""

from datetime import timedelta

import pytest

from saleor_license_plugin.fulfillment import notify
from saleor_license_plugin.fulfillment.orders import apply_order
from saleor_license_plugin.fulfillment.tasks import fulfill_order
from saleor_license_plugin.licensing import partners
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import License, LicenseKind, OutboxMessage
from tests.factories import issue
from tests.fulfillment.payloads import LineInput, order

pytestmark = pytest.mark.django_db
PARTNER = Principal("user:partner-a", "sales@a.example")
OTHER_PARTNER = Principal("user:partner-b", "sales@b.example")


@pytest.fixture
def acme():
    partner, _ = partners.set_partner(PARTNER.user_id, {"email": PARTNER.email})
    return partners.create_customer(partner, {"company": "Acme", "email": "it@acme.example"})


def test_new_licenses_of_an_order_for_a_customer_are_the_customers(acme, now):
    payload = order(
        "p1",
        PARTNER,
        [LineInput("pro-8", LineAction.NEW, quantity=2)],
        now,
        customer=acme.public_id,
    )
    [result] = apply_order(payload, now=now)
    licenses = License.objects.filter(pk__in=result.licenses)
    assert licenses.count() == 2
    for license in licenses:
        assert (license.owner_id, license.owner_email, license.reseller_id) == (
            acme.owner_id,
            "it@acme.example",
            PARTNER.user_id,
        )
        assert license.customer_id == acme.pk and license.end_customer == {}
        assert PARTNER.can_see(license)


def test_fulfillment_checks_the_customer_again(acme, now):
    """The order names a customer the buyer does not (or no longer) manage: its NEW lines
    fail visibly (staff told, line refunded), other lines still apply."""
    partners.set_partner(OTHER_PARTNER.user_id, {})
    existing = issue("pro-8", partners.owner_for(acme), now)
    lines = [
        LineInput("pro-8", LineAction.NEW),
        LineInput("pro-8", LineAction.RENEW_MAINTENANCE, existing.display_key()),
    ]
    payload = order("p2", PARTNER, lines, now, customer=acme.public_id)
    partners.move_customer(
        acme, partners.set_partner(OTHER_PARTNER.user_id, {})[0], actor="staff", now=now
    )
    new, renewal = apply_order(payload, now=now)
    assert new.error == {"code": "NOT_FOUND", "message": "No such customer."}
    assert renewal.error is None  # the renewal line was checked when paid for; it applies


@pytest.mark.parametrize(
    "keys_to, expected",
    [
        ("partner", ["sales@a.example"]),
        ("customer", ["it@acme.example"]),
        ("both", ["it@acme.example", "sales@a.example"]),
    ],
)
def test_keys_go_to_the_partner_the_customer_or_both_once_each(
    acme, now, mailoutbox, keys_to, expected
):
    payload = order(
        f"p-{keys_to}",
        PARTNER,
        [LineInput("pro-8", LineAction.NEW)],
        now,
        customer=acme.public_id,
        keys_to=keys_to,
        customer_email=acme.email,
    )
    fulfill_order.apply(args=(payload.to_dict(),)).get()
    fulfill_order.apply(args=(payload.to_dict(),)).get()  # redelivered
    assert sorted(address for mail in mailoutbox for address in mail.to) == expected
    key = License.objects.get(origin_order_id=f"p-{keys_to}").display_key()
    assert all(key in mail.body for mail in mailoutbox)


def test_a_failed_customer_email_is_resent_to_the_customer(acme, now, mailoutbox):
    payload = order(
        "p3",
        PARTNER,
        [LineInput("pro-8", LineAction.NEW)],
        now,
        customer=acme.public_id,
        keys_to="customer",
        customer_email=acme.email,
    )
    apply_order(payload, now=now)
    key = notify.message_key("p3", notify.CUSTOMER)
    assert notify.resend_keys(key, acme.email)
    assert [mail.to for mail in mailoutbox] == [["it@acme.example"]]
    assert OutboxMessage.objects.get(key=key).recipient == acme.email


def test_a_new_line_naming_a_trial_key_converts_the_trial(acme, now):
    trial = issue("pro-8", partners.owner_for(acme), now, kind=LicenseKind.TRIAL, trial_days=30)
    key = trial.display_key()
    line = LineInput("cloud-8", LineAction.NEW, key, years=2, maintenance_years=1)
    payload = order("p4", PARTNER, [line], now + timedelta(days=1))
    [result] = apply_order(payload, now=now)
    assert result.error is None and result.licenses == [trial.pk]
    trial.refresh_from_db()
    assert (trial.kind, trial.edition, trial.display_key()) == (
        LicenseKind.STANDARD,
        "Cloud",
        key,
    )
    assert trial.term_expires_at == now.replace(year=now.year + 2)
    assert License.objects.count() == 1  # the same license, not a new one
    [again] = apply_order(payload, now=now + timedelta(hours=1))  # redelivered: no change
    assert again.error is None and again.licenses == [trial.pk]
    assert trial.events.filter(action="converted").count() == 1
