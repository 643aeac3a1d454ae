"""Billing many subscriptions in one run: time, and statements per page for each phase.

    python -m benchmarks.subscription_billing [--subscriptions 10000] [--page-size 500]

Seeds ``--subscriptions`` subscriptions (bulk insert) in a scratch PostgreSQL database
(``BENCH_DATABASE_URL``, default ``slp_bench_billing``; created, and emptied first): half
pre-paid, half post-paid (each with a day of usage), two thirds with a saved card, all with a
period that ended five days ago (past the late-report window). The host is offline: a card
"network" that answers every charge paid at once (no provider), and the offline bills go to
Django's in-memory mail backend. In one run: a baseline that only pages through the same due
subscriptions (one keyset query per page, no work), then the billing run phase by phase (close
and bill, post-paid at the peak, charge, grace), each timed against the baseline, with the SQL
statements each page cost (counted by an execute wrapper, every statement).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from benchmarks import common

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/slp_bench_billing"
PLANS = [
    {
        "id": "plan-m",
        "name": "Cloud PBX monthly",
        "price": "30",
        "currency": "EUR",
        "metadata": {
            "license.kind": "plan",
            "license.plan": "Cloud PBX",
            "license.plan_period": "monthly",
            "license.per_user_price": "2.50",
        },
    }
]


def seed(count: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from saleor_license_plugin.licensing import keys
    from saleor_license_plugin.licensing.subscriptions import add_months
    from saleor_license_plugin.models import License, Subscription, UsageDay

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE saleor_license_plugin_subscriptionbill, saleor_license_plugin_usageday, "
            "saleor_license_plugin_subscription, saleor_license_plugin_outboxmessage, "
            "saleor_license_plugin_licenseevent, saleor_license_plugin_activation, "
            "saleor_license_plugin_pendingchange, saleor_license_plugin_license CASCADE"
        )
    now = timezone.now()
    end = now - timedelta(days=5)
    start = add_months(end, -1)
    secret = b"bench-only-key-secret"
    for offset in range(0, count, 2000):
        size = min(2000, count - offset)
        licenses = []
        for index in range(offset, offset + size):
            canonical = keys.generate()
            owner = f"user:bench-{index % 2000}"
            licenses.append(
                License(
                    kind="subscription",
                    status="active",
                    product_code="plan-m",
                    edition="Cloud PBX",
                    capacity=100,
                    capacity_unit="users",
                    term_expires_at=end,
                    owner_id=owner,
                    owner_email=f"{owner.split(':')[1]}@example.com",
                    currency="EUR",
                    auto_renew_gateway="bench-card" if index % 3 else "",
                    auto_renew_channel="main" if index % 3 else "",
                    key_digest=keys.digest(canonical, secret),
                    key_sealed=keys.seal(canonical, secret),
                    key_hint=keys.hint(canonical),
                    created_at=start,
                )
            )
        License.objects.bulk_create(licenses)
        subscriptions = [
            Subscription(
                license=license,
                plan_variant="plan-m",
                plan="Cloud PBX",
                mode="prepaid" if index % 2 == 0 else "postpaid",
                period="monthly",
                instance_type="cloud",
                status="active",
                current_period_start=start,
                current_period_end=end,
                domain=f"pbx{index}.bench.example",
                created_at=start,
            )
            for index, license in enumerate(licenses, start=offset)
        ]
        Subscription.objects.bulk_create(subscriptions)
        UsageDay.objects.bulk_create(
            UsageDay(
                subscription=subscription,
                day=(start + timedelta(days=3)).date(),
                peak_users=1 + index % 40,
            )
            for index, subscription in enumerate(subscriptions, start=offset)
            if subscription.mode == "postpaid"
        )


class Counter:
    """Every statement the connection executes (Django's query log keeps only 9,000)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Subscription billing benchmark.")
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args(argv)
    common.setup_scratch_database(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DB)
    print(f"Seeding {args.subscriptions} subscriptions…", flush=True)
    started = time.perf_counter()
    seed(args.subscriptions)
    print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)

    from django.core import mail
    from django.db import connection, transaction
    from django.utils import timezone

    from saleor_license_plugin.conf import get_settings
    from saleor_license_plugin.fulfillment.autorenew import ChargeResult
    from saleor_license_plugin.fulfillment.host import PlainHost
    from saleor_license_plugin.fulfillment.subscription_billing import (
        BillingReport,
        charge_due,
    )
    from saleor_license_plugin.licensing import subscription_billing as billing
    from saleor_license_plugin.licensing.ports import StaticCatalog
    from saleor_license_plugin.models import BillStatus, Subscription, SubscriptionBill

    catalog = StaticCatalog.from_dicts(PLANS)

    class OfflineHost(PlainHost):
        """No card network: every charge is answered paid at once."""

        def catalog(self) -> Any:
            return catalog

        def charge_bill(self, request: Any) -> ChargeResult:
            return ChargeResult("paid", order_id=f"bench-{request.bill_id}")

    now = timezone.now()
    page_size = args.page_size
    counter = Counter()

    # Baseline: page through the same due subscriptions, locking each page as the run does.
    started = time.perf_counter()
    cursor, pages = 0, 0
    with connection.execute_wrapper(counter):
        while True:
            with transaction.atomic():
                page = list(
                    Subscription.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("license__deployment")
                    .filter(status__in=billing.LIVE, current_period_end__lte=now, pk__gt=cursor)
                    .order_by("pk")[:page_size]
                )
            if not page:
                break
            pages += 1
            cursor = page[-1].pk
    baseline = time.perf_counter() - started
    baseline_statements = counter.count

    mail.outbox = []
    report = BillingReport()
    phases: list[tuple[str, float, int, int]] = []

    def phase(name: str, pages_of: Any, run: Any) -> None:
        counter.count = 0
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            result = run()
        phases.append((name, time.perf_counter() - started, counter.count, pages_of(result)))

    host = OfflineHost()
    phase(
        "close periods + create bills",
        lambda r: r.pages,
        lambda: billing.close_periods(catalog, now=now, page_size=page_size),
    )
    phase(
        "post-paid bills at the peak",
        lambda r: r.pages,
        lambda: billing.finalize_arrears(
            catalog, now=now, conf=get_settings(), page_size=page_size
        ),
    )
    phase(
        "charge (cards paid, offline emailed)",
        lambda r: report.charge_pages,
        lambda: charge_due(host, now, page_size, report),
    )
    phase("grace", lambda r: 1, lambda: billing.apply_grace(now=now))

    bills = SubscriptionBill.objects.count()
    paid = SubscriptionBill.objects.filter(status=BillStatus.PAID).count()
    unpaid = SubscriptionBill.objects.filter(status=BillStatus.UNPAID).count()
    total = sum(seconds for _, seconds, _, _ in phases)
    amount = sum((bill.amount or Decimal(0)) for bill in SubscriptionBill.objects.only("amount"))
    print(
        f"\n{args.subscriptions} subscriptions, page size {page_size}: {bills} bills "
        f"({paid} paid on cards, {unpaid} unpaid with {len(mail.outbox)} emails), "
        f"{amount} EUR billed\n"
        f"baseline (lock and page through the due subscriptions): {baseline:.2f} s, "
        f"{pages} pages, {baseline_statements / max(pages, 1):.1f} statements per page"
    )
    for name, seconds, statements, phase_pages in phases:
        print(
            f"{name}: {seconds:.2f} s = {seconds / baseline:.1f}x the baseline, "
            f"{phase_pages} pages, {statements / max(phase_pages, 1):.0f} statements per page"
        )
    print(f"whole run: {total:.2f} s = {total / baseline:.1f}x the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
