"""The reconciliation heals lost events in both directions, pages with a bounded number of
queries, and changes nothing when run again. The host's order list is the one seam (inside
Saleor it is saleor_host.orders.SaleorOrderSource, run in tests/saleor)."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saleor_license_plugin.fulfillment import outbox
from saleor_license_plugin.fulfillment.host import PlainHost
from saleor_license_plugin.fulfillment.orders import apply_order
from saleor_license_plugin.fulfillment.reconcile import (
    PaidOrder,
    WithdrawnOrder,
    reconcile,
)
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import License, LicenseEvent, LicenseStatus, OutboxMessage
from tests.factories import issue
from tests.fulfillment.payloads import LineInput, order

pytestmark = pytest.mark.django_db
ALICE = Principal("user:alice", "alice@example.com")


class Orders:
    """A host's order list: paid orders and withdrawn ones, served in keyset pages."""

    def __init__(self, paid=(), withdrawn=()):
        self.paid = [PaidOrder(p.to_dict(), cursor=str(i)) for i, p in enumerate(paid, 1)]
        self.withdrawn = [
            WithdrawnOrder(o, r, cursor=str(i)) for i, (o, r) in enumerate(withdrawn, 1)
        ]
        self.pages = 0

    def _page(self, rows, after, limit):
        self.pages += 1
        start = int(after or 0)
        return rows[start : start + limit]

    def paid_orders(self, *, since, after, limit):
        return self._page(self.paid, after, limit)

    def withdrawn_orders(self, *, since, after, limit):
        return self._page(self.withdrawn, after, limit)


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []


def test_a_paid_order_whose_event_was_lost_gets_its_licenses_once(now):
    lost = order("lost", ALICE, [LineInput("pro-8", LineAction.NEW, quantity=2)], now)
    done = order("done", ALICE, [LineInput("std-8", LineAction.NEW)], now)
    apply_order(done, now=now)  # this one's event arrived
    orders = Orders(paid=[lost, done])

    dry = reconcile(orders, PlainHost(), since=now, dry_run=True)
    assert dry.fulfilled == ["lost"] and License.objects.filter(origin_order_id="lost").count() == 0

    report = reconcile(orders, PlainHost(), since=now)
    assert report.fulfilled == ["lost"]
    issued = License.objects.filter(origin_order_id="lost")
    assert issued.count() == 2 and {lic.status for lic in issued} == {LicenseStatus.ACTIVE}
    assert len(mail.outbox) == 1 and "lost" in mail.outbox[0].subject
    assert LicenseEvent.objects.filter(action="reconciled", license__in=issued).count() == 2

    again = reconcile(orders, PlainHost(), since=now)
    assert again.fulfilled == [] and issued.count() == 2 and len(mail.outbox) == 1


def test_licenses_issued_before_payment_are_activated_when_the_paid_event_was_lost(now):
    unpaid = order(
        "grace", ALICE, [LineInput("pro-8", LineAction.NEW)], now, paid=False, grace_days=7
    )
    apply_order(unpaid, now=now)
    paid = order("grace", ALICE, [LineInput("pro-8", LineAction.NEW)], now)
    assert reconcile(Orders(paid=[paid]), PlainHost(), since=now).fulfilled == ["grace"]
    assert License.objects.get(origin_order_id="grace").status == LicenseStatus.ACTIVE


def test_a_line_whose_change_was_lost_is_applied(alice, now):
    annual = issue("cloud-8", alice, now)
    renewal = order(
        "renew", ALICE, [LineInput("cloud-8", LineAction.RENEW_LICENSE, annual.display_key())], now
    )
    before = annual.term_expires_at
    assert reconcile(Orders(paid=[renewal]), PlainHost(), since=now).fulfilled == ["renew"]
    annual.refresh_from_db()
    assert annual.term_expires_at.year == before.year + 1
    assert reconcile(Orders(paid=[renewal]), PlainHost(), since=now).fulfilled == []


def test_a_failed_line_is_left_to_staff_not_retried(now):
    broken = order("broken", ALICE, [LineInput("pro-8", LineAction.NEW)], now)
    failed = PaidOrder(broken.to_dict(), frozenset({"broken-l0"}), cursor="1")

    class One(Orders):
        def paid_orders(self, *, since, after, limit):
            return [] if after else [failed]

    assert reconcile(One(), PlainHost(), since=now).fulfilled == []


def test_a_cancelled_order_whose_withdrawal_was_lost_is_withdrawn(now):
    sold = order("sold", ALICE, [LineInput("pro-8", LineAction.NEW)], now)
    apply_order(sold, now=now)
    orders = Orders(withdrawn=[("sold", "cancelled")])
    assert reconcile(orders, PlainHost(), since=now).withdrawn == ["sold"]
    assert License.objects.get(origin_order_id="sold").status == LicenseStatus.REVOKED
    assert reconcile(orders, PlainHost(), since=now).withdrawn == []


def test_pages_cost_a_bounded_number_of_queries(now):
    """Classifying a page costs the same queries for 5 orders as for 50 (all fulfilled)."""

    def queries_for(count):
        payloads = [
            order(f"q{count}-{i}", ALICE, [LineInput("std-8", LineAction.NEW)], now)
            for i in range(count)
        ]
        for payload in payloads:
            apply_order(payload, now=now)
        orders = Orders(paid=payloads)
        with CaptureQueriesContext(connection) as captured:
            report = reconcile(orders, PlainHost(), since=now, page_size=count)
        assert report.fulfilled == [] and report.paid_checked == count
        return len(captured)

    assert queries_for(5) == queries_for(50)


def test_a_failed_keys_email_is_sent_by_the_next_run(now, settings):
    sold = order("mailfail", ALICE, [LineInput("pro-8", LineAction.NEW)], now)
    apply_order(sold, now=now)
    OutboxMessage.objects.create(
        key="order:mailfail:keys",
        kind="license_keys",
        recipient="alice@example.com",
        status="failed",
        last_error="SMTPServerDisconnected",
    )
    report = reconcile(Orders(), PlainHost(), since=now)
    assert report.emails_retried == ["order:mailfail:keys"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]
    assert outbox.due_for_retry() == []


@pytest.mark.django_db(transaction=True)
def test_two_reconciliations_at_once_fulfil_once(now):
    import threading

    lost = order("race", ALICE, [LineInput("pro-8", LineAction.NEW, quantity=3)], now)
    errors = []

    def run():
        try:
            reconcile(Orders(paid=[lost]), PlainHost(), since=now)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert License.objects.filter(origin_order_id="race").count() == 3
    assert len(mail.outbox) == 1
