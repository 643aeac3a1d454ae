"""Gap-free invoice numbers: one counter row per sequence, locked in the transaction that
records the invoice; one invoice per order however often, and however concurrently, asked."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from saleor_license_plugin import conf
from saleor_license_plugin.licensing.billing import BillTo
from saleor_license_plugin.licensing.errors import LicenseError
from saleor_license_plugin.licensing.invoices import number_in, record_invoice, series_for
from saleor_license_plugin.models import Invoice, InvoiceCounter
from tests.invoices.helpers import facts

BILL_TO = BillTo(name="Alice", email="alice@example.com")


def run_concurrently(count, target):
    barrier = threading.Barrier(count)
    errors, results = [], []

    def worker(index):
        try:
            barrier.wait()
            results.append(target(index))
        except Exception as exc:  # reported below; a thread must not swallow it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.mark.parametrize(
    "number_format, series, number",
    [
        ("INV-{year}-{seq:06d}", "INV-2026-{seq:06d}", "INV-2026-000042"),
        ("{year}/{month:02d}/{seq}", "2026/03/{seq:}", "2026/03/42"),
        ("F{seq:05d}", "F{seq:05d}", "F00042"),
        ("{{A}}-{seq}", "{{A}}-{seq:}", "{A}-42"),
    ],
)
def test_a_format_gives_its_sequence_and_numbers(number_format, series, number):
    when = datetime(2026, 3, 9, tzinfo=UTC)
    assert series_for(number_format, when) == series
    assert number_in(series, 42) == number


@pytest.mark.parametrize(
    "value", ["INV-{year}", "{seq}{seq}", "{seq} {day}", "{seq", "{seq:q}", "X" * 70 + "{seq}"]
)
def test_bad_number_formats_are_refused(value):
    assert set(conf.dashboard_errors({"invoice_number_format": value})) == {"invoice_number_format"}


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_orders_get_twenty_numbers_without_gap_or_duplicate(settings):
    settings_now = conf.from_django_settings()

    def invoice(index):
        invoice, created = record_invoice(facts(f"order-{index}"), BILL_TO, settings_now)
        assert created
        return invoice.number

    numbers = run_concurrently(20, invoice)
    year = datetime.now(UTC).year
    assert sorted(numbers) == [f"INV-{year}-{seq:06d}" for seq in range(1, 21)]
    assert InvoiceCounter.objects.get().last == 20
    assert Invoice.objects.count() == 20


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_for_one_order_make_one_invoice():
    settings_now = conf.from_django_settings()
    results = run_concurrently(
        20, lambda _: record_invoice(facts("order-7"), BILL_TO, settings_now)
    )
    assert len({invoice.number for invoice, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert InvoiceCounter.objects.get().last == 1  # no number was spent on the others


@pytest.mark.django_db(transaction=True)
def test_a_number_whose_invoice_rolls_back_is_used_by_the_next_invoice():
    settings_now = conf.from_django_settings()
    with pytest.raises(RuntimeError), transaction.atomic():
        record_invoice(facts("order-1"), BILL_TO, settings_now)
        raise RuntimeError("the request failed after numbering")
    invoice, _ = record_invoice(facts("order-2"), BILL_TO, settings_now)
    assert invoice.number.endswith("-000001")


@pytest.mark.django_db
def test_each_year_starts_a_sequence_and_a_new_format_starts_another():
    base = conf.from_django_settings()
    first, _ = record_invoice(facts("a"), BILL_TO, base, now=datetime(2026, 12, 31, tzinfo=UTC))
    second, _ = record_invoice(facts("b"), BILL_TO, base, now=datetime(2027, 1, 1, tzinfo=UTC))
    other = base.with_overrides(invoice_number_format="LIC/{seq:04d}")
    third, _ = record_invoice(facts("c"), BILL_TO, other)
    assert [first.number, second.number, third.number] == [
        "INV-2026-000001",
        "INV-2027-000001",
        "LIC/0001",
    ]


@pytest.mark.django_db
def test_a_typed_number_is_outside_the_sequence_and_must_be_free():
    base = conf.from_django_settings()
    typed, _ = record_invoice(facts("a"), BILL_TO, base, number="MANUAL-1")
    assert (typed.number, typed.sequence) == ("MANUAL-1", None)
    with pytest.raises(LicenseError) as refused:
        record_invoice(facts("b"), BILL_TO, base, number="MANUAL-1")
    assert refused.value.field == "number"
    numbered, _ = record_invoice(facts("c"), BILL_TO, base)
    assert numbered.number.endswith("-000001")
