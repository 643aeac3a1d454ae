import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from saleor_license_plugin.licensing import keys, lifecycle, lookup
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.lifecycle import OrderLineRef
from saleor_license_plugin.models import (
    AppendOnlyError,
    License,
    LicenseEvent,
    LicenseKind,
    LicenseStatus,
)

pytestmark = pytest.mark.django_db
LINE = OrderLineRef(order_id="order:1", line_id="line:1")


def issue(terms, owner, **kw):
    return lifecycle.issue_license(terms=terms, owner=owner, **kw)


def codes(excinfo):
    return excinfo.value.code


def test_issue_creates_a_findable_license_and_an_event(pro8, alice, now):
    issued = issue(pro8, alice, order_line=LINE, maintenance_years=2, now=now, currency="EUR")
    assert issued.created and issued.key
    license = issued.license
    assert lookup.find_by_key(keys.format_key(issued.key).lower()) == license
    assert license.display_key() == keys.format_key(issued.key)
    assert issued.key not in (license.key_digest + license.key_sealed)
    assert license.status == LicenseStatus.ACTIVE and license.is_perpetual
    assert license.maintenance_expires_at == datetime(2028, 3, 1, 12, tzinfo=UTC)
    event = license.events.get()
    assert (event.action, event.before, event.order_line_id) == ("issued", None, "line:1")
    assert event.after["edition"] == "Professional"


def test_issuing_the_same_order_line_unit_twice_returns_the_first(pro8, alice, now):
    first = issue(pro8, alice, order_line=LINE, unit=0, now=now)
    again = issue(pro8, alice, order_line=LINE, unit=0, now=now)
    other_unit = issue(pro8, alice, order_line=LINE, unit=1, now=now)
    assert not again.created and again.key is None and again.license == first.license
    assert other_unit.created and other_unit.license != first.license
    assert License.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_issues_for_one_order_line_produce_one_license(pro8, alice, now):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(issue(pro8, alice, order_line=LINE, unit=0, now=now))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert License.objects.count() == 1
    assert LicenseEvent.objects.filter(idempotency_key="line:1:issue:0").count() == 1
    assert sorted(r.created for r in results) == [False, True]
    assert {r.license.pk for r in results} == {License.objects.get().pk}


def test_annual_and_trial_terms(annual8, pro8, alice, now):
    annual = issue(annual8, alice, term_years=2, now=now).license
    assert annual.term_expires_at == datetime(2028, 3, 1, 12, tzinfo=UTC)
    trial = issue(pro8, alice, kind=LicenseKind.TRIAL, trial_days=14, now=now).license
    assert trial.term_expires_at == now + timedelta(days=14)


def test_leap_day_renewal_lands_on_28_february(annual8, alice):
    leap = datetime(2028, 2, 29, tzinfo=UTC)
    license = issue(annual8, alice, now=leap).license
    assert license.term_expires_at == datetime(2029, 2, 28, tzinfo=UTC)


def test_upgrade_keeps_expiries_and_bumps_revision(pro8, pro16, alice, now):
    license = issue(pro8, alice, maintenance_years=1, now=now).license
    upgraded = lifecycle.upgrade_license(license.pk, target=pro16, order_line=LINE, now=now)
    assert (upgraded.capacity, upgraded.revision) == (16, 2)
    assert upgraded.maintenance_expires_at == license.maintenance_expires_at
    again = lifecycle.upgrade_license(license.pk, target=pro16, order_line=LINE, now=now)
    assert again.revision == 2 and license.events.filter(action="upgraded").count() == 1
    event = license.events.get(action="upgraded")
    assert (event.before["capacity"], event.after["capacity"]) == (8, 16)


def test_upgrade_refusals(pro8, pro16, std8, alice, now):
    license = issue(pro16, alice, now=now).license
    with pytest.raises(LicenseError) as info:
        lifecycle.upgrade_license(license.pk, target=pro8, now=now)
    assert codes(info) is LicenseErrorCode.DOWNGRADE_NOT_ALLOWED
    with pytest.raises(LicenseError) as info:
        lifecycle.upgrade_license(license.pk, target=std8, now=now)
    assert codes(info) is LicenseErrorCode.DOWNGRADE_NOT_ALLOWED
    lifecycle.revoke_license(license.pk, now=now)
    with pytest.raises(LicenseError) as info:
        lifecycle.upgrade_license(license.pk, target=pro16, now=now)
    assert codes(info) is LicenseErrorCode.LICENSE_REVOKED
    with pytest.raises(LicenseError) as info:
        lifecycle.upgrade_license(999_999, target=pro16, now=now)
    assert codes(info) is LicenseErrorCode.NOT_FOUND


