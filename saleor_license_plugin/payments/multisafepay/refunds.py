"""Refunds that are never sent twice.

MultiSafepay has no idempotency header. Each refund is a :class:`RefundAttempt` with a
deterministic reference, sent as the refund's description. An attempt whose outcome is unknown
(timeout, 5xx) stays pending; before re-sending it, the order's related transactions are checked
for that reference, and if the refund is there it is recorded instead of sent again.
"""

from __future__ import annotations

from saleor_license_plugin.payments.errors import PaymentError
from saleor_license_plugin.payments.idempotency import claim_refund, fail_refund, finish_refund
from saleor_license_plugin.payments.multisafepay.client import MultiSafepayClient, RefundResult

PROVIDER = "multisafepay"


def refund_order(
    client: MultiSafepayClient,
    *,
    payment_id: int | str,
    order_id: str,
    amount: int,
    currency: str,
) -> RefundResult:
    attempt, retry = claim_refund(
        provider=PROVIDER,
        payment_id=payment_id,
        reference=order_id,
        amount_minor=amount,
        currency=currency,
    )
    reference = attempt.idempotency_key
    if retry:  # the last attempt's outcome is unknown: did it reach MultiSafepay?
        existing = _already_refunded(client, order_id, reference)
        if existing is not None:
            finish_refund(attempt, existing.refund_id or existing.transaction_id)
            return existing
    try:
        result = client.refund(
            order_id=order_id, amount=amount, currency=currency, description=reference
        )
    except PaymentError as exc:
        if not exc.retryable:
            fail_refund(attempt)
        raise
    finish_refund(attempt, result.refund_id or result.transaction_id)
    return result


def _already_refunded(
    client: MultiSafepayClient, order_id: str, reference: str
) -> RefundResult | None:
    order = client.get_order(order_id)
    for related in order.related:
        if related.description == reference:
            return RefundResult(related.transaction_id, related.transaction_id, reference)
    return None
