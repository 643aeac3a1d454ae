"""Reconciliation: heal what a lost event left behind, in both directions.

Licenses are issued from Saleor's ``order_fully_paid`` hook through one Celery message. If the
hook is not called (Saleor removes hooks, even in patch releases; order hooks are deprecated),
the broker loses the message, or the workers are down past the visibility timeout, a customer
has paid and has no key. The opposite also happens: an order is cancelled or refunded and the
withdrawal never runs. This job finds both and repairs them through the same idempotent paths
(``pipeline.fulfill`` and ``orders.withdraw_order``), so running it twice, or two of it at once,
changes nothing more.

Bounded cost: orders come from the host in pages (keyset, ``page_size`` at a time), and each
page costs a fixed number of queries to classify (licenses by order line, events by order line);
only orders that need repair cost more. It also retries keys emails that failed or whose worker
died (the outbox's ``due_for_retry``), and invoices or invoice emails that failed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.utils import timezone

from saleor_license_plugin.fulfillment import invoicing, notify, outbox
from saleor_license_plugin.fulfillment.host import TaskHost
from saleor_license_plugin.fulfillment.orders import OrderPayload, withdraw_order
from saleor_license_plugin.fulfillment.pipeline import fulfill
from saleor_license_plugin.licensing.checkout_lines import LineIntent
from saleor_license_plugin.licensing.lifecycle import record_event
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import (
    BillStatus,
    License,
    LicenseEvent,
    LicenseStatus,
    SubscriptionBill,
)

logger = logging.getLogger(__name__)

RECONCILED = "reconciled"
STANDING = (LicenseStatus.ACTIVE, LicenseStatus.PENDING_PAYMENT, LicenseStatus.EXPIRED)


@dataclass(frozen=True)
class PaidOrder:
    """A paid order with license lines, as the host sees it."""

    payload: dict[str, Any] | None  # OrderPayload.to_dict(), paid=True; None: no valid lines
    failed_lines: frozenset[str] = frozenset()  # lines whose fulfillment reported an error
    cursor: str = ""  # keyset position for the next page


@dataclass(frozen=True)
class WithdrawnOrder:
    order_id: str
    reason: str  # "cancelled" or "fully_refunded", as the hooks name them
    cursor: str = ""


class OrderSource(Protocol):
    """What the host knows about orders (inside Saleor: ``saleor_host.orders``)."""

    def paid_orders(self, *, since: datetime, after: str, limit: int) -> list[PaidOrder]: ...

    def withdrawn_orders(
        self, *, since: datetime, after: str, limit: int
    ) -> list[WithdrawnOrder]: ...


@dataclass
class ReconcileReport:
    dry_run: bool
    paid_checked: int = 0
    withdrawn_checked: int = 0
    pages: int = 0
    fulfilled: list[str] = field(default_factory=list)  # order ids
    withdrawn: list[str] = field(default_factory=list)
    emails_retried: list[str] = field(default_factory=list)  # outbox keys
    invoices_retried: list[str] = field(default_factory=list)  # outbox keys

    def summary(self) -> str:
        verb = "would fix" if self.dry_run else "fixed"
        return (
            f"checked {self.paid_checked} paid and {self.withdrawn_checked} cancelled/refunded "
            f"order(s) in {self.pages} page(s); {verb}: {len(self.fulfilled)} unfulfilled "
            f"{self.fulfilled}, {len(self.withdrawn)} not withdrawn {self.withdrawn}, "
            f"{len(self.emails_retried)} keys email(s), "
            f"{len(self.invoices_retried)} invoice(s) or invoice email(s)"
        )


def _pages(fetch: Any, since: datetime, page_size: int) -> Iterator[list[Any]]:
    after = ""
    while True:
        page = fetch(since=since, after=after, limit=page_size)
        if not page:
            return
        yield page
        if len(page) < page_size:
            return
        after = page[-1].cursor


def unfulfilled(orders: list[PaidOrder]) -> list[PaidOrder]:
    """The orders of one page that lack licenses or changes their lines paid for (or a
    subscription bill still unpaid): two queries for the page, whatever its size (three with
    bill lines)."""
    new_lines: dict[str, int] = {}
    change_lines: set[str] = set()
    bill_lines: dict[str, int] = {}  # subscription bills: done once the bill is paid
    orders = [order for order in orders if order.payload is not None]
    for order in orders:
        assert order.payload is not None
        for line in order.payload["lines"]:
            if line["line_id"] in order.failed_lines:
                continue  # reported to staff when it failed; not retried blindly
            intent = LineIntent(**line["intent"])
            if intent.line_action is LineAction.NEW:
                new_lines[line["line_id"]] = intent.quantity
            elif intent.line_action is LineAction.SUBSCRIPTION_BILL:
                bill_lines[line["line_id"]] = int((intent.details or {}).get("bill") or 0)
            else:
                change_lines.add(line["line_id"])
    issued: Counter[str] = Counter()
    pending: set[str] = set()
    rows = License.objects.filter(origin_order_line_id__in=list(new_lines)).values_list(
        "origin_order_line_id", "status"
    )
    for line_id, status in rows:
        issued[line_id] += 1
        if status == LicenseStatus.PENDING_PAYMENT:
            pending.add(line_id)  # issued before payment; the payment never reached it
    applied = set(
        LicenseEvent.objects.filter(order_line_id__in=list(change_lines))
        .values_list("order_line_id", flat=True)
        .distinct()
    )

    paid_bills = (
        set(
            SubscriptionBill.objects.filter(
                pk__in=list(bill_lines.values()), status=BillStatus.PAID
            ).values_list("pk", flat=True)
        )
        if bill_lines
        else set()
    )

    def complete(line_id: str) -> bool:
        if line_id in bill_lines:
            return bill_lines[line_id] in paid_bills
        if line_id in new_lines:
            return issued[line_id] >= new_lines[line_id] and line_id not in pending
        return line_id not in change_lines or line_id in applied

    return [
        order
        for order in orders
        if order.payload is not None
        and not all(complete(line["line_id"]) for line in order.payload["lines"])
    ]


def not_withdrawn(orders: list[WithdrawnOrder]) -> list[WithdrawnOrder]:
    """Cancelled or refunded orders whose issued licenses still stand: one query per page."""
    ids = [order.order_id for order in orders]
    standing = set(
        License.objects.filter(origin_order_id__in=ids, status__in=STANDING)
        .values_list("origin_order_id", flat=True)
        .distinct()
    )
    return [order for order in orders if order.order_id in standing]


def _note(order_id: str, note: str, now: datetime) -> None:
    for license in License.objects.filter(origin_order_id=order_id):
        record_event(license, RECONCILED, actor="system:reconcile", before=None, note=note, now=now)


def reconcile(
    source: OrderSource,
    host: TaskHost,
    *,
    since: datetime,
    dry_run: bool = False,
    page_size: int = 200,
    now: datetime | None = None,
) -> ReconcileReport:
    now = now or timezone.now()
    report = ReconcileReport(dry_run=dry_run)
    for page in _pages(source.paid_orders, since, page_size):
        report.pages += 1
        report.paid_checked += len(page)
        for order in unfulfilled(page):
            assert order.payload is not None
            payload = OrderPayload.from_dict(order.payload)
            report.fulfilled.append(payload.order_id)
            if dry_run:
                continue
            fulfill(payload, host)
            with host.context():
                _note(payload.order_id, "paid order fulfilled by reconciliation", now)
    for page in _pages(source.withdrawn_orders, since, page_size):
        report.pages += 1
        report.withdrawn_checked += len(page)
        for withdrawn in not_withdrawn(page):
            report.withdrawn.append(withdrawn.order_id)
            if dry_run:
                continue
            with host.context():
                withdraw_order(withdrawn.order_id, reason=withdrawn.reason, revoke_issued=True)
                _note(
                    withdrawn.order_id, f"{withdrawn.reason} order withdrawn by reconciliation", now
                )
    for message in outbox.due_for_retry(now, kind=notify.KIND):
        report.emails_retried.append(message.key)
        if not dry_run:
            with host.context():
                notify.resend_keys(message.key, message.recipient)
    report.invoices_retried = invoicing.retry_failed(host, dry_run=dry_run)
    log = logger.warning if report.fulfilled or report.withdrawn else logger.info
    log("License reconciliation: %s", report.summary())
    return report
