"""What a provider notification means for a payment, as plain values the Saleor plugin applies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from saleor_license_plugin.payments.money import to_minor


class WebhookAction(StrEnum):
    AUTHORIZE = "authorize"  # funds held, capture later
    CAPTURE = "capture"  # paid
    PENDING = "pending"  # accepted, not yet cleared
    FAIL = "fail"  # declined, expired, cancelled, voided
    REFUND = "refund"  # one or more refunds exist at the provider
    CHARGEBACK = "chargeback"  # money reversed by the bank: suspend the licenses
    IGNORE = "ignore"  # nothing to do (see ``reason``)


class IgnoreReason(StrEnum):
    DUPLICATE = "duplicate"
    UNKNOWN_PAYMENT = "unknown_payment"
    AMOUNT_MISMATCH = "amount_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    UNHANDLED_EVENT = "unhandled_event"
    AWAITING_CUSTOMER = "awaiting_customer"


@dataclass(frozen=True)
class ExpectedPayment:
    """The payment as our side knows it: what the provider's object must agree with."""

    reference: str  # the provider's id for it (PaymentIntent id, MultiSafepay order id)
    amount: Decimal
    currency: str
    payment_id: str = ""

    @property
    def amount_minor(self) -> int:
        return to_minor(self.amount, self.currency)


@dataclass(frozen=True)
class ProviderRefund:
    refund_id: str
    amount: int  # minor units


@dataclass(frozen=True)
class WebhookOutcome:
    action: WebhookAction
    reference: str = ""
    amount: int = 0  # minor units
    currency: str = ""
    payment_id: str = ""
    reason: str = ""
    refunds: tuple[ProviderRefund, ...] = field(default_factory=tuple)
    event_id: str = ""

    @property
    def applies(self) -> bool:
        return self.action is not WebhookAction.IGNORE


def ignored(reason: IgnoreReason, reference: str = "", event_id: str = "") -> WebhookOutcome:
    return WebhookOutcome(
        WebhookAction.IGNORE, reference=reference, reason=reason.value, event_id=event_id
    )


# Given a provider reference, the payment it belongs to (or None if it is not ours).
PaymentLookup = Callable[[str], ExpectedPayment | None]
# Applies an outcome to the shop's payment; runs inside the transaction that records the event.
ApplyOutcome = Callable[[WebhookOutcome], None]


def check_amount(
    expected: ExpectedPayment, amount: int, currency: str, event_id: str = ""
) -> WebhookOutcome | None:
    """An IGNORE outcome when the provider's amount or currency disagrees with ours."""
    if currency.upper() != expected.currency.upper():
        return ignored(IgnoreReason.CURRENCY_MISMATCH, expected.reference, event_id)
    if amount != expected.amount_minor:
        return ignored(IgnoreReason.AMOUNT_MISMATCH, expected.reference, event_id)
    return None
