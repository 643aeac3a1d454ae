"""Payment errors with stable codes. Messages never carry an API key, a webhook secret or a
customer's card data: they are written here, never copied from a provider's exception."""

from __future__ import annotations

from enum import StrEnum


class PaymentErrorCode(StrEnum):
    # configuration
    NOT_CONFIGURED = "NOT_CONFIGURED"
    # input
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    INVALID_REFERENCE = "INVALID_REFERENCE"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    UNSUPPORTED_CURRENCY = "UNSUPPORTED_CURRENCY"
    # provider
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"  # timeout or connection error: retry later
    PROVIDER_ERROR = "PROVIDER_ERROR"  # 5xx: retry later
    PROVIDER_REJECTED = "PROVIDER_REJECTED"  # 4xx: the request itself is wrong
    PROVIDER_AUTHENTICATION = "PROVIDER_AUTHENTICATION"  # wrong API key
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    # notifications
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    STALE_NOTIFICATION = "STALE_NOTIFICATION"
    INVALID_PAYLOAD = "INVALID_PAYLOAD"


RETRYABLE = frozenset({PaymentErrorCode.PROVIDER_UNAVAILABLE, PaymentErrorCode.PROVIDER_ERROR})


class PaymentError(Exception):
    """A payment refusal or failure: a stable ``code``, a safe ``message``, the provider's own
    error code when it gave one (e.g. Stripe's ``card_declined``)."""

    def __init__(
        self,
        code: PaymentErrorCode,
        message: str,
        *,
        provider_code: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.provider_code = provider_code
        self.field = field

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.code.value!r}, {self.message!r}, "
            f"provider_code={self.provider_code!r})"
        )
