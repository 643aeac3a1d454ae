"""One way to fulfil an order, used by the Celery task and by the reconciliation alike."""

from __future__ import annotations

from saleor_license_plugin.fulfillment import invoicing, notify, provisioning
from saleor_license_plugin.fulfillment.failures import report_failed_lines
from saleor_license_plugin.fulfillment.host import TaskHost, in_host
from saleor_license_plugin.fulfillment.orders import LineResult, OrderPayload, apply_order
from saleor_license_plugin.licensing import holds


def fulfill(order: OrderPayload, host: TaskHost) -> list[LineResult]:
    """Issue or apply the order's licenses (idempotent per order line and unit), write what
    was done back through the host (inside Saleor: order-line private metadata, never keys),
    and email the keys once when the order is paid (for a subscription: the order ID and its
    key), and ask the merchant's system for each instance the order's subscriptions need (once
    each, ``fulfillment.provisioning``); then, when asked (``INVOICE_ON_PAYMENT``), issue the
    invoice, which names the keys just issued, and email it once."""
    with in_host(host):
        results = apply_order(order)
        if order.paid:
            holds.settle(holds.order_holder(order.order_id))
            report_failed_lines(order, results, host)
        host.write_order_results(order.order_id, {r.line_id: r.for_metadata() for r in results})
        if order.paid:
            notify.send_keys_once(order, results)  # for a subscription: its order ID and key
            provisioning.request_for_order(order, results)
        if order.paid and order.invoice:
            invoicing.invoice_paid_order(order.order_id, host)
    return results
