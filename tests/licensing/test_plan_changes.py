"""Plan changes of a running subscription (issue 11): upgrade now (prorated, through a paid
PLAN_UPGRADE line), downgrade and cancel at the period's end, auto-renew, the domain."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from saleor_license_plugin.fulfillment.orders import apply_order
from saleor_license_plugin.licensing import plan_changes, subscriptions
from saleor_license_plugin.licensing.errors import LicenseError
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import LicenseEvent, Subscription, SubscriptionStatus
from tests.factories import CATALOG
from tests.fulfillment.payloads import LineInput, order

pytestmark = pytest.mark.django_db
ALICE = Principal("user:alice", "alice@example.com")
START = datetime(2026, 3, 1, 12, tzinfo=UTC)  # a 31-day period: March


def subscribe(mode="prepaid", variant="plan-m", domain="pbx.acme.example", at=START):
    details = {"mode": mode, "domain": domain, "data_location": "eu-west"}
    line = [LineInput(variant, LineAction.SUBSCRIBE, subscription=details)]
    apply_order(order(f"o-{domain}", ALICE, line, at), now=at)
    return Subscription.objects.get(domain=domain)


def code(call):
    with pytest.raises(LicenseError) as info:
        call()
    return info.value.code.value


def upgrade_line(subscription, variant="plan-m-pro"):
    return LineInput(variant, LineAction.PLAN_UPGRADE, license_id=subscription.license_id)


def test_a_prepaid_upgrade_costs_the_difference_for_the_rest_of_the_period():
    subscription = subscribe()
    halfway = START + (subscription.current_period_end - START) / 2
    _, quote = plan_changes.quote_upgrade(subscription, CATALOG, "plan-m-pro", halfway)
    assert quote.unit_price.amount == Decimal("15.00")  # (60 - 30) x 1/2
    _, at_start = plan_changes.quote_upgrade(subscription, CATALOG, "plan-m-pro", START)
    assert at_start.unit_price.amount == Decimal("30.00")
    late = subscription.current_period_end + timedelta(days=1)
    _, after = plan_changes.quote_upgrade(subscription, CATALOG, "plan-m-pro", late)
    assert after.unit_price.amount == Decimal("0.00")


def test_postpaid_and_free_period_upgrades_cost_nothing_now():
    postpaid = subscribe("postpaid")
    _, quote = plan_changes.quote_upgrade(postpaid, CATALOG, "plan-m-pro", START)
    assert quote.unit_price.amount == 0
    trialing = subscribe(variant="plan-free", domain="free.acme.example")
    assert trialing.status == SubscriptionStatus.TRIALING
    _, free = plan_changes.quote_upgrade(trialing, CATALOG, "plan-m-pro", START)
    assert free.unit_price.amount == 0


def test_plans_it_cannot_move_to_are_refused_with_codes():
    subscription = subscribe()
    quote = plan_changes.quote_upgrade
    assert code(lambda: quote(subscription, CATALOG, "plan-m", START)) == "SAME_PLAN"
    assert code(lambda: quote(subscription, CATALOG, "plan-y", START)) == "PLAN_MISMATCH"
    assert code(lambda: quote(subscription, CATALOG, "plan-m-basic", START)) == "NOT_AN_UPGRADE"
    assert code(lambda: quote(subscription, CATALOG, "pro-8", START)) == "NOT_A_LICENSE_PRODUCT"
    assert code(lambda: quote(subscription, CATALOG, None, START)) == "NOT_A_LICENSE_PRODUCT"


def test_a_paid_upgrade_line_switches_the_plan_once():
    subscription = subscribe()
    license = subscription.license
    at = START + timedelta(days=10)
    paid = order("up-1", ALICE, [upgrade_line(subscription)], at)
    assert paid.lines[0].intent["unit_price"] == str(
        (Decimal(30) * Decimal(21) / Decimal(31)).quantize(Decimal("0.01"))
    )
    [result] = apply_order(paid, now=at)
    assert result.error is None and result.licenses == [license.pk]
    apply_order(paid, now=at)  # redelivered
    subscription.refresh_from_db()
    license.refresh_from_db()
    assert (subscription.plan_variant, subscription.plan) == ("plan-m-pro", "Cloud PBX Pro")
    assert (license.edition, license.capacity) == ("Cloud PBX Pro", 500)
    [event] = LicenseEvent.objects.filter(license=license, action="plan_upgraded")
    assert event.before["plan_variant"] == "plan-m" and event.after["plan_variant"] == "plan-m-pro"
    assert (event.before["user_capacity"], event.after["user_capacity"]) == (100, 500)
    assert event.after["license_revision"] == event.before["license_revision"] + 1
    assert event.actor == "order:up-1" and event.order_id == "up-1"


def test_an_upgrade_quoted_before_another_change_is_stale_at_checkout():
    from saleor_license_plugin.licensing.checkout_lines import LineFacts, revalidate_line

    subscription = subscribe()
    paid = order("up-2", ALICE, [upgrade_line(subscription)], START)
    apply_order(order("up-3", ALICE, [upgrade_line(subscription)], START), now=START)
    line = paid.lines[0]
    from saleor_license_plugin.licensing.checkout_lines import LineIntent
    from tests.settings import SALEOR_LICENSE

    facts = LineFacts(
        line.line_id,
        "plan-m-pro",
        1,
        LineIntent(**line.intent).to_metadata(SALEOR_LICENSE["KEY_SECRET"].encode()),
        Decimal(line.intent["unit_price"]),
        True,
    )
    assert code(lambda: revalidate_line(facts, ALICE, CATALOG, START)) == "STALE_QUOTE"


def test_a_downgrade_waits_for_the_period_end_and_applies_once():
    subscription = subscribe()
    changed = plan_changes.schedule_downgrade(
        subscription.pk, CATALOG, "plan-m-basic", actor="user:alice", now=START
    )
    assert (changed.pending_plan, changed.plan) == ("Cloud PBX Basic", "Cloud PBX")
    assert plan_changes.apply_period_end(subscription.pk, CATALOG, now=START) == "downgraded"
    assert plan_changes.apply_period_end(subscription.pk, CATALOG, now=START) is None
    subscription.refresh_from_db()
    assert (subscription.plan_variant, subscription.pending_plan) == ("plan-m-basic", "")
    assert subscription.license.capacity == 20
    actions = list(
        LicenseEvent.objects.filter(license=subscription.license_id).values_list("action", "actor")
    )
    assert ("plan_downgrade_scheduled", "user:alice") in actions
    assert ("plan_downgraded", "system") in actions


def test_a_downgrade_is_refused_over_its_user_cap_or_when_it_costs_more():
    subscription = subscribe()
    subscriptions.report_usage(subscription, 25, at=START, now=START)
    schedule = plan_changes.schedule_downgrade
    refused = code(lambda: schedule(subscription.pk, CATALOG, "plan-m-basic", actor="a", now=START))
    assert refused == "DOWNGRADE_NOT_ALLOWED"  # 25 users this period, Basic allows 20
    dearer = code(lambda: schedule(subscription.pk, CATALOG, "plan-m-pro", actor="a", now=START))
    assert dearer == "NOT_A_DOWNGRADE"
    assert code(lambda: schedule(subscription.pk, CATALOG, None, actor="a", now=START)) == (
        "INVALID_TRANSITION"
    )


def test_a_scheduled_downgrade_can_be_withdrawn():
    subscription = subscribe()
    schedule = plan_changes.schedule_downgrade
    schedule(subscription.pk, CATALOG, "plan-m-basic", actor="a", now=START)
    withdrawn = schedule(subscription.pk, CATALOG, None, actor="a", now=START)
    assert withdrawn.pending_plan_variant == ""
    assert plan_changes.apply_period_end(subscription.pk, CATALOG, now=START) is None
    subscription.refresh_from_db()
    assert subscription.plan_variant == "plan-m"


def test_cancel_at_period_end_is_reversible_until_the_period_ends():
    subscription = subscribe()
    plan_changes.set_cancel_at_period_end(subscription.pk, True, actor="a", now=START)
    plan_changes.set_cancel_at_period_end(subscription.pk, False, actor="a", now=START)
    assert plan_changes.apply_period_end(subscription.pk, CATALOG, now=START) is None
    other = subscribe(domain="two.acme.example")
    plan_changes.set_cancel_at_period_end(other.pk, True, actor="a", now=START)
    assert plan_changes.apply_period_end(other.pk, CATALOG, now=START) == "cancelled"
    other.refresh_from_db()
    assert other.status == SubscriptionStatus.CANCELLED
    late = code(lambda: plan_changes.set_cancel_at_period_end(other.pk, False, actor="a"))
    assert late == "LICENSE_NOT_ACTIVE"


def test_auto_renew_is_for_prepaid_subscriptions():
    prepaid = subscribe()
    changed = plan_changes.set_auto_renew(prepaid.pk, False, actor="user:alice", now=START)
    assert changed.auto_renew is False
    event = LicenseEvent.objects.filter(action="subscription_auto_renew_set").get()
    assert (event.before["auto_renew"], event.after["auto_renew"]) == (True, False)
    postpaid = subscribe("postpaid", domain="post.acme.example")
    refused = code(lambda: plan_changes.set_auto_renew(postpaid.pk, False, actor="a"))
    assert refused == "PLAN_MISMATCH"


def test_staff_change_a_domain_with_a_reason_and_it_stays_unique():
    subscription = subscribe()
    subscribe(domain="taken.acme.example")
    change = plan_changes.change_domain
    taken = code(lambda: change(subscription.pk, "Taken.Acme.Example.", "typo", actor="staff:1"))
    assert taken == "DOMAIN_TAKEN"
    assert code(lambda: change(subscription.pk, "new.acme.example", " ", actor="s")) == "REQUIRED"
    assert code(lambda: change(subscription.pk, "not a domain", "typo", actor="s")) == "INVALID"
    changed = change(subscription.pk, "PBX2.acme.example", "customer typo", actor="staff:1")
    assert changed.domain == "pbx2.acme.example"
    event = LicenseEvent.objects.get(action="domain_changed")
    assert event.before["domain"] == "pbx.acme.example"
    assert event.after["domain"] == "pbx2.acme.example"
    assert event.actor == "staff:1" and "customer typo" in event.note
