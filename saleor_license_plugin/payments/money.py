"""Amounts in minor units (cents), as every provider here wants them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from saleor_license_plugin.licensing.pricing import currency_precision
from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode


def exponent(currency: str) -> int:
    """The same precision the quotes are rounded to (one table: CLDR's, as Saleor uses)."""
    return currency_precision(currency)


def to_minor(amount: Decimal, currency: str) -> int:
    """``Decimal("10.5"), "EUR"`` -> ``1050``. Refuses amounts finer than the currency allows."""
    places = Decimal(1).scaleb(-exponent(currency))
    quantized = amount.quantize(places, rounding=ROUND_HALF_UP)
    if quantized != amount:
        raise PaymentError(
            PaymentErrorCode.INVALID_AMOUNT,
            f"The amount has more decimals than {currency.upper()} allows.",
            field="amount",
        )
    return int(quantized.scaleb(exponent(currency)))


def from_minor(amount: int, currency: str) -> Decimal:
    return Decimal(int(amount)).scaleb(-exponent(currency))
