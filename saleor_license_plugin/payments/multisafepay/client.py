"""A small client for MultiSafepay's JSON API over ``requests``.

The official SDK (``multisafepay`` on PyPI) requires pydantic < 2, which cannot be installed
next to Saleor (pydantic 2). This module covers what the gateway needs: redirect orders, order
status, refunds and cancellation. The API key travels in the ``api_key`` header only; it is
never logged or put in an exception message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode

logger = logging.getLogger(__name__)

TEST_BASE_URL = "https://testapi.multisafepay.com/v1/json/"
LIVE_BASE_URL = "https://api.multisafepay.com/v1/json/"


@dataclass(frozen=True)
class MultiSafepayConfig:
    api_key: str = field(repr=False)
    base_url: str = TEST_BASE_URL
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


@dataclass(frozen=True)
class RedirectOrder:
    order_id: str
    payment_url: str


@dataclass(frozen=True)
class RelatedTransaction:
    transaction_id: str
    amount: int
    currency: str
    description: str
    status: str
    type: str = ""


@dataclass(frozen=True)
class Order:
    order_id: str
    status: str
    amount: int
    currency: str
    transaction_id: str = ""
    payment_url: str = ""
    related: tuple[RelatedTransaction, ...] = ()

    @property
    def refunds(self) -> tuple[RelatedTransaction, ...]:
        return tuple(t for t in self.related if t.type == "refund" or t.amount < 0)


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    transaction_id: str
    description: str


class MultiSafepayClient:
    def __init__(self, config: MultiSafepayConfig, session: requests.Session | None = None):
        if not config.api_key:
            raise PaymentError(PaymentErrorCode.NOT_CONFIGURED, "MultiSafepay API key is not set.")
        self._config = config
        self._base = config.base_url if config.base_url.endswith("/") else config.base_url + "/"
        self._session = session or requests.Session()

    # --- orders ----------------------------------------------------------------------------

    def create_redirect_order(
        self,
        *,
        order_id: str,
        amount: int,
        currency: str,
        description: str,
        notification_url: str,
        redirect_url: str,
        cancel_url: str,
        customer_email: str | None = None,
    ) -> RedirectOrder:
        """Create a redirect order; if the order id already exists (a retry after a timeout),
        the existing order's payment URL is returned instead of creating a second one."""
        if amount <= 0:
            raise PaymentError(PaymentErrorCode.INVALID_AMOUNT, "The amount must be positive.")
        existing = self.find_order(order_id)
        if existing is not None:
            if existing.amount != amount or existing.currency != currency.upper():
                raise PaymentError(
                    PaymentErrorCode.IDEMPOTENCY_CONFLICT,
                    "A MultiSafepay order with this id exists with another amount.",
                )
            return RedirectOrder(existing.order_id, existing.payment_url)
        body: dict[str, Any] = {
            "type": "redirect",
            "order_id": order_id,
            "currency": currency.upper(),
            "amount": amount,
            "description": description[:200],
            "payment_options": {
                "notification_url": notification_url,
                "notification_method": "POST",
                "redirect_url": redirect_url,
                "cancel_url": cancel_url,
            },
        }
        if customer_email:
            body["customer"] = {"email": customer_email}
        data = self._call("POST", "orders", body)
        return RedirectOrder(
            str(data.get("order_id") or order_id), str(data.get("payment_url") or "")
        )

    def get_order(self, order_id: str) -> Order:
        return _order(self._call("GET", f"orders/{_path(order_id)}"))

    def find_order(self, order_id: str) -> Order | None:
        try:
            return self.get_order(order_id)
        except PaymentError as exc:
            if exc.code is PaymentErrorCode.NOT_FOUND:
                return None
            raise

    def cancel_order(self, order_id: str) -> Order:
        self._call("PATCH", f"orders/{_path(order_id)}", {"status": "cancelled"})
        return self.get_order(order_id)

    def refund(
        self, *, order_id: str, amount: int, currency: str, description: str
    ) -> RefundResult:
        # MultiSafepay refunds the whole order for amount 0: never send it.
        if amount <= 0:
            raise PaymentError(PaymentErrorCode.INVALID_AMOUNT, "The refund must be positive.")
        data = self._call(
            "POST",
            f"orders/{_path(order_id)}/refunds",
            {"currency": currency.upper(), "amount": amount, "description": description},
        )
        return RefundResult(
            refund_id=str(data.get("refund_id") or ""),
            transaction_id=str(data.get("transaction_id") or ""),
            description=description,
        )

    # --- transport -------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self._base + path
        try:
            response = self._session.request(
                method,
                url,
                json=body,
                headers={"api_key": self._config.api_key, "Accept": "application/json"},
                timeout=(self._config.connect_timeout, self._config.read_timeout),
            )
        except requests.Timeout:
            raise self._fail(PaymentErrorCode.PROVIDER_UNAVAILABLE, path, "timed out") from None
        except requests.RequestException:
            raise self._fail(PaymentErrorCode.PROVIDER_UNAVAILABLE, path, "unreachable") from None
        if response.status_code >= 500:
            raise self._fail(PaymentErrorCode.PROVIDER_ERROR, path, str(response.status_code))
        try:
            payload = response.json()
        except ValueError:
            raise self._fail(PaymentErrorCode.PROVIDER_ERROR, path, "not JSON") from None
        if not isinstance(payload, dict):
            raise self._fail(PaymentErrorCode.PROVIDER_ERROR, path, "not an object")
        if response.status_code >= 400 or payload.get("success") is False:
            provider_code = str(payload.get("error_code") or response.status_code)
            if response.status_code in (401, 403) or provider_code == "1032":
                code = PaymentErrorCode.PROVIDER_AUTHENTICATION
            elif response.status_code == 404 or provider_code == "1006":
                code = PaymentErrorCode.NOT_FOUND
            else:
                code = PaymentErrorCode.PROVIDER_REJECTED
            raise self._fail(code, path, provider_code, provider_code=provider_code)
        data = payload.get("data")
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _fail(
        code: PaymentErrorCode, path: str, detail: str, provider_code: str | None = None
    ) -> PaymentError:
        logger.warning(
            "MultiSafepay request failed",
            extra={"path": path.split("/")[0], "code": code.value, "detail": detail},
        )
        messages = {
            PaymentErrorCode.PROVIDER_UNAVAILABLE: "MultiSafepay could not be reached.",
            PaymentErrorCode.PROVIDER_ERROR: "MultiSafepay failed to process the request.",
            PaymentErrorCode.PROVIDER_AUTHENTICATION: "MultiSafepay refused the API key.",
            PaymentErrorCode.NOT_FOUND: "MultiSafepay does not know this order.",
        }
        message = messages.get(code, "MultiSafepay rejected the request.")
        return PaymentError(code, message, provider_code=provider_code)


def _path(order_id: str) -> str:
    return quote(order_id, safe="")


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _order(data: dict[str, Any]) -> Order:
    related = tuple(
        RelatedTransaction(
            transaction_id=str(item.get("transaction_id") or ""),
            amount=_int(item.get("amount")),
            currency=str(item.get("currency") or "").upper(),
            description=str(item.get("description") or ""),
            status=str(item.get("status") or ""),
            type=str(item.get("type") or ""),
        )
        for item in data.get("related_transactions") or []
        if isinstance(item, dict)
    )
    return Order(
        order_id=str(data.get("order_id") or ""),
        status=str(data.get("status") or ""),
        amount=_int(data.get("amount")),
        currency=str(data.get("currency") or "").upper(),
        transaction_id=str(data.get("transaction_id") or ""),
        payment_url=str(data.get("payment_url") or ""),
        related=related,
    )
