"""``manage.py license_reconcile [--since 2026-11-01 | --hours 72] [--dry-run]``"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from saleor_license_plugin.fulfillment.host import task_host
from saleor_license_plugin.fulfillment.reconcile import reconcile


class Command(BaseCommand):
    help = (
        "Fulfil paid orders that have no licenses yet, withdraw licenses of cancelled or "
        "refunded orders, retry failed keys emails. Idempotent: safe to run at any time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="ISO date or datetime (default: --hours ago)")
        parser.add_argument("--hours", type=int, default=72, help="look back (default 72)")
        parser.add_argument("--dry-run", action="store_true", help="report only, change nothing")
        parser.add_argument("--page-size", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["since"]:
            try:
                since = datetime.fromisoformat(options["since"])
            except ValueError:
                raise CommandError("--since takes an ISO date, e.g. 2026-11-01") from None
            if timezone.is_naive(since):
                since = timezone.make_aware(since)
        else:
            since = timezone.now() - timedelta(hours=options["hours"])
        host = task_host()
        source = host.order_source()
        if source is None:
            raise CommandError("This host has no orders to reconcile (run it inside Saleor).")
        report = reconcile(
            source,
            host,
            since=since,
            dry_run=options["dry_run"],
            page_size=max(1, options["page_size"]),
        )
        self.stdout.write(("DRY RUN: " if report.dry_run else "") + report.summary())
