"""Celery tasks. ``acks_late`` + ``reject_on_worker_lost``: a task whose worker dies is delivered
again, and the idempotent services make the second run apply only what the first did not.

Registered with the host's Celery app through ``saleor_license_plugin/tasks.py`` (Celery's
autodiscovery looks for ``<app>.tasks``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.db import DatabaseError, InterfaceError
from django.utils import timezone

from saleor_license_plugin.fulfillment.autorenew import run_auto_renewals
from saleor_license_plugin.fulfillment.host import TaskHost, in_host, task_host
from saleor_license_plugin.fulfillment.invoicing import invoice_paid_order
from saleor_license_plugin.fulfillment.orders import (
    OrderPayload,
    expire_due,
    withdraw_order,
)
from saleor_license_plugin.fulfillment.pipeline import fulfill
from saleor_license_plugin.fulfillment.reconcile import reconcile
from saleor_license_plugin.fulfillment.reminders import send_reminders
from saleor_license_plugin.fulfillment.subscription_billing import run_subscription_billing

logger = logging.getLogger(__name__)

RETRYABLE = (DatabaseError, InterfaceError, ConnectionError, TimeoutError)
TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 12,
}


def _in_host[R](run: Callable[[TaskHost], R]) -> R:
    """``run(host)`` inside the host's context and settings (``in_host``)."""
    with in_host(task_host()) as host:
        return run(host)


@shared_task(name="saleor_license_plugin.fulfill_order", **TASK_OPTIONS)
def fulfill_order(payload: dict[str, Any]) -> dict[str, Any]:
    """Issue or apply the licenses of a (paid, or pending-payment) order, write the results back
    through the task host (inside Saleor: the order lines' private metadata), and email the keys
    once."""
    order = OrderPayload.from_dict(payload)
    results = fulfill(order, task_host())
    summary = {r.line_id: r.for_metadata() for r in results}
    logger.info("Order %s fulfilled: %d license line(s)", order.order_id, len(results))
    return summary


@shared_task(name="saleor_license_plugin.invoice_order", **TASK_OPTIONS)
def invoice_order_task(order_id: str) -> dict[str, str]:
    """Issue a paid order's invoice and email it, once (orders without license lines; the
    fulfillment pipeline does it for the others, after their licenses exist)."""
    invoice = _in_host(lambda host: invoice_paid_order(order_id, host))
    return {"invoice": invoice.number if invoice is not None else ""}


@shared_task(name="saleor_license_plugin.withdraw_order", **TASK_OPTIONS)
def withdraw_order_task(order_id: str, reason: str, revoke_issued: bool = True) -> dict[str, int]:
    with in_host(task_host()):
        counts = withdraw_order(order_id, reason=reason, revoke_issued=revoke_issued)
    logger.info("Order %s %s: %s", order_id, reason, counts)
    return counts


@shared_task(name="saleor_license_plugin.expire_due", **TASK_OPTIONS)
def expire_due_task() -> dict[str, int]:
    """Run periodically (Celery beat, e.g. hourly)."""
    with in_host(task_host()):
        return expire_due()


@shared_task(name="saleor_license_plugin.reconcile", **TASK_OPTIONS)
def reconcile_task(since_hours: int = 72) -> dict[str, Any]:
    """Run periodically (Celery beat, e.g. every 15 minutes): fulfil paid orders a lost event
    left without licenses, withdraw cancelled or refunded ones, retry failed keys emails."""
    with in_host(task_host()) as host:  # the Dashboard's settings, read from the writer
        source = host.order_source()
        if source is None:
            return {"skipped": "this host has no orders"}
        since = timezone.now() - timedelta(hours=since_hours)
        report = reconcile(source, host, since=since)
    return {
        "fulfilled": report.fulfilled,
        "withdrawn": report.withdrawn,
        "emails_retried": len(report.emails_retried),
        "invoices_retried": len(report.invoices_retried),
    }


@shared_task(name="saleor_license_plugin.send_renewal_reminders", **TASK_OPTIONS)
def send_renewal_reminders_task() -> dict[str, int]:
    """Run periodically (Celery beat, e.g. daily or hourly): each reminder goes out once."""
    report = _in_host(send_reminders)
    return {"claimed": report.claimed, "emails": report.emails_sent, "pages": report.pages}


@shared_task(name="saleor_license_plugin.auto_renew", **TASK_OPTIONS)
def auto_renew_task() -> dict[str, Any]:
    """Run periodically (Celery beat, e.g. hourly): renew due licenses on saved cards."""
    report = _in_host(run_auto_renewals)
    return {"due": report.due, "paid": report.paid, "declined": report.declined}


@shared_task(name="saleor_license_plugin.bill_subscriptions", **TASK_OPTIONS)
def bill_subscriptions_task() -> dict[str, Any]:
    """Run periodically (Celery beat, e.g. hourly): close ended subscription periods, bill
    each once, charge saved cards, suspend and cancel what stays unpaid past the grace."""
    with in_host(task_host()) as host:
        report = run_subscription_billing(host)
    return {
        "rolled": report.close.rolled,
        "bills": report.close.bills,
        "issued": report.finalize.issued,
        "paid": report.paid,
        "declined": report.declined,
        "unpaid": report.unpaid,
        "suspended": len(report.grace.suspended),
        "cancelled": len(report.grace.cancelled),
    }
