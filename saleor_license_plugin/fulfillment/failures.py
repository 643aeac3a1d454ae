"""A paid line that cannot be applied is never silent.

Holds (``licensing.holds``) stop most conflicting orders at checkout; what still gets through
(a hold that lapsed, an order created by staff, a license revoked after checkout) ends here:
staff get an email and, inside Saleor, a note on the order in the Dashboard; the line is
refunded through the order's payment when ``AUTO_REFUND_FAILED_LINES`` is on (the default), and
the buyer is told. Each of these happens once per order line (the outbox's claims), however
often fulfillment runs.
"""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings as django_settings
from django.core.mail import EmailMessage

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.fulfillment import outbox
from saleor_license_plugin.fulfillment.host import TaskHost
from saleor_license_plugin.fulfillment.orders import LineResult, OrderPayload

logger = logging.getLogger(__name__)


def staff_recipients() -> list[str]:
    configured = list(get_settings().staff_emails)
    if configured:
        return configured
    return [email for _, email in getattr(django_settings, "ADMINS", [])]


def _staff_message(order: OrderPayload, failed: LineResult, refund: str) -> EmailMessage:
    error = failed.error or {}
    body = (
        f"Order {order.order_id} was paid, but its license line {failed.line_id} "
        f"({failed.action}) could not be applied: {error.get('code')}: {error.get('message')}\n\n"
        f"{refund}\n\nBuyer: {order.email or order.buyer_id}\n"
    )
    return EmailMessage(
        subject=f"[licenses] Order {order.order_id}: a paid line could not be applied",
        body=body,
        from_email=getattr(django_settings, "DEFAULT_FROM_EMAIL", None),
        to=staff_recipients(),
    )


def _buyer_message(order: OrderPayload, failed: LineResult, refunded: bool) -> EmailMessage:
    outcome = (
        "The amount for it has been refunded to your payment method."
        if refunded
        else "Our team has been told and will contact you about a refund."
    )
    return EmailMessage(
        subject=f"About your order {order.order_id}",
        body=(
            f"One item of your order {order.order_id} ({failed.action.replace('_', ' ')}) could "
            f"not be applied to your license, because the license changed after you ordered. "
            f"{outcome}\n"
        ),
        from_email=getattr(django_settings, "DEFAULT_FROM_EMAIL", None),
        to=[order.email],
    )


def report_failed_lines(order: OrderPayload, results: list[LineResult], host: TaskHost) -> int:
    """Handle every paid line that failed; the number of such lines."""
    failed = [result for result in results if result.error]
    if not order.paid or not failed:
        return 0
    auto_refund = get_settings().auto_refund_failed_lines
    for result in failed:
        base = f"order:{order.order_id}:line:{result.line_id}"
        code = (result.error or {}).get("code", "")
        logger.error(
            "Order %s line %s was paid and not applied: %s", order.order_id, result.line_id, code
        )
        refunded = False
        if auto_refund and host.can_refund:
            outbox.once(
                f"{base}:refund",
                kind="line_refund",
                recipient=order.order_id,
                action=partial(host.refund_line, order.order_id, result.line_id),
            )
            refunded = outbox.is_done(f"{base}:refund")
        refund_text = (
            "The line was refunded through the order's payment."
            if refunded
            else "The line was NOT refunded automatically: refund it in the Dashboard."
        )
        # The note and the emails say whether the line was refunded, and are keyed by that
        # outcome: when a refund that failed succeeds on a later run (the task retried), the
        # order gets a second note and the people a second message saying so, each once.
        outcome = "refunded" if refunded else "not-refunded"
        note = (
            f"License line {result.line_id} ({result.action}) was paid and not applied: "
            f"{code}. {refund_text}"
        )
        outbox.once(
            f"{base}:note:{outcome}",
            kind="order_note",
            recipient=order.order_id,
            action=partial(host.note_on_order, order.order_id, note),
        )
        if staff_recipients():
            outbox.send_once(
                f"{base}:staff:{outcome}",
                kind="staff_alert",
                recipient=",".join(staff_recipients())[:254],
                build=partial(_staff_message, order, result, refund_text),
            )
        if order.email:
            outbox.send_once(
                f"{base}:buyer:{outcome}",
                kind="buyer_notice",
                recipient=order.email,
                build=partial(_buyer_message, order, result, refunded),
            )
    return len(failed)
