"""Everything that talks to Stripe, with plain values in and out.

stripe-python is pinned at 3.5 by Saleor: module-level API, errors under ``stripe.error``.
Each call goes through its own ``APIRequestor`` with

* the API key passed per call (``stripe.api_key`` is never set),
* an HTTP client of our own with explicit connect/read timeouts: ``stripe.default_http_client``
  (Saleor's own Stripe gateway uses it, with the library's 80 s timeout) is never replaced,
* the API version passed per call (Saleor sets ``stripe.api_version`` globally when its
  gateway is imported; we pin the same version without relying on that),
* a deterministic ``Idempotency-Key`` on every POST (GETs are idempotent by nature).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

import stripe
from stripe import api_requestor, util
from stripe import error as stripe_error
from stripe.http_client import RequestsClient

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.idempotency import (
    claim_refund,
    fail_refund,
    finish_refund,
    idempotency_key,
)
from saleor_license_plugin.payments.money import to_minor

logger = logging.getLogger(__name__)

PROVIDER = "stripe"
STRIPE_API_VERSION = "2020-08-27"  # the version stripe-python 3.5 and Saleor's gateway use
METADATA_PAYMENT_ID = "slp_payment_id"
METADATA_GATEWAY = "slp_gateway"


@dataclass(frozen=True)
class StripeConfig:
    secret_api_key: str = field(repr=False)
    public_api_key: str = ""
    webhook_secret: str = field(default="", repr=False)
    auto_capture: bool = True
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    # None: SALEOR_LICENSE["STRIPE_API_BASE"] if set, else Stripe's (https://api.stripe.com)
    api_base: str | None = None
    api_version: str = STRIPE_API_VERSION
    gateway_id: str = "saleor_license_plugin.payments.stripe"


class IntentState(StrEnum):
    ACTION_REQUIRED = "action_required"  # the customer must act (3-D Secure, card entry)
    NEEDS_CONFIRMATION = "needs_confirmation"  # the server must confirm
    PROCESSING = "processing"
    AUTHORIZED = "authorized"  # requires_capture
    CAPTURED = "captured"  # succeeded
    FAILED = "failed"  # requires_payment_method after an attempt
    CANCELED = "canceled"


@dataclass(frozen=True)
class CardDetails:
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None


@dataclass(frozen=True)
class Intent:
    """The parts of a PaymentIntent the gateway acts on."""

    id: str
    status: str
    amount: int
    amount_received: int
    amount_capturable: int
    currency: str
    client_secret: str = field(default="", repr=False)
    customer: str | None = None
    payment_method: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    card: CardDetails | None = None
    error_code: str | None = None

    @property
    def state(self) -> IntentState:
        if self.status == "succeeded":
            return IntentState.CAPTURED
        if self.status == "requires_capture":
            return IntentState.AUTHORIZED
        if self.status == "processing":
            return IntentState.PROCESSING
        if self.status == "canceled":
            return IntentState.CANCELED
        if self.status == "requires_confirmation":
            return IntentState.NEEDS_CONFIRMATION
        if self.status == "requires_payment_method" and self.error_code:
            return IntentState.FAILED
        return IntentState.ACTION_REQUIRED  # requires_action, requires_payment_method


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    currency: str
    status: str
    idempotency_key: str = ""


@dataclass(frozen=True)
class SavedCard:
    id: str
    card: CardDetails | None
    metadata: dict[str, str] = field(default_factory=dict)


# --- transport -------------------------------------------------------------------------------

_clients: dict[tuple[float, float], RequestsClient] = {}


def _http_client(config: StripeConfig) -> RequestsClient:
    timeouts = (config.connect_timeout, config.read_timeout)
    client = _clients.get(timeouts)
    if client is None:
        # requests accepts a (connect, read) tuple; RequestsClient passes ``timeout`` through.
        client = _clients[timeouts] = RequestsClient(timeout=timeouts)
    return client


def _request(
    config: StripeConfig,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    idempotency_key: str | None = None,
) -> Any:
    if not config.secret_api_key:
        raise PaymentError(PaymentErrorCode.NOT_CONFIGURED, "Stripe secret API key is not set.")
    requestor = api_requestor.APIRequestor(
        key=config.secret_api_key,
        client=_http_client(config),
        api_base=config.api_base or get_settings().stripe_api_base or stripe.api_base,
        api_version=config.api_version,
    )
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    try:
        response, api_key = requestor.request(method, path, params or {}, headers)
    except stripe_error.StripeError as exc:
        raise _translate(exc, path) from None
    return util.convert_to_stripe_object(response, api_key, config.api_version, None)


def _translate(exc: stripe_error.StripeError, path: str) -> PaymentError:
    """A PaymentError with a message of our own: Stripe's messages may quote a masked key."""
    provider_code = getattr(exc, "code", None)
    status = getattr(exc, "http_status", None)
    code: PaymentErrorCode
    if isinstance(exc, stripe_error.CardError):
        code, message = PaymentErrorCode.PAYMENT_DECLINED, "The card was declined."
    elif isinstance(exc, stripe_error.APIConnectionError):
        code, message = PaymentErrorCode.PROVIDER_UNAVAILABLE, "Stripe could not be reached."
    elif isinstance(exc, stripe_error.AuthenticationError | stripe_error.PermissionError):
        code, message = PaymentErrorCode.PROVIDER_AUTHENTICATION, "Stripe refused the API key."
    elif isinstance(exc, stripe_error.IdempotencyError):
        code = PaymentErrorCode.IDEMPOTENCY_CONFLICT
        message = "Stripe saw this idempotency key with other parameters."
    elif isinstance(exc, stripe_error.RateLimitError) or (status or 0) >= 500:
        code, message = PaymentErrorCode.PROVIDER_ERROR, "Stripe failed to process the request."
    elif status == 404:
        code, message = PaymentErrorCode.NOT_FOUND, "Stripe does not know this object."
    else:
        code, message = PaymentErrorCode.PROVIDER_REJECTED, "Stripe rejected the request."
    logger.warning(
        "Stripe request failed",
        extra={
            "path": path,
            "http_status": status,
            "code": code.value,
            "stripe_code": provider_code,
        },
    )
    return PaymentError(code, message, provider_code=provider_code)


