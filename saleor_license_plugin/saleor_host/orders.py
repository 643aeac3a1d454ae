"""Saleor orders for fulfillment: the plain payload of an order's license lines, and what the
Celery tasks need from Saleor (found through ``fulfillment.host.task_host``)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from saleor.order.models import Order, OrderLine

from saleor_license_plugin import conf
from saleor_license_plugin.licensing.checkout_lines import (
    INTENT_KEY,
    RESULT_KEY,
    LineIntent,
    end_customer_from,
)
from saleor_license_plugin.licensing.errors import LicenseError
from saleor_license_plugin.saleor_host.auth import user_global_id

logger = logging.getLogger(__name__)


def has_license_lines(order: Order) -> bool:
    return any(INTENT_KEY in (line.private_metadata or {}) for line in order.lines.all())


def order_payload(
    order: Order, settings: conf.LicenseSettings, *, paid: bool, grace_days: int = 0
) -> dict[str, Any] | None:
    """The plain fulfillment payload of an order's license lines, or None if it has none."""
    lines = []
    for line in order.lines.select_related("variant__product").order_by("pk"):
        try:
            intent = LineIntent.from_metadata(line.private_metadata or {}, settings.key_secret)
        except LicenseError:
            logger.error("Order %s line %s: license intent fails its check", order.pk, line.pk)
            continue
        if intent is None:
            continue
        variant = line.variant
        if variant is None:
            logger.error("Order %s line %s: the variant was deleted", order.pk, line.pk)
            continue
        metadata = {**(variant.product.metadata or {}), **(variant.metadata or {})}
        lines.append({"line_id": str(line.pk), "intent": asdict(intent), "metadata": metadata})
    if not lines:
        return None
    buyer = user_global_id(order.user_id) if order.user_id else ""
    try:
        end_customer = end_customer_from(order.metadata or {})
    except LicenseError:  # checked at checkoutComplete; staff may have edited it since
        logger.warning("Order %s: end-customer metadata is invalid and was left out", order.pk)
        end_customer = {}
    return {
        "order_id": str(order.pk),
        "buyer_id": buyer,
        "email": (order.user_email or "") if settings.send_key_emails else "",
        "lines": lines,
        "currency": order.currency,
        "paid": paid,
        "grace_days": grace_days,
        "end_customer": end_customer,
    }


class SaleorTaskHost:
    """What the Celery tasks need inside Saleor (found by ``fulfillment.host.task_host``)."""

    def context(self) -> Any:
        # Saleor's Celery guard refuses unannounced use of the writer database; the tasks
        # read-then-write license state, which must come from the writer.
        from saleor.core.db.connection import allow_writer

        return allow_writer()

    def write_order_results(self, order_id: str, results: dict[str, dict[str, Any]]) -> None:
        """What fulfillment did, into each order line's private metadata: references to
        licenses, never keys."""
        for line in OrderLine.objects.filter(order_id=order_id, pk__in=list(results)):
            line.store_value_in_private_metadata({RESULT_KEY: results[str(line.pk)]})
            line.save(update_fields=["private_metadata"])
