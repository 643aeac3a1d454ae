"""Offline payments (bank transfer, purchase order, proforma invoice): the customer's reference
number and the payment instructions. No provider, no money moves: staff mark the order paid
(``orderMarkAsPaid``) when the transfer arrives, and that triggers fulfillment."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from decimal import Decimal

from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode

_ALLOWED_RE = re.compile(r"^[A-Za-z0-9\-/._ ]+$")
DEFAULT_INSTRUCTIONS = (
    "Please transfer {total} {currency} to IBAN NL00 BANK 0123 4567 89 (Example Software BV), "
    "quoting {reference}. Your licenses are issued when the payment arrives."
)
PLACEHOLDERS = frozenset({"total", "currency", "reference", "order", "kind"})


@dataclass(frozen=True)
class ReferencePolicy:
    required: bool = False
    min_length: int = 3
    max_length: int = 35  # SEPA remittance reference limit
    label: str = "Purchase order number"


def clean_reference(value: str | None, policy: ReferencePolicy) -> str:
    """The reference as stored: trimmed, inner whitespace collapsed; "" when optional and absent.

    Raises PaymentError (REQUIRED / INVALID_REFERENCE) with a message naming the rule broken.
    """
    text = " ".join((value or "").split())
    if not text:
        if policy.required:
            raise PaymentError(
                PaymentErrorCode.REQUIRED, f"{policy.label} is required.", field="reference"
            )
        return ""
    if not policy.min_length <= len(text) <= policy.max_length:
        raise PaymentError(
            PaymentErrorCode.INVALID_REFERENCE,
            f"{policy.label} must be {policy.min_length} to {policy.max_length} characters long.",
            field="reference",
        )
    if not _ALLOWED_RE.match(text):
        raise PaymentError(
            PaymentErrorCode.INVALID_REFERENCE,
            f"{policy.label} may contain only letters, digits, spaces and - / . _",
            field="reference",
        )
    return text


def validate_template(template: str) -> None:
    """Refuse instruction templates with unknown or malformed placeholders (Dashboard input)."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        raise PaymentError(
            PaymentErrorCode.INVALID,
            "Instructions contain an unmatched brace.",
            field="instructions",
        ) from None
    unknown = names - PLACEHOLDERS
    if unknown:
        raise PaymentError(
            PaymentErrorCode.INVALID,
            "Unknown placeholder(s) in instructions: " + ", ".join(sorted(unknown)),
            field="instructions",
        )


def payment_instructions(
    template: str,
    *,
    total: Decimal,
    currency: str,
    reference: str,
    order: str = "",
    kind: str = "bank transfer",
) -> str:
    """The instructions shown to the customer, with the order total and the reference."""
    validate_template(template)
    return template.format(
        total=f"{total:.2f}" if total == total.quantize(Decimal("0.01")) else str(total),
        currency=currency.upper(),
        reference=reference or order or "your order number",
        order=order,
        kind=kind,
    )
