"""A paid line that cannot be applied is never silent (issue 9: two unpaid orders upgrading the
same key were both paid; the second was refused at fulfillment and nobody was told)."""

import pytest
from django.core import mail

from saleor_license_plugin.fulfillment.host import PlainHost
from saleor_license_plugin.fulfillment.pipeline import fulfill
from saleor_license_plugin.licensing import holds
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import HoldState, OutboxMessage, PendingChange
from tests.factories import issue
from tests.fulfillment.payloads import LineInput, order

pytestmark = pytest.mark.django_db
ALICE = Principal("user:alice", "alice@example.com")


class PaymentsHost(PlainHost):
    """A host with payments and order notes, recording what it was asked to do (inside
    Saleor: saleor_host.orders.SaleorTaskHost, exercised in tests/saleor)."""

    can_refund = True

    def __init__(self, refuse=False):
        self.refunds, self.notes, self.refuse = [], [], refuse

    def refund_line(self, order_id, line_id):
        if self.refuse:
            raise ConnectionError("gateway down")
        self.refunds.append((order_id, line_id))

    def note_on_order(self, order_id, text):
        self.notes.append((order_id, text))


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "STAFF_EMAILS": ["ops@shop.example"]}
    mail.outbox = []


def two_upgrades(alice, now):
    license = issue("pro-8", alice, now)
    line = [LineInput("pro-16", LineAction.UPGRADE, license.display_key())]
    return order("first", ALICE, line, now), order("second", ALICE, line, now)


def test_the_second_paid_upgrade_is_refunded_noted_and_told_once(alice, now):
    first, second = two_upgrades(alice, now)
    host = PaymentsHost()
    fulfill(first, host)
    mail.outbox = []  # the keys email of the first order
    results = fulfill(second, host)
    assert results[0].error["code"] == "NOT_AN_UPGRADE"
    assert host.refunds == [("second", "second-l0")]
    assert len(host.notes) == 1 and "NOT_AN_UPGRADE" in host.notes[0][1]
    assert "refunded" in host.notes[0][1]
    staff = [m for m in mail.outbox if m.to == ["ops@shop.example"]]
    buyer = [m for m in mail.outbox if m.to == ["alice@example.com"]]
    assert len(staff) == 1 and "second" in staff[0].subject
    assert len(buyer) == 1 and "refunded" in buyer[0].body

    fulfill(second, host)  # redelivered
    assert len(host.refunds) == 1 and len(host.notes) == 1 and len(mail.outbox) == 2


def test_a_refund_that_fails_is_said_so_and_left_for_retry(alice, now):
    first, second = two_upgrades(alice, now)
    fulfill(first, PaymentsHost())
    mail.outbox = []
    host = PaymentsHost(refuse=True)
    fulfill(second, host)
    assert "NOT refunded" in host.notes[0][1]
    assert OutboxMessage.objects.get(key="order:second:line:second-l0:refund").status == "failed"
    staff = next(m for m in mail.outbox if m.to == ["ops@shop.example"])
    assert "refund it in the Dashboard" in staff.body


def test_a_refund_that_succeeds_on_a_later_run_is_noted_and_told_once_more(alice, now):
    first, second = two_upgrades(alice, now)
    fulfill(first, PaymentsHost())
    mail.outbox = []
    host = PaymentsHost(refuse=True)
    fulfill(second, host)
    host.refuse = False  # the gateway is back; the task runs again (retry, reconciliation)
    fulfill(second, host)
    assert host.refunds == [("second", "second-l0")]
    assert [("NOT refunded" in text, "was refunded" in text) for _, text in host.notes] == [
        (True, False),
        (False, True),
    ]
    staff = [m.body for m in mail.outbox if m.to == ["ops@shop.example"]]
    buyer = [m.body for m in mail.outbox if m.to == ["alice@example.com"]]
    assert len(staff) == 2 and "refund it in the Dashboard" in staff[0]
    assert "was refunded" in staff[1]
    assert len(buyer) == 2 and "has been refunded" in buyer[1]

    fulfill(second, host)  # and again: nothing more
    assert len(host.refunds) == 1 and len(host.notes) == 2 and len(mail.outbox) == 4


def test_without_payments_staff_are_told_to_refund(alice, now, settings):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "AUTO_REFUND_FAILED_LINES": False}
    first, second = two_upgrades(alice, now)
    host = PaymentsHost()
    fulfill(first, host)
    fulfill(second, host)
    assert host.refunds == [] and "NOT refunded" in host.notes[0][1]


def test_paying_settles_the_orders_holds_and_withdrawing_releases_them(alice, now):
    from saleor_license_plugin.fulfillment.orders import withdraw_order

    license = issue("pro-8", alice, now)
    holds.take(license.pk, "upgrade", holds.order_holder("paid"), now)
    first, _ = two_upgrades(alice, now)
    fulfill(first.__class__(**{**first.__dict__, "order_id": "paid"}), PaymentsHost())
    assert PendingChange.objects.get(holder="order:paid").state == HoldState.APPLIED
    holds.take(license.pk, "service:hot_standby", holds.order_holder("gone"), now)
    withdraw_order("gone", reason="cancelled")
    assert PendingChange.objects.get(holder="order:gone").state == HoldState.RELEASED


class DashboardHost(PaymentsHost):
    """Staff addresses set in the Dashboard (the host's settings), not in Django's."""

    def license_settings(self):
        from dataclasses import replace

        from saleor_license_plugin.conf import from_django_settings

        return replace(from_django_settings(), staff_emails=("support@shop.example",))


def test_staff_are_told_at_the_dashboards_address_in_the_worker(alice, now):
    first, second = two_upgrades(alice, now)
    fulfill(first, PaymentsHost())
    mail.outbox = []
    fulfill(second, DashboardHost())
    staff = [m for m in mail.outbox if "second" in m.subject and m.to != ["alice@example.com"]]
    assert [m.to for m in staff] == [["support@shop.example"]]
