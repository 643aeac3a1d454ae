"""Cloud/SaaS subscriptions (issue 11): plans in the catalog, the SUBSCRIBE line, periods,
usage peaks, estimates; and a paid SUBSCRIBE line starts a subscription once."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from saleor_license_plugin.fulfillment.orders import apply_order
from saleor_license_plugin.licensing import subscriptions
from saleor_license_plugin.licensing.catalog import PaymentMode, PlanPeriod, PlanTerms
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import License, Subscription, SubscriptionStatus
from tests.factories import CATALOG
from tests.fulfillment.payloads import LineInput, order
from tests.licensing.test_checkout_lines import prepare_line

ALICE = Principal("user:alice", "alice@example.com")
DETAILS = {"mode": "postpaid", "domain": "pbx.acme.example", "data_location": "eu-west"}


def code_of(call):
    with pytest.raises(LicenseError) as info:
        call()
    return info.value.code, info.value.field


@pytest.mark.parametrize(
    "start, months, expected",
    [
        (datetime(2026, 1, 31, 9, tzinfo=UTC), 1, datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (datetime(2028, 1, 31, 9, tzinfo=UTC), 1, datetime(2028, 2, 29, 9, tzinfo=UTC)),
        (datetime(2026, 12, 15, tzinfo=UTC), 1, datetime(2027, 1, 15, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), 12, datetime(2029, 2, 28, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 4, 30, tzinfo=UTC)),
    ],
)
def test_months_clamp_to_the_month_end(start, months, expected):
    assert subscriptions.add_months(start, months) == expected


def test_plans_are_read_from_the_catalog():
    terms = CATALOG.get("plan-m").terms
    assert isinstance(terms, PlanTerms)
    assert terms.period is PlanPeriod.MONTHLY and terms.per_user_price == Decimal("2.50")
    assert terms.data_locations == ("eu-west", "us-east")
    assert terms.modes == (PaymentMode.PREPAID, PaymentMode.POSTPAID)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, field",
    [
        ({"mode": "monthly"}, "subscription.mode"),
        ({"domain": "not a domain"}, "subscription.domain"),
        ({"domain": "x"}, "subscription.domain"),
        ({"data_location": "mars"}, "subscription.dataLocation"),
        ({"admin_username": "root; drop"}, "subscription.adminUsername"),
        ({"email": "nope"}, "subscription.email"),
    ],
)
def test_bad_details_are_coded_errors_naming_the_input(change, field, now):
    line = LineInput("plan-m", LineAction.SUBSCRIBE, subscription={**DETAILS, **change})
    assert code_of(lambda: prepare_line(line, ALICE, CATALOG, now)) == (
        LicenseErrorCode.INVALID,
        field,
    )


@pytest.mark.django_db
def test_subscribe_quotes_the_first_period_or_nothing(now):
    def total(vid, mode):
        line = LineInput(vid, LineAction.SUBSCRIBE, subscription={**DETAILS, "mode": mode})
        return prepare_line(line, ALICE, CATALOG, now)[1].quote.total.amount

    assert total("plan-m", "prepaid") == Decimal("30.00")
    assert total("plan-m", "postpaid") == Decimal("0.00")  # billed in arrears
    assert total("plan-free", "prepaid") == Decimal("0.00")  # postponed billing


@pytest.mark.django_db
def test_a_paid_subscribe_line_starts_one_subscription_with_its_entitlement(now):
    line = [LineInput("plan-m", LineAction.SUBSCRIBE, subscription=DETAILS)]
    paid = order("sub1", ALICE, line, now)
    [result] = apply_order(paid, now=now)
    assert result.error is None
    subscription = Subscription.objects.get()
    assert (subscription.mode, subscription.status) == ("postpaid", SubscriptionStatus.ACTIVE)
    assert subscription.current_period_end == subscriptions.add_months(now, 1)
    license = subscription.license
    assert (
        license.kind == "subscription"
        and license.term_expires_at == subscription.current_period_end
    )
    assert license.capacity == 100 and license.owner_id == ALICE.user_id
    apply_order(paid, now=now + timedelta(hours=1))  # redelivered
    assert Subscription.objects.count() == 1 and License.objects.count() == 1
    # The domain is taken now: another order for it is refused when the line is added.
    again = LineInput("plan-y", LineAction.SUBSCRIBE, subscription=DETAILS)
    assert code_of(lambda: prepare_line(again, ALICE, CATALOG, now)) == (
        LicenseErrorCode.DOMAIN_TAKEN,
        "subscription.domain",
    )


@pytest.mark.django_db
def test_a_free_first_period_starts_trialing_and_costs_nothing_yet(now):
    line = [
        LineInput("plan-free", LineAction.SUBSCRIBE, subscription={**DETAILS, "mode": "prepaid"})
    ]
    apply_order(order("sub2", ALICE, line, now), now=now)
    subscription = Subscription.objects.get()
    assert subscription.status == SubscriptionStatus.TRIALING
    item = CATALOG.get("plan-free")
    assert subscriptions.estimate(subscription, item.terms, item.price).amount == 0


@pytest.mark.django_db
def test_usage_keeps_the_days_peak_late_and_out_of_order_reports_included(now):
    line = [LineInput("plan-m", LineAction.SUBSCRIBE, subscription=DETAILS)]
    apply_order(order("sub3", ALICE, line, now), now=now)
    subscription = Subscription.objects.get()
    day1 = now + timedelta(days=1)
    day2 = now + timedelta(days=2)
    later = now + timedelta(days=3)
    assert subscriptions.report_usage(subscription, 12, day1, now=later).peak_users == 12
    assert subscriptions.report_usage(subscription, 9, day1, now=later).peak_users == 12
    subscriptions.report_usage(subscription, 40, day2, now=later)
    subscriptions.report_usage(subscription, 15, day1 + timedelta(hours=2), now=later)
    assert (
        subscriptions.peak(
            subscription, subscription.current_period_start, subscription.current_period_end
        )
        == 40
    )
    item = CATALOG.get("plan-m")
    assert subscriptions.estimate(subscription, item.terms, item.price).amount == Decimal(
        "100.00"
    )  # 40 peak users x 2.50
    with pytest.raises(LicenseError):
        subscriptions.report_usage(subscription, -1, day1, now=later)
    with pytest.raises(LicenseError):
        subscriptions.report_usage(subscription, 5, later + timedelta(days=1), now=later)


@pytest.mark.django_db
def test_reports_for_a_closed_period_are_refused(now, settings):
    line = [LineInput("plan-m", LineAction.SUBSCRIBE, subscription=DETAILS)]
    apply_order(order("sub4", ALICE, line, now), now=now)
    subscription = Subscription.objects.get()
    before = subscription.current_period_start - timedelta(days=1)
    late = subscription.current_period_start + timedelta(days=4)  # USAGE_LATE_DAYS is 3
    with pytest.raises(LicenseError) as info:
        subscriptions.report_usage(subscription, 5, before, now=late)
    assert info.value.code is LicenseErrorCode.PERIOD_CLOSED
