"""The subscription billing run (issue 11): each period billed and charged once, whatever the
schedulers; saved cards charged off-session like auto-renewals, retried, else left unpaid with
one email; a bill paid through a Saleor order settles once."""

import threading
from dataclasses import asdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection

from saleor_license_plugin.fulfillment.autorenew import ChargeResult
from saleor_license_plugin.fulfillment.host import PlainHost
from saleor_license_plugin.fulfillment.orders import OrderLinePayload, OrderPayload, apply_order
from saleor_license_plugin.fulfillment.subscription_billing import run_subscription_billing
from saleor_license_plugin.licensing.checkout_lines import bill_intent
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import (
    BillStatus,
    LicenseEvent,
    OutboxMessage,
    Subscription,
    SubscriptionBill,
    SubscriptionStatus,
)
from tests.factories import CATALOG, METADATA
from tests.fulfillment.payloads import LineInput, order

ALICE = Principal("user:alice", "alice@example.com")
STRIPE = "saleor_license_plugin.payments.stripe"


class Billing(PlainHost):
    """A host whose card network answers each charge with the next outcome (default paid)."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.requests = []
        self.lock = threading.Lock()

    def catalog(self):
        return CATALOG

    def charge_bill(self, request):
        with self.lock:
            self.requests.append(request)
            outcome = self.outcomes.pop(0) if self.outcomes else "paid"
            number = len(self.requests)
        return ChargeResult(outcome, order_id=f"o-{number}" if outcome == "paid" else "")


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []


def subscribe(name, now, mode="prepaid", card=True, variant="plan-m"):
    details = {"mode": mode, "domain": f"{name}.acme.example", "data_location": "eu-west"}
    line = LineInput(variant, LineAction.SUBSCRIBE, subscription=details)
    gateway = {"payment_gateway": STRIPE, "channel": "main"} if card else {}
    apply_order(order(name, ALICE, [line], now, **gateway), now=now)
    return Subscription.objects.select_related("license").get(domain=details["domain"])


@pytest.mark.django_db
def test_a_saved_card_pays_the_bill_off_session_once(now):
    subscription = subscribe("card", now)
    assert subscription.license.auto_renew_gateway == STRIPE  # saved at the purchase
    end = subscription.current_period_end
    host = Billing("paid")
    report = run_subscription_billing(host, now=end)
    assert report.paid == ["o-1"] and report.close.bills == 1
    [request] = host.requests
    assert (request.gateway, request.channel, request.owner_id) == (STRIPE, "main", ALICE.user_id)
    assert (request.amount, request.currency) == (Decimal("30.000"), "EUR")
    bill = SubscriptionBill.objects.get()
    assert (bill.status, bill.order_id, bill.attempts) == (BillStatus.PAID, "o-1", 1)
    assert Subscription.objects.get().status == SubscriptionStatus.ACTIVE
    # Nothing more to do on the next runs, until the next period ends.
    again = run_subscription_billing(host, now=end + timedelta(days=2))
    assert again.charged == 0 and len(host.requests) == 1


@pytest.mark.django_db
def test_a_declined_card_is_retried_then_left_unpaid_with_one_email(now):
    subscription = subscribe("declined", now)
    end = subscription.current_period_end
    host = Billing("declined", "declined", "declined", "declined")
    run_subscription_billing(host, now=end)
    bill = SubscriptionBill.objects.get()
    assert bill.status == BillStatus.DUE and bill.next_attempt_at == end + timedelta(days=1)
    assert Subscription.objects.get().status == SubscriptionStatus.PAST_DUE
    run_subscription_billing(host, now=end + timedelta(hours=12))  # not yet
    assert len(host.requests) == 1
    moment = end
    for wait in (1, 3, 7):
        moment += timedelta(days=wait)
        run_subscription_billing(host, now=moment)
    assert len(host.requests) == 4
    bill.refresh_from_db()
    assert bill.status == BillStatus.UNPAID and bill.attempts == 4
    [email] = mail.outbox
    assert email.to == [ALICE.email] and f"SB-{bill.pk}" in email.body
    assert "30.000 EUR" in email.body and "declined" in email.body
    run_subscription_billing(host, now=moment + timedelta(days=1))
    assert len(host.requests) == 4 and len(mail.outbox) == 1


@pytest.mark.django_db
def test_without_a_card_the_bill_waits_for_the_customer_with_one_email(now):
    subscription = subscribe("offline", now, card=False)
    end = subscription.current_period_end
    host = Billing()
    report = run_subscription_billing(host, now=end)
    assert host.requests == [] and report.unpaid == 1
    bill = SubscriptionBill.objects.get()
    assert bill.status == BillStatus.UNPAID
    assert Subscription.objects.get().status == SubscriptionStatus.PAST_DUE
    assert len(mail.outbox) == 1 and "no card on file" in mail.outbox[0].body
    run_subscription_billing(host, now=end + timedelta(days=1))
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.filter(kind="subscription_bill").count() == 1


@pytest.mark.django_db
def test_a_card_that_needs_the_customer_leaves_the_bill_to_the_customer(now):
    subscription = subscribe("3ds", now)
    run_subscription_billing(Billing("action_required"), now=subscription.current_period_end)
    assert SubscriptionBill.objects.get().status == BillStatus.UNPAID
    assert "confirm this payment" in mail.outbox[0].body


@pytest.mark.django_db
def test_an_unpaid_bill_paid_through_a_saleor_order_settles_once(now):
    """The customer pays the bill (a checkout with the bill line, any gateway; or staff mark
    the order paid): the paid order's fulfillment settles the bill, once."""
    subscription = subscribe("pay-later", now, card=False)
    end = subscription.current_period_end
    run_subscription_billing(Billing(), now=end)
    bill = SubscriptionBill.objects.select_related("subscription").get()
    intent = bill_intent(bill, ALICE.user_id, end)
    line = OrderLinePayload("pl-1", asdict(intent), METADATA["plan-m"])
    paid = OrderPayload("pay-1", ALICE.user_id, ALICE.email, (line,), currency="EUR")
    [result] = apply_order(paid, now=end + timedelta(days=2))
    assert result.error is None and result.licenses == [subscription.license_id]
    apply_order(paid, now=end + timedelta(days=3))  # redelivered
    bill.refresh_from_db()
    assert (bill.status, bill.order_id) == (BillStatus.PAID, "pay-1")
    assert Subscription.objects.get().status == SubscriptionStatus.ACTIVE
    paid_events = LicenseEvent.objects.filter(
        license_id=subscription.license_id, action="bill_paid"
    )
    assert [event.order_line_id for event in paid_events] == ["pl-1"]  # reconcile sees it


