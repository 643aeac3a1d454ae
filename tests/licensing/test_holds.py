"""One unpaid change of a kind per license: a second order for the same upgrade fails at
checkoutComplete (CHANGE_PENDING) instead of being paid for nothing (issue 9)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from saleor_license_plugin.licensing import holds
from saleor_license_plugin.licensing.checkout_lines import LineInput
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import HoldState, PendingChange
from tests.factories import CATALOG, issue
from tests.licensing.test_checkout_lines import prepare_line

ALICE = Principal("user:alice", "alice@example.com")


def code_of(call):
    with pytest.raises(LicenseError) as info:
        call()
    return info.value.code


@pytest.mark.django_db
def test_the_conflicting_changes_are_upgrades_and_services(alice, now):
    license = issue("pro-8", alice, now)
    key = license.display_key()

    def scope(line):
        intent, _ = prepare_line(line, ALICE, CATALOG, now)
        return holds.scope_of(intent, CATALOG)

    assert scope(LineInput("pro-16", LineAction.UPGRADE, key)) == "upgrade"
    assert scope(LineInput("hs", LineAction.EXPANSION, key)) == "service:hot_standby"
    assert scope(LineInput("ext", LineAction.EXPANSION, key, quantity=2)) is None  # adds up
    assert scope(LineInput("pro-8", LineAction.RENEW_MAINTENANCE, key)) is None
    assert scope(LineInput("pro-8", LineAction.NEW)) is None


@pytest.mark.django_db
def test_a_second_holder_of_the_same_change_is_refused_until_release(alice, now):
    license = issue("pro-8", alice, now)
    first, second = holds.checkout_holder("c1"), holds.checkout_holder("c2")
    holds.take(license.pk, "upgrade", first, now)
    holds.take(license.pk, "upgrade", first, now)  # the same checkout again: fine
    holds.take(license.pk, "service:hot_standby", second, now)  # another scope: fine
    assert code_of(lambda: holds.take(license.pk, "upgrade", second, now)) is (
        LicenseErrorCode.CHANGE_PENDING
    )
    order = holds.order_holder("o1")
    assert holds.pass_to_order(first, order) == 1
    much_later = now + timedelta(days=30)  # an unpaid order holds on
    assert code_of(lambda: holds.take(license.pk, "upgrade", second, much_later)) is (
        LicenseErrorCode.CHANGE_PENDING
    )
    holds.release(order)  # cancelled
    holds.take(license.pk, "upgrade", second, much_later)


@pytest.mark.django_db
def test_an_abandoned_checkouts_hold_lapses(alice, now):
    license = issue("pro-8", alice, now)
    holds.take(license.pk, "upgrade", holds.checkout_holder("gone"), now)
    later = now + holds.CHECKOUT_HOLD + timedelta(seconds=1)
    holds.take(license.pk, "upgrade", holds.checkout_holder("next"), later)
    assert set(PendingChange.objects.values_list("state", flat=True)) == {
        HoldState.RELEASED,
        HoldState.OPEN,
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_completions_hold_once(alice, now):
    license = issue("pro-8", alice, now)
    outcomes = []

    def complete(n):
        try:
            holds.take(license.pk, "upgrade", holds.checkout_holder(f"c{n}"), now)
            outcomes.append("held")
        except LicenseError as exc:
            outcomes.append(exc.code.value)
        finally:
            connection.close()

    threads = [threading.Thread(target=complete, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["CHANGE_PENDING"] * 9 + ["held"]
