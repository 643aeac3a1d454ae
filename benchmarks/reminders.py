"""The renewal-reminder sweep over many licenses: time, and statements per page.

    python -m benchmarks.reminders [--licenses 100000] [--page-size 500]

Seeds ``--licenses`` licenses (bulk insert) in a scratch PostgreSQL database (``DATABASE_URL``,
default ``slp_bench_reminders``; created, and emptied first), with term expiries spread over
two years and 2,000 customers, so that about a tenth fall in the reminder window. Then, in one
run: a baseline that only pages through the same candidates (one keyset query per page, no
work), and the sweep itself (claims, one email per customer to Django's in-memory backend).
Reports the sweep's time against the baseline's, and the statements each page cost.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from benchmarks import common

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/slp_bench_reminders"


def seed(count: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from saleor_license_plugin.models import License

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE saleor_license_plugin_reminderclaim, saleor_license_plugin_outboxmessage, "
            "saleor_license_plugin_licenseevent, saleor_license_plugin_activation, "
            "saleor_license_plugin_pendingchange, saleor_license_plugin_license CASCADE"
        )
    for batch in common.lapsing_licenses(
        count,
        secret=b"bench-only-key-secret",
        now=timezone.now(),
        owner="bench",
        lapsed_days=30,
        product_code="cloud-8",
        edition_rank=1,
    ):
        License.objects.bulk_create(batch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Renewal-reminder sweep benchmark.")
    parser.add_argument("--licenses", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args(argv)
    common.setup_scratch_database(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DB)
    print(f"Seeding {args.licenses} licenses…", flush=True)
    started = time.perf_counter()
    seed(args.licenses)
    print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)

    from django.core import mail
    from django.db import connection
    from django.utils import timezone

    from saleor_license_plugin.conf import get_settings
    from saleor_license_plugin.fulfillment.host import PlainHost
    from saleor_license_plugin.fulfillment.reminders import send_reminders
    from saleor_license_plugin.licensing.renewals import REMINDED, window
    from saleor_license_plugin.models import License

    now = timezone.now()
    low, high = window(now, get_settings().reminder_schedule)
    candidates = License.objects.filter(
        status__in=REMINDED, term_expires_at__range=(low, high)
    ).order_by("pk")
    started = time.perf_counter()
    last, scanned = 0, 0
    while True:
        page = list(candidates.filter(pk__gt=last)[: args.page_size])
        if not page:
            break
        scanned += len(page)
        last = page[-1].pk
    baseline = time.perf_counter() - started

    mail.outbox = []
    connection.force_debug_cursor = True
    started = time.perf_counter()
    report = send_reminders(PlainHost(), now=now, page_size=args.page_size)
    sweep = time.perf_counter() - started
    connection.force_debug_cursor = False
    per_page = sorted(set(report.queries_per_page))
    print(
        f"\n{args.licenses} licenses, {scanned} in the reminder window, "
        f"page size {args.page_size}\n"
        f"baseline (page through the candidates): {baseline:.2f} s\n"
        f"sweep (claim + {report.emails_sent} emails to {len(mail.outbox)} customers): "
        f"{sweep:.2f} s = {sweep / baseline:.1f}x the baseline\n"
        f"pages: {report.pages}, statements per page: {per_page}, steps claimed: {report.claimed}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
