"""Issuing every unit of an order line in chunks: the same licenses, keys and events as one
issue_license per unit, exactly once per unit however often it runs, in a few statements per
chunk."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing import keys, lifecycle
from saleor_license_plugin.licensing.lifecycle import OrderLineRef
from saleor_license_plugin.models import License, LicenseEvent, LicenseStatus

pytestmark = pytest.mark.django_db

LINE = OrderLineRef("order-1", "line-1")


def issue(pro8, alice, now, quantity, **kw):
    return lifecycle.issue_order_line(
        terms=pro8,
        owner=alice,
        order_line=LINE,
        quantity=quantity,
        product_code="pro-8",
        maintenance_years=1,
        now=now,
        **kw,
    )


def test_every_unit_is_issued_once_with_its_own_key_and_event(pro8, alice, now):
    issued = issue(pro8, alice, now, 7, chunk=3)
    assert [i.created for i in issued] == [True] * 7
    licenses = License.objects.filter(origin_order_line_id="line-1")
    assert licenses.count() == 7
    for done in issued:
        assert done.key is not None
        assert done.license.key_digest == keys.digest(done.key, get_settings().key_secret)
        assert done.license.status == LicenseStatus.ACTIVE
        assert done.license.maintenance_expires_at is not None
    events = LicenseEvent.objects.filter(license__in=licenses, action="issued")
    assert sorted(e.idempotency_key for e in events) == sorted(
        LINE.key("issue", unit) for unit in range(7)
    )
    assert {e.order_id for e in events} == {"order-1"}


def test_running_again_issues_nothing_new(pro8, alice, now):
    first = issue(pro8, alice, now, 5, chunk=2)
    again = issue(pro8, alice, now, 5, chunk=2)
    assert [i.created for i in again] == [False] * 5
    assert [i.license.pk for i in again] == [i.license.pk for i in first]
    assert [i.key for i in again] == [None] * 5
    assert License.objects.count() == 5


def test_units_issued_one_by_one_before_are_kept(pro8, alice, now):
    """A run that stopped half way (units issued by issue_license, one at a time) is
    completed: the units it issued are returned, the rest are created."""
    earlier = {
        unit: lifecycle.issue_license(
            terms=pro8, owner=alice, product_code="pro-8", order_line=LINE, unit=unit, now=now
        ).license.pk
        for unit in (1, 4)
    }
    issued = issue(pro8, alice, now, 6, chunk=4)
    assert [i.created for i in issued] == [True, False, True, True, False, True]
    assert issued[1].license.pk == earlier[1] and issued[4].license.pk == earlier[4]
    assert License.objects.count() == 6


def test_a_chunk_that_loses_a_race_is_issued_one_unit_at_a_time(pro8, alice, now, monkeypatch):
    """Another run issues unit 2 between this chunk's look-up of applied keys and its insert:
    the chunk rolls back whole and every unit is issued as issue_license issues it (unit 2 is
    the other run's)."""
    real_applied_many = lifecycle._applied_many
    raced = {}

    def stale_look_up(idempotency_keys):
        found = real_applied_many(idempotency_keys)
        raced["pk"] = lifecycle.issue_license(
            terms=pro8, owner=alice, product_code="pro-8", order_line=LINE, unit=2, now=now
        ).license.pk
        return found  # as it was before the other run committed

    monkeypatch.setattr(lifecycle, "_applied_many", stale_look_up)
    issued = issue(pro8, alice, now, 4, chunk=4)
    assert issued[2].license.pk == raced["pk"] and not issued[2].created
    assert [i.created for i in issued] == [True, True, False, True]
    assert License.objects.count() == 4
    assert LicenseEvent.objects.filter(action="issued").count() == 4


def test_statements_grow_with_chunks_not_units(pro8, alice, now):
    with CaptureQueriesContext(connection) as queries:
        issue(pro8, alice, now, 600, chunk=250)
    statements = [q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 3 * 3 + 1, [q["sql"][:80] for q in statements]


@pytest.mark.django_db(transaction=True)
def test_three_concurrent_runs_issue_each_unit_once(pro8, alice, now):
    """Three workers fulfil the same line at once (a redelivered task): every unit exists once,
    and each run answers with the same licenses."""
    barrier = threading.Barrier(3)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(issue(pro8, alice, now, 120, chunk=50))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert License.objects.count() == 120
    assert LicenseEvent.objects.filter(action="issued").count() == 120
    pks = [[i.license.pk for i in result] for result in results]
    assert pks[0] == pks[1] == pks[2]
    assert sum(i.created for result in results for i in result) == 120
