"""MultiSafepay order statuses and what they mean for a payment."""

from __future__ import annotations

from enum import StrEnum


class PaymentState(StrEnum):
    PAID = "paid"
    PENDING = "pending"
    AWAITING_CUSTOMER = "awaiting_customer"
    FAILED = "failed"
    CHARGEBACK = "chargeback"  # the licenses must be suspended by the caller
    REFUNDED = "refunded"


_STATES = {
    "completed": PaymentState.PAID,
    "shipped": PaymentState.PAID,
    "uncleared": PaymentState.PENDING,
    "reserved": PaymentState.PENDING,
    "initialized": PaymentState.AWAITING_CUSTOMER,
    "declined": PaymentState.FAILED,
    "expired": PaymentState.FAILED,
    "cancelled": PaymentState.FAILED,
    "canceled": PaymentState.FAILED,
    "void": PaymentState.FAILED,
    "chargeback": PaymentState.CHARGEBACK,
    "refunded": PaymentState.REFUNDED,
    "partial_refunded": PaymentState.REFUNDED,
}


def payment_state(status: str) -> PaymentState:
    """Unknown statuses count as still waiting: nothing is marked paid on a guess."""
    return _STATES.get(status.strip().lower(), PaymentState.AWAITING_CUSTOMER)