# --- conversions -----------------------------------------------------------------------------


def _card_from_details(details: Any) -> CardDetails | None:
    if not details:
        return None
    exp_month = details.get("exp_month")
    exp_year = details.get("exp_year")
    return CardDetails(
        brand=str(details.get("brand") or ""),
        last4=str(details.get("last4") or ""),
        exp_month=int(exp_month) if exp_month else None,
        exp_year=int(exp_year) if exp_year else None,
    )


def _intent(obj: Any) -> Intent:
    card = None
    charges = (obj.get("charges") or {}).get("data") or []
    if charges:
        details = charges[-1].get("payment_method_details") or {}
        if details.get("type") == "card":
            card = _card_from_details(details.get("card"))
    error = obj.get("last_payment_error") or {}
    return Intent(
        id=obj["id"],
        status=obj["status"],
        amount=int(obj.get("amount") or 0),
        amount_received=_amount_received(obj, charges),
        amount_capturable=int(obj.get("amount_capturable") or 0),
        currency=str(obj.get("currency") or "").upper(),
        client_secret=str(obj.get("client_secret") or ""),
        customer=_id_of(obj.get("customer")),
        payment_method=_id_of(obj.get("payment_method")),
        metadata=dict(obj.get("metadata") or {}),
        card=card,
        error_code=(error.get("code") or "failed") if error else None,
    )


def _amount_received(obj: Any, charges: list[Any]) -> int:
    received = obj.get("amount_received")
    if received is not None:
        return int(received)
    # Older API shapes (and localstripe) lack ``amount_received``: sum the captured charges.
    return sum(
        int(charge.get("amount_captured") or charge.get("amount") or 0)
        for charge in charges
        if charge.get("captured") and charge.get("status") == "succeeded"
    )


def _id_of(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value.get("id"))


def _refund(obj: Any, key: str = "") -> Refund:
    return Refund(
        id=obj["id"],
        amount=int(obj.get("amount") or 0),
        currency=str(obj.get("currency") or "").upper(),
        status=str(obj.get("status") or ""),
        idempotency_key=key,
    )


# --- PaymentIntents --------------------------------------------------------------------------


def create_payment_intent(
    config: StripeConfig,
    *,
    payment_id: int | str,
    amount: Decimal,
    currency: str,
    payment_method_id: str | None = None,
    customer_id: str | None = None,
    setup_future_usage: str | None = None,
    off_session: bool = False,
    auto_capture: bool | None = None,
    metadata: dict[str, str] | None = None,
) -> Intent:
    """Create (and, with a payment method, confirm) a PaymentIntent for a Saleor payment.

    With a payment method the intent is confirmed at once: it ends ``succeeded``,
    ``requires_capture`` or ``requires_action`` (3-D Secure: hand ``client_secret`` to the
    storefront, then call :func:`confirm_payment_intent`). Without one, the storefront confirms
    it with Stripe.js using the client secret.
    """
    amount_minor = to_minor(amount, currency)
    if amount_minor <= 0:
        raise PaymentError(PaymentErrorCode.INVALID_AMOUNT, "The amount must be positive.")
    capture = config.auto_capture if auto_capture is None else auto_capture
    params: dict[str, Any] = {
        "amount": amount_minor,
        "currency": currency.lower(),
        "capture_method": "automatic" if capture else "manual",
        "payment_method_types": ["card"],
        "metadata": {
            **(metadata or {}),
            METADATA_PAYMENT_ID: str(payment_id),
            METADATA_GATEWAY: config.gateway_id,
        },
    }
    if customer_id:
        params["customer"] = customer_id
    if setup_future_usage in ("on_session", "off_session"):
        if not customer_id:
            raise PaymentError(
                PaymentErrorCode.REQUIRED, "Saving a card needs a customer.", field="customer"
            )
        params["setup_future_usage"] = setup_future_usage
    if payment_method_id:
        params["payment_method"] = payment_method_id
        params["confirm"] = True
        if off_session:
            params["off_session"] = True
    key = idempotency_key(payment_id, "create", amount_minor)
    return _intent(_request(config, "post", "/v1/payment_intents", params, idempotency_key=key))