def test_one_order_line_cannot_apply_to_two_licenses(pro8, pro16, alice, now):
    a = issue(pro8, alice, now=now).license
    b = issue(pro8, alice, now=now).license
    lifecycle.upgrade_license(a.pk, target=pro16, order_line=LINE, now=now)
    with pytest.raises(LicenseError) as info:
        lifecycle.upgrade_license(b.pk, target=pro16, order_line=LINE, now=now)
    assert codes(info) is LicenseErrorCode.IDEMPOTENCY_CONFLICT
    assert License.objects.get(pk=b.pk).capacity == 8


def test_renew_extends_from_expiry_or_from_now_when_lapsed(annual8, alice, now):
    license = issue(annual8, alice, now=now).license  # expires 2027-03-01
    renewed = lifecycle.renew_license(license.pk, years=2, now=now)
    assert renewed.term_expires_at == datetime(2029, 3, 1, 12, tzinfo=UTC)
    later = datetime(2030, 6, 1, tzinfo=UTC)
    License.objects.filter(pk=license.pk).update(status=LicenseStatus.EXPIRED)
    revived = lifecycle.renew_license(license.pk, years=1, now=later)
    assert revived.term_expires_at == datetime(2031, 6, 1, tzinfo=UTC)
    assert revived.status == LicenseStatus.ACTIVE


@pytest.mark.parametrize("years", [0, 100, -1])
def test_renew_years_out_of_bounds(annual8, alice, now, years):
    license = issue(annual8, alice, now=now).license
    for renew in (lifecycle.renew_license, lifecycle.renew_maintenance):
        with pytest.raises(LicenseError) as info:
            renew(license.pk, years=years, now=now)
        assert codes(info) is LicenseErrorCode.INVALID_YEARS


def test_perpetual_licenses_renew_maintenance_not_term(pro8, alice, now):
    license = issue(pro8, alice, now=now).license
    with pytest.raises(LicenseError) as info:
        lifecycle.renew_license(license.pk, years=1, now=now)
    assert codes(info) is LicenseErrorCode.NOT_RENEWABLE
    renewed = lifecycle.renew_maintenance(license.pk, years=3, now=now)
    assert renewed.maintenance_expires_at == datetime(2029, 3, 1, 12, tzinfo=UTC)
    assert not license.events.filter(action="renewed").exists()


def test_expansion_adds_units_and_services_co_termed(annual8, extensions, hot_standby, alice, now):
    license = issue(annual8, alice, now=now).license
    lifecycle.expand_license(license.pk, add_on=extensions, quantity=2, now=now)
    lifecycle.expand_license(license.pk, add_on=extensions, quantity=1, now=now)
    expanded = lifecycle.expand_license(license.pk, add_on=hot_standby, quantity=1, now=now)
    assert expanded.add_ons["extensions"]["quantity"] == 30
    assert expanded.add_ons["hot_standby"]["expires_at"] == license.term_expires_at.isoformat()
    with pytest.raises(LicenseError) as info:
        lifecycle.expand_license(license.pk, add_on=hot_standby, quantity=1, now=now)
    assert codes(info) is LicenseErrorCode.ADD_ON_ALREADY_ACTIVE


def test_suspended_licenses_cannot_be_expanded_until_reinstated(pro8, extensions, alice, now):
    license = issue(pro8, alice, now=now).license
    lifecycle.suspend_license(license.pk, reason="chargeback", now=now)
    with pytest.raises(LicenseError) as info:
        lifecycle.expand_license(license.pk, add_on=extensions, quantity=1, now=now)
    assert codes(info) is LicenseErrorCode.LICENSE_NOT_ACTIVE
    with pytest.raises(LicenseError) as info:
        lifecycle.suspend_license(license.pk, now=now)
    assert codes(info) is LicenseErrorCode.INVALID_TRANSITION
    assert lifecycle.reinstate_license(license.pk, now=now).status == LicenseStatus.ACTIVE
    lifecycle.expand_license(license.pk, add_on=extensions, quantity=1, now=now)


