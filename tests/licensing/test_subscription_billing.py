"""Subscription billing's domain (issue 11): period arithmetic, closing periods once, the
post-paid peak with late and out-of-order reports, the free first period, the grace."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from saleor_license_plugin.fulfillment.orders import apply_order, expire_due
from saleor_license_plugin.licensing import subscription_billing as billing
from saleor_license_plugin.licensing import subscriptions
from saleor_license_plugin.licensing.catalog import PlanPeriod
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import (
    BillKind,
    BillStatus,
    License,
    LicenseEvent,
    LicenseStatus,
    Subscription,
    SubscriptionBill,
    SubscriptionStatus,
)
from tests.factories import CATALOG
from tests.fulfillment.payloads import LineInput, order

ALICE = Principal("user:alice", "alice@example.com")


def subscribe(name, now, variant="plan-m", mode="postpaid", **kw):
    details = {"mode": mode, "domain": f"{name}.acme.example", "data_location": "eu-west"}
    line = LineInput(variant, LineAction.SUBSCRIBE, subscription=details)
    apply_order(order(name, ALICE, [line], now, **kw), now=now)
    return Subscription.objects.select_related("license").get(domain=details["domain"])


def refreshed(subscription):
    return Subscription.objects.select_related("license").get(pk=subscription.pk)


@pytest.mark.parametrize(
    "anchor, period, after, expected",
    [
        # Month ends clamp and never drift: Jan 31 -> Feb 28 -> Mar 31 -> Apr 30.
        ("2026-01-31T09:00", "monthly", "2026-01-31T09:00", "2026-02-28T09:00"),
        ("2026-01-31T09:00", "monthly", "2026-02-28T09:00", "2026-03-31T09:00"),
        ("2026-01-31T09:00", "monthly", "2026-03-31T09:00", "2026-04-30T09:00"),
        # Leap years: Feb 29 -> Feb 28 in common years, Feb 29 again in the next leap year.
        ("2028-01-31T00:00", "monthly", "2028-01-31T00:00", "2028-02-29T00:00"),
        ("2028-02-29T00:00", "yearly", "2028-02-29T00:00", "2029-02-28T00:00"),
        ("2028-02-29T00:00", "yearly", "2031-02-28T00:00", "2032-02-29T00:00"),
        # Year end.
        ("2026-12-15T12:00", "monthly", "2026-12-15T12:00", "2027-01-15T12:00"),
        # A boundary already passed (a run that was down) gives the next one after ``after``.
        ("2026-01-10T00:00", "monthly", "2026-04-20T00:00", "2026-05-10T00:00"),
    ],
)
def test_period_ends_count_whole_periods_from_the_start(anchor, period, after, expected):
    def utc(text):
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    assert billing.next_period_end(utc(anchor), period, utc(after)) == utc(expected)


def test_periods_are_counted_in_utc_whatever_the_zone_of_the_start():
    # Jan 31 23:30 in Berlin is Jan 31 22:30 UTC: the month is January's, the end Feb 28.
    berlin = timezone(timedelta(hours=1))
    anchor = datetime(2026, 1, 31, 23, 30, tzinfo=berlin)
    end = billing.next_period_end(anchor, PlanPeriod.MONTHLY, anchor)
    assert end == datetime(2026, 2, 28, 22, 30, tzinfo=UTC)
    # And a start on Feb 1 00:30 in Berlin is still January in UTC: clamped to Feb 28.
    early = datetime(2026, 2, 1, 0, 30, tzinfo=berlin)
    assert billing.next_period_end(early, "monthly", early) == datetime(
        2026, 2, 28, 23, 30, tzinfo=UTC
    )


@pytest.mark.django_db
def test_a_prepaid_period_closes_once_billing_the_next_period_in_advance(now):
    subscription = subscribe("pre", now, mode="prepaid")
    end = subscription.current_period_end
    assert billing.close_periods(CATALOG, now=end - timedelta(seconds=1)).rolled == 0
    report = billing.close_periods(CATALOG, now=end)
    assert (report.rolled, report.bills) == (1, 1)
    [bill] = SubscriptionBill.objects.all()
    assert bill.kind == BillKind.IN_ADVANCE and bill.status == BillStatus.DUE
    assert (bill.period_start, bill.period_end) == (end, subscriptions.add_months(now, 2))
    assert (bill.amount, bill.currency) == (Decimal("30.000"), "EUR")
    subscription = refreshed(subscription)
    assert subscription.current_period_start == end
    assert subscription.license.term_expires_at == subscription.current_period_end
    assert LicenseEvent.objects.filter(
        license=subscription.license, action=billing.PERIOD_STARTED
    ).exists()
    again = billing.close_periods(CATALOG, now=end + timedelta(hours=1))
    assert again.rolled == 0 and SubscriptionBill.objects.count() == 1


@pytest.mark.django_db
def test_the_postpaid_bill_is_the_periods_peak_with_late_and_out_of_order_reports(now, settings):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "USAGE_LATE_DAYS": 2}
    subscription = subscribe("post", now)
    end = subscription.current_period_end
    day = timedelta(days=1)
    # Out of order: day 3 first, then day 1, then a lower count for day 3.
    subscriptions.report_usage(subscription, 40, now + 3 * day, now=now + 4 * day)
    subscriptions.report_usage(subscription, 12, now + day, now=now + 4 * day)
    subscriptions.report_usage(subscription, 9, now + 3 * day, now=now + 5 * day)
    billing.close_periods(CATALOG, now=end)
    [bill] = SubscriptionBill.objects.all()
    assert bill.kind == BillKind.IN_ARREARS and bill.status == BillStatus.ACCRUING
    assert (bill.period_start, bill.period_end) == (now, end)
    subscription = refreshed(subscription)
    # Late reports for the ended period still count, and the new period's go to the new one.
    subscriptions.report_usage(subscription, 55, end - day, now=end + day)
    subscriptions.report_usage(subscription, 70, end + day, now=end + day)
    assert billing.finalize_arrears(CATALOG, now=end + day).issued == 0  # still open
    report = billing.finalize_arrears(CATALOG, now=end + 2 * day)
    assert report.issued == 1
    bill.refresh_from_db()
    assert (bill.users, bill.amount, bill.status) == (55, Decimal("137.500"), BillStatus.DUE)
    with pytest.raises(LicenseError) as closed:
        subscriptions.report_usage(subscription, 99, end - day, now=end + 2 * day)
    assert closed.value.code is LicenseErrorCode.PERIOD_CLOSED
    assert billing.finalize_arrears(CATALOG, now=end + 3 * day).issued == 0


@pytest.mark.django_db
def test_a_postpaid_period_without_users_costs_nothing(now):
    subscription = subscribe("idle", now)
    end = subscription.current_period_end
    billing.close_periods(CATALOG, now=end)
    assert billing.finalize_arrears(CATALOG, now=end + timedelta(days=10)).free == 1
    bill = SubscriptionBill.objects.get()
    assert (bill.users, bill.amount, bill.status) == (0, Decimal("0.000"), BillStatus.PAID)


@pytest.mark.django_db
def test_a_free_first_period_converts_to_paid_at_its_end(now):
    post = subscribe("trial-post", now, variant="plan-free")
    pre = subscribe("trial-pre", now, variant="plan-free", mode="prepaid")
    assert post.status == pre.status == SubscriptionStatus.TRIALING
    subscriptions.report_usage(post, 30, now + timedelta(days=2), now=now + timedelta(days=2))
    report = billing.close_periods(CATALOG, now=post.current_period_end)
    assert report.converted == 2
    post, pre = refreshed(post), refreshed(pre)
    assert post.status == pre.status == SubscriptionStatus.ACTIVE
    # Pre-paid: the second period is billed in advance; post-paid: the free period never is.
    [bill] = SubscriptionBill.objects.all()
    assert bill.subscription_id == pre.pk and bill.kind == BillKind.IN_ADVANCE
    billing.finalize_arrears(CATALOG, now=post.current_period_end + timedelta(days=30))
    assert SubscriptionBill.objects.filter(subscription=post).count() == 0


@pytest.mark.django_db
def test_cancelled_by_the_customer_it_ends_at_the_period_end(now):
    from saleor_license_plugin.licensing import plan_changes

    trial = subscribe("trial-cancel", now, variant="plan-free")
    post = subscribe("post-cancel", now)
    pre = subscribe("pre-no-renew", now, mode="prepaid")
    for subscription in (trial, post):
        plan_changes.set_cancel_at_period_end(subscription.pk, True, actor="user:alice", now=now)
    Subscription.objects.filter(pk=pre.pk).update(auto_renew=False)  # pre-paid: no next period
    subscriptions.report_usage(post, 7, now + timedelta(days=1), now=now + timedelta(days=1))
    end = post.current_period_end
    report = billing.close_periods(CATALOG, now=end)
    assert report.cancelled == 3 and report.rolled == 0
    trial, post, pre = refreshed(trial), refreshed(post), refreshed(pre)
    assert {trial.status, post.status, pre.status} == {SubscriptionStatus.CANCELLED}
    # Nothing for the free trial nor the pre-paid one; the post-paid one owes its last period.
    [bill] = SubscriptionBill.objects.all()
    assert bill.subscription_id == post.pk and bill.kind == BillKind.IN_ARREARS
    billing.finalize_arrears(CATALOG, now=end + timedelta(days=5))
    bill.refresh_from_db()
    assert (bill.users, bill.amount) == (7, Decimal("17.500"))
    # The entitlements run to the period's end and expire (not revoked: nothing went wrong).
    assert post.license.status == LicenseStatus.ACTIVE
    assert expire_due(now=end + timedelta(minutes=1))["expired"] == 3
    assert License.objects.get(pk=post.license_id).status == LicenseStatus.EXPIRED


@pytest.mark.django_db
def test_a_scheduled_downgrade_applies_before_the_next_period_is_billed(now):
    from saleor_license_plugin.licensing import plan_changes

    subscription = subscribe("downgrade", now, variant="plan-m-pro", mode="prepaid")
    plan_changes.schedule_downgrade(
        subscription.pk, CATALOG, "plan-m-basic", actor="user:alice", now=now
    )
    billing.close_periods(CATALOG, now=subscription.current_period_end)
    subscription = refreshed(subscription)
    assert (subscription.plan_variant, subscription.status) == ("plan-m-basic", "active")
    [bill] = SubscriptionBill.objects.all()
    assert bill.amount == Decimal("15.000")  # the next period at the cheaper plan
    # The downgrade's revision survives the roll-over's own (the license row is re-read).
    license = subscription.license
    assert license.product_code == "plan-m-basic" and license.capacity == 20
    assert license.term_expires_at == subscription.current_period_end


@pytest.mark.django_db
def test_unpaid_past_due_then_suspended_then_cancelled_and_late_payment_reactivates(now, settings):
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "SUBSCRIPTION_GRACE_DAYS": 5,
        "SUBSCRIPTION_CANCEL_DAYS": 10,
    }
    first = subscribe("late-payer", now, mode="prepaid")
    never = subscribe("never-pays", now, mode="prepaid")
    end = first.current_period_end
    billing.close_periods(CATALOG, now=end)
    SubscriptionBill.objects.update(status=BillStatus.UNPAID)
    assert billing.mark_past_due([first.pk, never.pk]) == 2
    day = timedelta(days=1)
    assert billing.apply_grace(now=end + 4 * day).suspended == []
    report = billing.apply_grace(now=end + 5 * day)
    assert sorted(report.suspended) == sorted([first.pk, never.pk])
    first, never = refreshed(first), refreshed(never)
    assert first.status == SubscriptionStatus.SUSPENDED
    assert first.license.status == LicenseStatus.SUSPENDED  # what verification reports
    assert billing.apply_grace(now=end + 6 * day).suspended == []  # once
    # A payment arriving later reactivates it.
    bill = SubscriptionBill.objects.get(subscription=first)
    assert billing.settle(bill.pk, order_id="order-9", now=end + 7 * day) is True
    assert billing.settle(bill.pk, order_id="order-9", now=end + 7 * day) is False
    first = refreshed(first)
    assert first.status == SubscriptionStatus.ACTIVE
    assert first.license.status == LicenseStatus.ACTIVE
    actions = list(
        LicenseEvent.objects.filter(license=first.license).values_list("action", flat=True)
    )
    assert actions.count("suspended") == actions.count("reinstated") == 1
    assert actions.count(billing.BILL_PAID) == 1
    # The other one is cancelled after the second grace: license revoked, bill written off.
    report = billing.apply_grace(now=end + 15 * day)
    assert report.cancelled == [never.pk]
    never = refreshed(never)
    assert never.status == SubscriptionStatus.CANCELLED
    assert never.license.status == LicenseStatus.REVOKED
    assert SubscriptionBill.objects.get(subscription=never).status == BillStatus.WRITTEN_OFF


@pytest.mark.django_db
def test_a_live_subscriptions_license_is_not_expired_while_its_period_waits_to_roll(now):
    subscription = subscribe("waiting", now, mode="prepaid")
    end = subscription.current_period_end
    assert expire_due(now=end + timedelta(minutes=30))["expired"] == 0
    assert License.objects.get(pk=subscription.license_id).status == LicenseStatus.ACTIVE
    billing.close_periods(CATALOG, now=end + timedelta(hours=1))
    assert refreshed(subscription).license.term_expires_at == subscriptions.add_months(now, 2)


@pytest.mark.django_db
def test_a_subscription_paid_after_its_suspended_period_ended_restarts_without_billing_it(
    now, settings
):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "SUBSCRIPTION_GRACE_DAYS": 1}
    subscription = subscribe("long-suspended", now, mode="prepaid")
    end = subscription.current_period_end
    billing.close_periods(CATALOG, now=end)
    SubscriptionBill.objects.update(status=BillStatus.UNPAID)
    billing.mark_past_due([subscription.pk])
    billing.apply_grace(now=end + timedelta(days=2))
    second_end = refreshed(subscription).current_period_end
    # Suspended periods do not roll (nor bill) ...
    assert billing.close_periods(CATALOG, now=second_end + timedelta(days=10)).rolled == 0
    # ... and a payment 10 days after the paid-for period ended restarts it from then.
    paid_at = second_end + timedelta(days=10)
    billing.settle(SubscriptionBill.objects.get().pk, order_id="late", now=paid_at)
    subscription = refreshed(subscription)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.current_period_start == paid_at
    assert subscription.current_period_end == subscriptions.add_months(now, 3)
    assert subscription.license.status == LicenseStatus.ACTIVE
    assert subscription.license.term_expires_at == subscription.current_period_end
    assert billing.close_periods(CATALOG, now=paid_at + timedelta(hours=1)).rolled == 0
    assert SubscriptionBill.objects.count() == 1


@pytest.mark.django_db
def test_a_postpaid_period_is_billed_at_the_plan_it_ran_on_after_a_downgrade(now):
    from saleor_license_plugin.licensing import plan_changes

    subscription = subscribe("post-downgrade", now, variant="plan-m-pro")
    day = now + timedelta(days=1)
    subscriptions.report_usage(subscription, 10, day, now=day)
    plan_changes.schedule_downgrade(
        subscription.pk, CATALOG, "plan-m-basic", actor="user:alice", now=now
    )
    end = subscription.current_period_end
    billing.close_periods(CATALOG, now=end)
    assert refreshed(subscription).plan_variant == "plan-m-basic"  # from the next period on
    billing.finalize_arrears(CATALOG, now=end + timedelta(days=5))
    bill = SubscriptionBill.objects.get()
    assert (bill.plan_variant, bill.users, bill.amount) == ("plan-m-pro", 10, Decimal("30.000"))
