"""Minor units, idempotency keys, refund attempts, notification records, chargebacks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.lifecycle import OrderLineRef
from saleor_license_plugin.models import LicenseEvent, LicenseStatus, RefundAttemptStatus
from saleor_license_plugin.payments import idempotency
from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.licenses import suspend_for_chargeback
from saleor_license_plugin.payments.money import from_minor, to_minor


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("10.50", "EUR", 1050), ("1000", "JPY", 1000), ("1.234", "KWD", 1234), ("0.01", "usd", 1)],
)
def test_minor_units_round_trip(amount, currency, minor):
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


@pytest.mark.parametrize(("amount", "currency"), [("10.005", "EUR"), ("1.5", "JPY")])
def test_amounts_finer_than_the_currency_are_refused_not_rounded(amount, currency):
    with pytest.raises(PaymentError) as excinfo:
        to_minor(Decimal(amount), currency)
    assert excinfo.value.code is PaymentErrorCode.INVALID_AMOUNT


def test_idempotency_keys_are_deterministic():
    assert idempotency.idempotency_key(7, "capture", 1500) == "slp:7:capture:1500"
    assert idempotency.idempotency_key(7, "refund", 1500, 2) == "slp:7:refund:1500:2"


@pytest.mark.django_db
def test_refund_attempts_reuse_pending_and_number_the_rest():
    def claim(amount=500):
        return idempotency.claim_refund(
            provider="p", payment_id=1, reference="ref", amount_minor=amount, currency="eur"
        )

    first, retry = claim()
    assert (first.sequence, retry, first.currency) == (0, False, "EUR")
    again, retry = claim()
    assert (again.pk, retry) == (first.pk, True)  # outcome unknown: same key
    idempotency.finish_refund(first, "re_1")
    second, retry = claim()
    assert (second.sequence, retry) == (1, False)  # a new refund of the same amount
    idempotency.fail_refund(second)
    third, _ = claim()
    assert third.sequence == 2 and third.idempotency_key == "slp:1:refund:500:2"
    other, _ = claim(amount=700)
    assert other.sequence == 0
    second.refresh_from_db()
    assert second.status == RefundAttemptStatus.FAILED


@pytest.mark.django_db
def test_notifications_are_claimed_once_per_provider():
    assert idempotency.claim_notification("stripe", "evt_1")
    assert not idempotency.claim_notification("stripe", "evt_1")
    assert idempotency.claim_notification("multisafepay", "evt_1")


@pytest.mark.django_db
def test_chargeback_suspends_the_orders_active_licenses_once(pro8, alice, now):
    line = OrderLineRef(order_id="order-uuid-1", line_id="line-1")
    one = lifecycle.issue_license(terms=pro8, owner=alice, order_line=line, unit=0, now=now)
    two = lifecycle.issue_license(terms=pro8, owner=alice, order_line=line, unit=1, now=now)
    other = lifecycle.issue_license(
        terms=pro8, owner=alice, order_line=OrderLineRef("order-2", "line-9"), now=now
    )
    for issued in (one, two, other):
        issued.license.origin_order_id = issued.license.events.get().order_id
        issued.license.save(update_fields=["origin_order_id"])
    refs = ["order-uuid-1", "T3JkZXI6MQ==", "1001"]
    assert suspend_for_chargeback(refs, provider="stripe", reference="pi_1") == 2
    assert suspend_for_chargeback(refs, provider="stripe", reference="pi_1") == 0
    statuses = {
        i.license.pk: i.license.__class__.objects.get(pk=i.license.pk).status
        for i in (one, two, other)
    }
    assert statuses == {
        one.license.pk: LicenseStatus.SUSPENDED,
        two.license.pk: LicenseStatus.SUSPENDED,
        other.license.pk: LicenseStatus.ACTIVE,
    }
    assert LicenseEvent.objects.filter(action="suspended").count() == 2
