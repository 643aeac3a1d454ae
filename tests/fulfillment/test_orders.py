from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saleor_license_plugin.fulfillment.orders import apply_order, expire_due, withdraw_order
from saleor_license_plugin.fulfillment.tasks import fulfill_order
from saleor_license_plugin.licensing import keys, lifecycle, lookup
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import License, LicenseEvent, LicenseStatus
from tests.factories import issue
from tests.fulfillment.payloads import LineInput, order

pytestmark = pytest.mark.django_db
ALICE = Principal("user:alice", "alice@example.com")


def test_every_line_type_applies_once(alice, now):
    perpetual = issue("pro-8", alice, now, maintenance_years=1)
    annual = issue("cloud-8", alice, now)
    dep = lifecycle.create_deployment(name="HQ", owner_id=alice.user_id)
    payload = order(
        "o1",
        ALICE,
        [
            LineInput(
                "pro-8",
                LineAction.NEW,
                quantity=2,
                maintenance_years=1,
                deployment_id=dep.public_id,
            ),
            LineInput("pro-16", LineAction.UPGRADE, perpetual.display_key()),
            LineInput("cloud-8", LineAction.RENEW_LICENSE, annual.display_key(), years=2),
            LineInput("pro-8", LineAction.RENEW_MAINTENANCE, perpetual.display_key(), years=1),
            LineInput("ext", LineAction.EXPANSION, annual.display_key(), quantity=3),
        ],
        now,
    )
    results = apply_order(payload, now=now)
    assert [r.error for r in results] == [None] * 5
    new = results[0]
    assert len(new.licenses) == 2
    issued = License.objects.filter(pk__in=new.licenses)
    assert all(lic.deployment == dep for lic in issued)
    assert all(lookup.find_by_key(lic.display_key()) == lic for lic in issued)
    keys_before = sorted(lic.key_digest for lic in issued)

    perpetual.refresh_from_db()
    annual.refresh_from_db()
    assert perpetual.capacity == 16
    assert perpetual.maintenance_expires_at == now.replace(year=now.year + 2)
    assert annual.term_expires_at == now.replace(year=now.year + 3)
    assert annual.add_ons["extensions"]["quantity"] == 3

    before = LicenseEvent.objects.count()
    again = apply_order(payload, now=now + timedelta(hours=1))  # redelivered task
    assert LicenseEvent.objects.count() == before
    assert [r.licenses for r in again] == [r.licenses for r in results]
    again_issued = License.objects.filter(pk__in=again[0].licenses)
    assert sorted(lic.key_digest for lic in again_issued) == keys_before  # no key issued twice
    assert License.objects.count() == 4


def test_a_line_that_can_no_longer_apply_does_not_block_the_others(alice, now):
    license = issue("pro-8", alice, now)
    payload = order(
        "o2",
        ALICE,
        [
            LineInput("pro-16", LineAction.UPGRADE, license.display_key()),
            LineInput("pro-8", LineAction.NEW),
        ],
        now,
    )
    lifecycle.revoke_license(license.pk, now=now)
    results = apply_order(payload, now=now)
    assert results[0].error["code"] == "LICENSE_REVOKED"
    assert results[1].error is None and len(results[1].licenses) == 1


def test_pending_payment_licenses_activate_when_paid(now):
    unpaid = order(
        "o3", ALICE, [LineInput("pro-8", LineAction.NEW, quantity=2)], now, paid=False, grace_days=7
    )
    [pending] = apply_order(unpaid, now=now)
    licenses = License.objects.filter(pk__in=pending.licenses)
    assert {lic.status for lic in licenses} == {LicenseStatus.PENDING_PAYMENT}
    assert {lic.pending_payment_until for lic in licenses} == {now + timedelta(days=7)}
    paid = order("o3", ALICE, [LineInput("pro-8", LineAction.NEW, quantity=2)], now)
    [done] = apply_order(paid, now=now)
    assert done.licenses == pending.licenses
    assert {lic.status for lic in License.objects.filter(pk__in=done.licenses)} == {
        LicenseStatus.ACTIVE
    }