@pytest.mark.django_db
def test_an_attempt_whose_worker_died_resumes_with_the_same_reference(now):
    subscription = subscribe("dies", now)

    class Dies(Billing):
        def charge_bill(self, request):
            self.requests.append(request)
            raise SystemExit  # the worker is killed mid-charge

    dying = Dies()
    end = subscription.current_period_end
    with pytest.raises(SystemExit):
        run_subscription_billing(dying, now=end)
    assert SubscriptionBill.objects.get().status == BillStatus.CHARGING
    host = Billing("paid")
    assert run_subscription_billing(host, now=end + timedelta(minutes=5)).charged == 0  # leased
    run_subscription_billing(host, now=end + timedelta(hours=1))
    assert host.requests[0].reference == dying.requests[0].reference
    bill = SubscriptionBill.objects.get()
    assert bill.status == BillStatus.PAID and bill.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_bill_and_charge_every_period_once(now):
    """Four schedulers at once (threads, each its own PostgreSQL connection) over a mix of
    pre-paid and post-paid subscriptions, with and without cards: one bill per period, one
    charge per card bill, one email per offline bill."""
    subs = [
        subscribe(f"c{index}", now, mode=("prepaid", "postpaid")[index % 2], card=index % 3 > 0)
        for index in range(24)
    ]
    for subscription in subs[1::2]:  # the post-paid ones: some usage
        subscription.usage.create(day=now.date() + timedelta(days=3), peak_users=4)
    end = subs[0].current_period_end
    late = end + timedelta(days=4)  # past the late window: post-paid bills are issued too
    host = Billing()
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            run_subscription_billing(host, now=late, page_size=5)
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
    # A scheduler that skipped a locked page leaves it to the next run: one more finishes.
    run_subscription_billing(host, now=late + timedelta(minutes=1))
    bills = list(SubscriptionBill.objects.select_related("subscription__license"))
    assert len(bills) == 24
    assert len({bill.subscription_id for bill in bills}) == 24
    charged = [request.bill_id for request in host.requests]
    assert sorted(charged) == sorted(
        bill.pk for bill in bills if bill.subscription.license.auto_renew_gateway
    )
    offline = [bill for bill in bills if not bill.subscription.license.auto_renew_gateway]
    assert len(mail.outbox) == len(offline) == 8
    assert {bill.status for bill in offline} == {BillStatus.UNPAID}
    assert all(bill.amount == Decimal("10.000") for bill in bills if bill.users is not None)
    rolled = Subscription.objects.filter(current_period_start=end).count()
    assert rolled == 24


