"""Celery tasks. ``acks_late`` + ``reject_on_worker_lost``: a task whose worker dies is delivered
again, and the idempotent services make the second run apply only what the first did not.

Registered with the host's Celery app through ``saleor_license_plugin/tasks.py`` (Celery's
autodiscovery looks for ``<app>.tasks``).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import DatabaseError, InterfaceError

from saleor_license_plugin.fulfillment import notify
from saleor_license_plugin.fulfillment.host import task_host
from saleor_license_plugin.fulfillment.orders import (
    OrderPayload,
    apply_order,
    expire_due,
    withdraw_order,
)

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


@shared_task(name="saleor_license_plugin.fulfill_order", **TASK_OPTIONS)
def fulfill_order(payload: dict[str, Any]) -> dict[str, Any]:
    """Issue or apply the licenses of a (paid, or pending-payment) order, write the results back
    through the task host (inside Saleor: the order lines' private metadata), and email the keys
    once."""
    order = OrderPayload.from_dict(payload)
    host = task_host()
    with host.context():
        results = apply_order(order)
        host.write_order_results(order.order_id, {r.line_id: r.for_metadata() for r in results})
        if order.paid and order.email:
            notify.send_keys_once(order, results)
    summary = {r.line_id: r.for_metadata() for r in results}
    logger.info("Order %s fulfilled: %d license line(s)", order.order_id, len(results))
    return summary


@shared_task(name="saleor_license_plugin.withdraw_order", **TASK_OPTIONS)
def withdraw_order_task(order_id: str, reason: str, revoke_issued: bool = True) -> dict[str, int]:
    with task_host().context():
        counts = withdraw_order(order_id, reason=reason, revoke_issued=revoke_issued)
    logger.info("Order %s %s: %s", order_id, reason, counts)
    return counts


@shared_task(name="saleor_license_plugin.expire_due", **TASK_OPTIONS)
def expire_due_task() -> dict[str, int]:
    """Run periodically (Celery beat, e.g. hourly)."""
    with task_host().context():
        return expire_due()