def test_unpaid_licenses_past_grace_are_suspended_and_lapsed_terms_expire(alice, now):
    apply_order(
        order("o4", ALICE, [LineInput("pro-8", LineAction.NEW)], now, paid=False, grace_days=3),
        now=now,
    )
    annual = issue("cloud-8", alice, now)
    assert expire_due(now + timedelta(days=2)) == {"suspended": 0, "expired": 0, "skipped": 0}
    assert expire_due(now + timedelta(days=400)) == {"suspended": 1, "expired": 1, "skipped": 0}
    assert expire_due(now + timedelta(days=401)) == {"suspended": 0, "expired": 0, "skipped": 0}
    annual.refresh_from_db()
    assert annual.status == LicenseStatus.EXPIRED


def test_refund_revokes_what_the_order_issued_and_suspends_what_it_changed(alice, now):
    existing = issue("pro-8", alice, now)
    payload = order(
        "o5",
        ALICE,
        [
            LineInput("pro-8", LineAction.NEW),
            LineInput("pro-16", LineAction.UPGRADE, existing.display_key()),
        ],
        now,
    )
    results = apply_order(payload, now=now)
    assert withdraw_order("o5", reason="fully_refunded") == {"revoked": 1, "suspended": 1}
    assert withdraw_order("o5", reason="fully_refunded") == {"revoked": 0, "suspended": 0}
    assert License.objects.get(pk=results[0].licenses[0]).status == LicenseStatus.REVOKED
    assert License.objects.get(pk=existing.pk).status == LicenseStatus.SUSPENDED
    assert (
        License.objects.get(pk=existing.pk)
        .events.filter(action="suspended", note="fully_refunded")
        .exists()
    )


def test_fulfilment_task_emails_the_keys_once(mailoutbox, now):
    payload = order("o6", ALICE, [LineInput("pro-8", LineAction.NEW, quantity=2)], now)
    written = []
    summary = fulfill_order.apply(args=(payload.to_dict(),)).get()
    fulfill_order.apply(args=(payload.to_dict(),)).get()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["alice@example.com"] and "o6" in mail.subject
    issued = License.objects.filter(origin_order_id="o6")
    assert issued.count() == 2
    for license in issued:
        assert license.display_key() in mail.body
    line = summary["o6-l0"]
    assert line["licenses"] == sorted(issued.values_list("pk", flat=True))
    assert not any(keys.normalize(lic.display_key()) in str(summary) for lic in issued)
    assert written == []


def test_a_resellers_end_customer_is_kept_on_each_license(now):
    customer = {"company": "Acme GmbH", "email": "it@acme.example"}
    payload = order(
        "o7", ALICE, [LineInput("pro-8", LineAction.NEW, quantity=2)], now, end_customer=customer
    )
    [result] = apply_order(payload, now=now)
    assert [lic.end_customer for lic in License.objects.filter(pk__in=result.licenses)] == [
        customer
    ] * 2


def test_the_expiry_sweep_pages_through_every_lapsed_license_in_bounded_statements(alice, now):
    """Every lapsed license expires in one sweep, page by page, each page in the same few
    statements whatever its size; a license renewed before the sweep is left active."""
    renewed, *lapsed = (issue("cloud-8", alice, now) for _ in range(7))
    later = now + timedelta(days=400)
    lifecycle.renew_license(renewed.pk, years=1, now=later)
    with CaptureQueriesContext(connection) as queries:
        assert expire_due(later, batch=2) == {"suspended": 0, "expired": 6, "skipped": 0}
    pages = 3  # 2 + 2 + 2, then a page shorter than the batch would end it; a full page asks again
    per_page = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(per_page) <= 1 + (pages + 1) * 3, per_page
    statuses = dict(
        License.objects.filter(pk__in=[renewed.pk, *(lic.pk for lic in lapsed)]).values_list(
            "pk", "status"
        )
    )
    assert statuses == {
        renewed.pk: LicenseStatus.ACTIVE,
        **{lic.pk: LicenseStatus.EXPIRED for lic in lapsed},
    }
    events = LicenseEvent.objects.filter(license__in=lapsed, action="expired")
    assert sorted(e.license_id for e in events) == sorted(lic.pk for lic in lapsed)
    assert {(e.before["status"], e.after["status"]) for e in events} == {("active", "expired")}
    assert {e.after["revision"] - e.before["revision"] for e in events} == {1}