def retrieve_payment_intent(config: StripeConfig, intent_id: str) -> Intent:
    return _intent(_request(config, "get", f"/v1/payment_intents/{_safe_id(intent_id)}"))


def confirm_payment_intent(
    config: StripeConfig, *, payment_id: int | str, intent_id: str
) -> Intent:
    """The intent's current state; confirmed server-side if it waits for that (after 3-D Secure
    with manual confirmation). Other states are returned as they are."""
    intent = retrieve_payment_intent(config, intent_id)
    if intent.state is IntentState.NEEDS_CONFIRMATION:
        key = idempotency_key(payment_id, "confirm", intent.amount)
        obj = _request(
            config, "post", f"/v1/payment_intents/{intent.id}/confirm", idempotency_key=key
        )
        intent = _intent(obj)
    return intent


def capture_payment_intent(
    config: StripeConfig, *, payment_id: int | str, intent_id: str, amount: Decimal, currency: str
) -> Intent:
    amount_minor = to_minor(amount, currency)
    key = idempotency_key(payment_id, "capture", amount_minor)
    obj = _request(
        config,
        "post",
        f"/v1/payment_intents/{_safe_id(intent_id)}/capture",
        {"amount_to_capture": amount_minor},
        idempotency_key=key,
    )
    return _intent(obj)


def cancel_payment_intent(config: StripeConfig, *, payment_id: int | str, intent_id: str) -> Intent:
    key = idempotency_key(payment_id, "cancel", 0)
    obj = _request(
        config, "post", f"/v1/payment_intents/{_safe_id(intent_id)}/cancel", idempotency_key=key
    )
    return _intent(obj)


def refund_payment_intent(
    config: StripeConfig, *, payment_id: int | str, intent_id: str, amount: Decimal, currency: str
) -> Refund:
    """Refund part or all of a captured intent.

    Each refund is a :class:`RefundAttempt` row with its own key: a retry after a timeout reuses
    the key (Stripe answers with the first refund), a further refund of the same amount gets the
    next sequence number, a refusal frees the next attempt to use a new key.
    """
    amount_minor = to_minor(amount, currency)
    if amount_minor <= 0:
        raise PaymentError(PaymentErrorCode.INVALID_AMOUNT, "The refund must be positive.")
    attempt, _retry = claim_refund(
        provider=PROVIDER,
        payment_id=payment_id,
        reference=intent_id,
        amount_minor=amount_minor,
        currency=currency,
    )
    params = {
        "payment_intent": _safe_id(intent_id),
        "amount": amount_minor,
        "metadata": {METADATA_PAYMENT_ID: str(payment_id), "slp_refund": attempt.idempotency_key},
    }
    try:
        obj = _request(
            config, "post", "/v1/refunds", params, idempotency_key=attempt.idempotency_key
        )
    except PaymentError as exc:
        if not exc.retryable:
            fail_refund(attempt)
        raise
    refund = _refund(obj, attempt.idempotency_key)
    finish_refund(attempt, refund.id)
    return refund


def list_refunds(config: StripeConfig, intent_id: str) -> list[Refund]:
    obj = _request(
        config, "get", "/v1/refunds", {"payment_intent": _safe_id(intent_id), "limit": 100}
    )
    return [_refund(item) for item in obj.get("data") or []]


# --- customers and saved cards ---------------------------------------------------------------


def get_or_create_customer(
    config: StripeConfig, *, customer_id: str | None, email: str, user_ref: str
) -> str:
    """The Stripe customer for a shop user: the stored id, or a new customer (keyed by user)."""
    if customer_id:
        try:
            obj = _request(config, "get", f"/v1/customers/{_safe_id(customer_id)}")
            if not obj.get("deleted"):
                return str(obj["id"])
        except PaymentError as exc:
            if exc.code is not PaymentErrorCode.NOT_FOUND:
                raise
    params = {"email": email, "metadata": {"slp_user": user_ref}}
    key = f"slp:customer:{user_ref}"
    return str(_request(config, "post", "/v1/customers", params, idempotency_key=key)["id"])


def list_saved_cards(config: StripeConfig, customer_id: str) -> list[SavedCard]:
    obj = _request(
        config, "get", "/v1/payment_methods", {"customer": _safe_id(customer_id), "type": "card"}
    )
    return [
        SavedCard(
            id=item["id"],
            card=_card_from_details(item.get("card")),
            metadata=dict(item.get("metadata") or {}),
        )
        for item in obj.get("data") or []
    ]


def _safe_id(value: str) -> str:
    """Stripe ids are ``prefix_alnum``: refuse anything that could change the request path."""
    if not value or not all(ch.isalnum() or ch == "_" for ch in value):
        raise PaymentError(PaymentErrorCode.INVALID, "Malformed Stripe id.", field="id")
    return value