class ChannelHost(Billing):
    """Only the channel the subscriptions were bought in prices the plan."""

    def catalog(self):
        return None

    def catalog_for_channel(self, channel):
        return CATALOG if channel == "main" else None


@pytest.mark.django_db
def test_bills_are_priced_in_the_channel_the_subscription_was_bought_in(now, caplog):
    bought = subscribe("in-main", now)
    elsewhere = subscribe("in-other", now)
    elsewhere.license.auto_renew_channel = "other"
    elsewhere.license.save(update_fields=["auto_renew_channel"])
    report = run_subscription_billing(ChannelHost(), now=bought.current_period_end)
    assert report.close.bills == 1 and report.close.unpriced == 1
    assert SubscriptionBill.objects.get().subscription_id == bought.pk
    # Not priced: not rolled over either, and said so; the next run tries again.
    assert Subscription.objects.get(pk=elsewhere.pk).current_period_start == now
    assert "not billed" in caplog.text


@pytest.mark.django_db
def test_the_beat_task_and_the_command_run_the_same_billing(now, settings):
    from django.core.management import call_command

    from saleor_license_plugin.fulfillment.tasks import bill_subscriptions_task

    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "TASK_HOST": "tests.fulfillment.test_subscription_billing.Billing",
    }
    first = subscribe("task", now.replace(year=now.year - 1))  # its period ended long ago
    result = bill_subscriptions_task.run()
    assert (result["rolled"], result["bills"], len(result["paid"])) == (1, 1, 1)
    # The next period also ended long ago: the command bills it, once.
    call_command("subscription_billing")
    call_command("subscription_billing")
    assert SubscriptionBill.objects.filter(subscription=first).count() >= 2
    periods = list(
        SubscriptionBill.objects.filter(subscription=first).values_list("period_start", flat=True)
    )
    assert len(periods) == len(set(periods))


@pytest.mark.django_db
def test_the_reconciliation_sees_a_bill_paid_off_session_as_fulfilled(now):
    """The charge settles the bill before the order's own fulfillment runs (and without its
    line): the reconciliation must not take that order for unfulfilled, and a bill line whose
    bill is still unpaid is."""
    from saleor_license_plugin.fulfillment.reconcile import PaidOrder, unfulfilled

    subscription = subscribe("reconciled", now)
    run_subscription_billing(Billing("paid"), now=subscription.current_period_end)
    bill = SubscriptionBill.objects.select_related("subscription").get()
    intent = bill_intent(bill, ALICE.user_id, now)
    payload = OrderPayload(
        "o-1",
        ALICE.user_id,
        ALICE.email,
        (OrderLinePayload("b-1", asdict(intent), METADATA["plan-m"]),),
    ).to_dict()
    assert unfulfilled([PaidOrder(payload, frozenset(), cursor="1")]) == []
    SubscriptionBill.objects.update(status=BillStatus.UNPAID)
    assert len(unfulfilled([PaidOrder(payload, frozenset(), cursor="1")])) == 1


def staff_mail():
    return [email for email in mail.outbox if email.to == ["ops@shop.example"]]


@pytest.mark.django_db
def test_staff_are_told_once_when_a_bills_retries_run_out(now, settings):
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "STAFF_EMAILS": ["ops@shop.example"],
        "SUBSCRIPTION_GRACE_DAYS": 30,
    }
    subscription = subscribe("gave-up", now)
    end = subscription.current_period_end
    host = Billing("declined", "declined", "declined", "declined")
    moment = end
    for wait in (0, 1, 3):
        moment += timedelta(days=wait)
        run_subscription_billing(host, now=moment)
    assert staff_mail() == []  # declined, still being retried
    run_subscription_billing(host, now=moment + timedelta(days=7))
    run_subscription_billing(host, now=moment + timedelta(days=8))
    bill = SubscriptionBill.objects.get()
    [email] = staff_mail()
    assert f"SB-{bill.pk} was not collected" in email.subject
    assert "4 time(s)" in email.body and "declined" in email.body
    assert "30.000 EUR" in email.body and ALICE.email in email.body
    row = OutboxMessage.objects.get(key=f"subscription-bill:{bill.pk}:staff:gave-up")
    assert row.status == "sent" and row.recipient == "ops@shop.example"