def test_revocation_is_final(pro8, alice, now):
    license = issue(pro8, alice, now=now).license
    lifecycle.revoke_license(license.pk, reason="refund", order_line=LINE, now=now)
    lifecycle.revoke_license(
        license.pk, reason="refund", order_line=LINE, now=now
    )  # replayed: no-op
    for change in (
        lifecycle.reinstate_license,
        lifecycle.suspend_license,
        lifecycle.revoke_license,
    ):
        with pytest.raises(LicenseError) as info:
            change(license.pk, now=now)
        assert codes(info) is LicenseErrorCode.LICENSE_REVOKED
    assert list(license.events.values_list("action", flat=True)) == ["issued", "revoked"]


def test_pending_payment_license_becomes_active_when_paid(pro8, alice, now):
    license = issue(
        pro8,
        alice,
        status=LicenseStatus.PENDING_PAYMENT,
        pending_payment_until=now + timedelta(days=7),
        now=now,
    ).license
    assert license.status == LicenseStatus.PENDING_PAYMENT
    paid = lifecycle.mark_paid(license.pk, now=now)
    assert paid.status == LicenseStatus.ACTIVE and paid.pending_payment_until is None


def test_deployment_binding(pro8, alice, bob, now):
    mine = lifecycle.create_deployment(name="HQ PBX", owner_id=alice.user_id)
    theirs = lifecycle.create_deployment(name="Bob's PBX", owner_id=bob.user_id)
    other_mine = lifecycle.create_deployment(name="Branch PBX", owner_id=alice.user_id)
    license = issue(pro8, alice, now=now).license
    with pytest.raises(LicenseError) as info:
        lifecycle.bind_deployment(license.pk, theirs, now=now)
    assert codes(info) is LicenseErrorCode.DEPLOYMENT_NOT_OWNED
    bound = lifecycle.bind_deployment(license.pk, mine, now=now)
    assert bound.deployment == mine
    assert lifecycle.bind_deployment(license.pk, mine, now=now).revision == bound.revision  # no-op
    with pytest.raises(LicenseError) as info:
        lifecycle.bind_deployment(license.pk, other_mine, now=now)
    assert codes(info) is LicenseErrorCode.DEPLOYMENT_BINDING_LOCKED
    assert License.objects.get(pk=license.pk).deployment == mine


def test_products_that_need_a_deployment(pro8, alice, bob, now):
    from dataclasses import replace

    needs = replace(pro8, requires_deployment=True)
    with pytest.raises(LicenseError) as info:
        issue(needs, alice, now=now)
    assert codes(info) is LicenseErrorCode.DEPLOYMENT_REQUIRED
    theirs = lifecycle.create_deployment(name="Bob's", owner_id=bob.user_id)
    with pytest.raises(LicenseError) as info:
        issue(needs, alice, deployment=theirs, now=now)
    assert codes(info) is LicenseErrorCode.DEPLOYMENT_NOT_OWNED
    assert License.objects.count() == 0


@pytest.mark.parametrize("name", ["", "   ", "x" * 256])
def test_deployment_names(name):
    with pytest.raises(LicenseError) as info:
        lifecycle.create_deployment(name=name, owner_id="u")
    assert codes(info) is LicenseErrorCode.INVALID


def test_events_are_append_only(pro8, alice, now):
    event = issue(pro8, alice, now=now).license.events.get()
    event.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        LicenseEvent.objects.filter(pk=event.pk).update(note="x")
    with pytest.raises(AppendOnlyError):
        LicenseEvent.objects.all().delete()


def test_unknown_key_finds_nothing_and_malformed_key_raises():
    assert lookup.find_by_key(keys.format_key(keys.generate())) is None
    with pytest.raises(LicenseError) as info:
        lookup.find_by_key("ABC")
    assert codes(info) is LicenseErrorCode.MALFORMED_KEY
