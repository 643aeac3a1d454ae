"""``manage.py subscription_billing [--page-size 500]``"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from saleor_license_plugin.fulfillment.host import task_host
from saleor_license_plugin.fulfillment.subscription_billing import run_subscription_billing


class Command(BaseCommand):
    help = (
        "Close ended subscription periods, bill each period once, charge saved cards, suspend "
        "and cancel subscriptions unpaid past the grace. Safe to run at any time, also next to "
        "the beat task: every period is billed once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--page-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        host = task_host()
        with host.context():
            report = run_subscription_billing(host, page_size=max(1, options["page_size"]))
        self.stdout.write(
            f"{report.close.rolled} period(s) rolled, {report.close.bills} bill(s) created, "
            f"{report.finalize.issued} issued at the peak, {len(report.paid)} paid, "
            f"{report.declined} declined, {report.unpaid} left unpaid, "
            f"{len(report.grace.suspended)} suspended, {len(report.grace.cancelled)} cancelled"
        )