@pytest.mark.django_db
def test_staff_are_told_once_of_a_suspension_and_a_cancellation_for_non_payment(now, settings):
    """Django's ADMINS when STAFF_EMAILS is empty; one email per bill and outcome, however
    many runs; an email the mail server refused is sent again by the next run."""
    settings.ADMINS = [("Ops", "ops@shop.example")]
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "SUBSCRIPTION_GRACE_DAYS": 5,
        "SUBSCRIPTION_CANCEL_DAYS": 10,
    }
    subscription = subscribe("never-pays", now, card=False)
    end = subscription.current_period_end
    host = Billing()
    day = timedelta(days=1)
    run_subscription_billing(host, now=end)
    assert staff_mail() == []  # no card: the customer pays; not a give-up
    run_subscription_billing(host, now=end + 4 * day)
    assert staff_mail() == []
    settings.EMAIL_BACKEND = "tests.fulfillment.test_subscription_billing.RefusingBackend"
    run_subscription_billing(host, now=end + 5 * day)  # suspended; the mail server refuses
    assert Subscription.objects.get().status == SubscriptionStatus.SUSPENDED
    assert staff_mail() == []
    bill = SubscriptionBill.objects.get()
    row = OutboxMessage.objects.get(key=f"subscription-bill:{bill.pk}:staff:suspended")
    assert row.status == "failed"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for days in (6, 7):
        run_subscription_billing(host, now=end + days * day)
    [suspended] = staff_mail()
    assert f"SB-{bill.pk} suspended the subscription" in suspended.subject
    assert "never-pays.acme.example" in suspended.body
    for days in (15, 16):
        run_subscription_billing(host, now=end + days * day)
    assert Subscription.objects.get().status == SubscriptionStatus.CANCELLED
    [_, cancelled] = staff_mail()
    assert f"SB-{bill.pk} cancelled the subscription" in cancelled.subject
    assert "written off" in cancelled.body


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


class DashboardHost(Billing):
    """Inside Saleor the host's settings are the Dashboard form's over the Django settings."""

    def __init__(self, form):
        super().__init__()
        self.form = form

    def license_settings(self):
        from saleor_license_plugin import conf

        return conf.from_dashboard(self.form, conf.from_django_settings())


@pytest.mark.django_db
def test_the_billing_run_applies_the_dashboards_grace_days(now):
    """Django's SUBSCRIPTION_GRACE_DAYS is 7; the Dashboard says 2, and the beat task (a
    Celery worker, outside any request) suspends after 2."""
    subscription = subscribe("dashboard-grace", now, card=False)
    end = subscription.current_period_end
    host = DashboardHost({"subscription_grace_days": "2", "subscription_cancel_days": "3"})
    run_subscription_billing(host, now=end)
    run_subscription_billing(host, now=end + timedelta(days=1))
    assert Subscription.objects.get().status == SubscriptionStatus.PAST_DUE
    report = run_subscription_billing(host, now=end + timedelta(days=2))
    assert report.grace.suspended == [subscription.pk]
    report = run_subscription_billing(host, now=end + timedelta(days=5))
    assert report.grace.cancelled == [subscription.pk]


@pytest.mark.django_db
def test_a_staff_email_claimed_by_a_worker_that_died_is_sent_by_a_later_run(
    now, settings, monkeypatch
):
    """The suspension and its email's claim commit together: a worker dying right after
    (before sending) leaves a claim that a later run, once its lease lapsed, sends once."""
    from saleor_license_plugin.fulfillment import subscription_billing as run

    settings.ADMINS = [("Ops", "ops@shop.example")]
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "SUBSCRIPTION_GRACE_DAYS": 2}
    subscription = subscribe("dies", now, card=False)
    end = subscription.current_period_end
    host = Billing()
    run_subscription_billing(host, now=end)
    suspended_at = end + timedelta(days=2)
    with monkeypatch.context() as patched:
        patched.setattr(run, "_send_staff_alert", lambda *args: False)  # died before sending
        run_subscription_billing(host, now=suspended_at)
    assert Subscription.objects.get().status == SubscriptionStatus.SUSPENDED
    bill = SubscriptionBill.objects.get()
    assert OutboxMessage.objects.get(key=f"subscription-bill:{bill.pk}:staff:suspended").status == (
        "claimed"
    )
    run_subscription_billing(host, now=suspended_at + timedelta(minutes=5))  # lease still held
    assert staff_mail() == []
    run_subscription_billing(host, now=suspended_at + timedelta(minutes=20))
    run_subscription_billing(host, now=suspended_at + timedelta(minutes=40))
    [email] = staff_mail()
    assert f"SB-{bill.pk} suspended the subscription" in email.subject
