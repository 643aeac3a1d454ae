"""MultiSafepay redirect payments (iDEAL, Bancontact, cards, ...) as a Saleor gateway plugin.

Flow: ``checkoutComplete`` -> ``process_payment`` creates a redirect order and answers
"confirmation needed" with ``{"payment_url", "order_id"}``; the storefront sends the customer
there; back on the storefront, ``checkoutComplete`` again -> ``confirm_payment`` fetches the
order's status from MultiSafepay. Notifications keep the payment in step afterwards
(late completion, refunds made in MultiSafepay Control, chargebacks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseNotFound
from django.urls import reverse
from saleor.core.utils import build_absolute_uri
from saleor.payment import TransactionKind
from saleor.payment.interface import GatewayConfig, GatewayResponse, PaymentData
from saleor.plugins.base_plugin import ConfigurationTypeField

from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.money import from_minor, to_minor
from saleor_license_plugin.payments.multisafepay import webhooks
from saleor_license_plugin.payments.multisafepay.client import (
    LIVE_BASE_URL,
    TEST_BASE_URL,
    MultiSafepayClient,
    MultiSafepayConfig,
)
from saleor_license_plugin.payments.multisafepay.refunds import refund_order
from saleor_license_plugin.payments.multisafepay.statuses import PaymentState, payment_state
from saleor_license_plugin.payments.saleor_gateway import (
    LicenseGatewayPlugin,
    apply_webhook_outcome,
    error_response,
    find_payment,
    processed_transaction,
    seconds,
)

if TYPE_CHECKING:
    from saleor.plugins.models import PluginConfiguration

PLUGIN_ID = "saleor_license_plugin.payments.multisafepay"
PLUGIN_NAME = "MultiSafepay (software licenses)"
NOTIFICATION_PATH = "notifications"


class MultiSafepayLicenseGatewayPlugin(LicenseGatewayPlugin):
    PLUGIN_ID = PLUGIN_ID
    PLUGIN_NAME = PLUGIN_NAME
    PLUGIN_DESCRIPTION = (
        "MultiSafepay redirect payments (iDEAL, Bancontact, cards and more) with signed "
        "notifications, refunds and chargeback handling."
    )
    CONFIGURATION_PER_CHANNEL = True
    DEFAULT_ACTIVE = False
    DEFAULT_CONFIGURATION = [
        {"name": "api_key", "value": None},
        {"name": "test_mode", "value": True},
        {"name": "supported_currencies", "value": "EUR"},
        {"name": "redirect_url", "value": ""},
        {"name": "cancel_url", "value": ""},
        {"name": "order_id_prefix", "value": "slp"},
        {"name": "request_timeout", "value": "30"},
    ]
    CONFIG_STRUCTURE = {
        "api_key": {
            "type": ConfigurationTypeField.SECRET,
            "help_text": "Website API key from MultiSafepay Control (Manage websites). It also "
            "verifies notifications.",
            "label": "API key",
        },
        "test_mode": {
            "type": ConfigurationTypeField.BOOLEAN,
            "help_text": "Use MultiSafepay's test environment (testapi.multisafepay.com).",
            "label": "Test mode",
        },
        "supported_currencies": {
            "type": ConfigurationTypeField.STRING,
            "help_text": "Currency codes this gateway accepts, separated by commas.",
            "label": "Supported currencies",
        },
        "redirect_url": {
            "type": ConfigurationTypeField.STRING,
            "help_text": "Storefront page the customer returns to after paying, unless the "
            "storefront passes paymentData {redirect_url}.",
            "label": "Return URL",
        },
        "cancel_url": {
            "type": ConfigurationTypeField.STRING,
            "help_text": "Storefront page for a cancelled payment (default: the return URL).",
            "label": "Cancel URL",
        },
        "order_id_prefix": {
            "type": ConfigurationTypeField.STRING,
            "help_text": "Prefix of MultiSafepay order ids (<prefix>-<payment id>): make it "
            "unique per shop when several shops share one MultiSafepay account.",
            "label": "Order id prefix",
        },
        "request_timeout": {
            "type": ConfigurationTypeField.STRING,
            "help_text": "Seconds to wait for MultiSafepay's answer (connecting: at most 5).",
            "label": "Request timeout",
        },
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        values = {item["name"]: item["value"] for item in self.configuration}
        self.config = GatewayConfig(
            gateway_name=PLUGIN_NAME,
            auto_capture=True,
            supported_currencies=values.get("supported_currencies") or "",
            connection_params={},
        )
        timeout = seconds(values.get("request_timeout"), 30.0)
        self.msp = MultiSafepayConfig(
            api_key=values.get("api_key") or "",
            base_url=TEST_BASE_URL if values.get("test_mode") else LIVE_BASE_URL,
            connect_timeout=min(5.0, timeout),
            read_timeout=timeout,
        )
        self.redirect_url = values.get("redirect_url") or ""
        self.cancel_url = values.get("cancel_url") or ""
        self.prefix = (values.get("order_id_prefix") or "slp").strip()

    def _client(self) -> MultiSafepayClient:
        return MultiSafepayClient(self.msp)

    def _order_id(self, payment_id: int) -> str:
        return f"{self.prefix}-{payment_id}"

    # --- gateway description --------------------------------------------------------------

    def get_payment_config(self, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        return [{"field": "flow", "value": "redirect"}]

    # --- payment operations ---------------------------------------------------------------

    def process_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        info = payment_information
        data = info.data or {}
        redirect_url = str(data.get("redirect_url") or self.redirect_url)
        cancel_url = str(data.get("cancel_url") or self.cancel_url or redirect_url)
        order_id = self._order_id(info.payment_id)
        try:
            if not redirect_url:
                raise PaymentError(
                    PaymentErrorCode.REQUIRED, "A return URL is required.", field="redirect_url"
                )
            order = self._client().create_redirect_order(
                order_id=order_id,
                amount=to_minor(info.amount, info.currency),
                currency=info.currency,
                description=f"Order {info.order_id or info.checkout_token or order_id}",
                notification_url=self._notification_url(),
                redirect_url=redirect_url,
                cancel_url=cancel_url,
                customer_email=info.customer_email or None,
            )
        except PaymentError as exc:
            return _failed(info, exc, TransactionKind.AUTH)
        return GatewayResponse(
            is_success=True,
            action_required=True,
            kind=TransactionKind.ACTION_TO_CONFIRM,
            amount=info.amount,
            currency=info.currency,
            transaction_id=order.order_id,
            error=None,
            action_required_data={"payment_url": order.payment_url, "order_id": order.order_id},
            psp_reference=order.order_id,
        )

    def confirm_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        info = payment_information
        done = processed_transaction(info.payment_id)
        if done is not None:
            return done
        order_id = info.token or self._order_id(info.payment_id)
        try:
            order = self._client().get_order(order_id)
        except PaymentError as exc:
            return _failed(info, exc, TransactionKind.CAPTURE)
        if to_minor(info.amount, info.currency) != order.amount or (
            order.currency != info.currency.upper()
        ):
            return _failed(
                info,
                PaymentError(
                    PaymentErrorCode.INVALID_AMOUNT, "Paid amount differs from the order."
                ),
                TransactionKind.CAPTURE,
            )
        state = payment_state(order.status)
        kind, success, action_required = {
            PaymentState.PAID: (TransactionKind.CAPTURE, True, False),
            PaymentState.PENDING: (TransactionKind.PENDING, True, False),
            PaymentState.AWAITING_CUSTOMER: (TransactionKind.ACTION_TO_CONFIRM, True, True),
        }.get(state, (TransactionKind.CAPTURE, False, False))
        return GatewayResponse(
            is_success=success,
            action_required=action_required,
            kind=kind,
            amount=from_minor(order.amount, order.currency),
            currency=order.currency,
            transaction_id=order.order_id,
            error=None if success else f"The payment is {order.status or 'not completed'}.",
            action_required_data={"payment_url": order.payment_url, "order_id": order.order_id}
            if action_required
            else None,
            psp_reference=order.order_id,
        )

    def capture_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        """Redirect orders are captured by MultiSafepay; this reports whether it happened."""
        if not self.active:
            return previous_value
        info = payment_information
        try:
            order = self._client().get_order(info.token or self._order_id(info.payment_id))
        except PaymentError as exc:
            return _failed(info, exc, TransactionKind.CAPTURE)
        paid = payment_state(order.status) is PaymentState.PAID
        return GatewayResponse(
            is_success=paid,
            action_required=False,
            kind=TransactionKind.CAPTURE,
            amount=info.amount,
            currency=info.currency,
            transaction_id=order.order_id,
            error=None if paid else "The MultiSafepay order is not completed.",
            psp_reference=order.order_id,
        )

    def authorize_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        return self.process_payment(payment_information, previous_value)

    def refund_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        info = payment_information
        try:
            result = refund_order(
                self._client(),
                payment_id=info.payment_id,
                order_id=info.token or self._order_id(info.payment_id),
                amount=to_minor(info.amount, info.currency),
                currency=info.currency,
            )
        except PaymentError as exc:
            return _failed(info, exc, TransactionKind.REFUND)
        return GatewayResponse(
            is_success=True,
            action_required=False,
            kind=TransactionKind.REFUND,
            amount=info.amount,
            currency=info.currency,
            transaction_id=result.refund_id or result.transaction_id,
            error=None,
            psp_reference=result.refund_id or result.transaction_id,
        )

    def void_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        info = payment_information
        try:
            order = self._client().cancel_order(info.token or self._order_id(info.payment_id))
        except PaymentError as exc:
            return _failed(info, exc, TransactionKind.VOID)
        voided = payment_state(order.status) is PaymentState.FAILED
        return GatewayResponse(
            is_success=voided,
            action_required=False,
            kind=TransactionKind.VOID,
            amount=info.amount,
            currency=info.currency,
            transaction_id=order.order_id,
            error=None if voided else "The MultiSafepay order could not be cancelled.",
        )

    # --- notifications --------------------------------------------------------------------

    def _notification_url(self) -> str:
        channel_slug = self.channel.slug if self.channel else ""
        path = reverse(
            "plugins-per-channel", kwargs={"plugin_id": PLUGIN_ID, "channel_slug": channel_slug}
        )
        return build_absolute_uri(f"{path}{NOTIFICATION_PATH}/")

    def webhook(self, request: Any, path: str, previous_value: Any) -> HttpResponse:
        if not self.active or self.channel is None:
            return HttpResponseNotFound()
        if path.strip("/") != NOTIFICATION_PATH:
            return HttpResponseNotFound()
        if request.method != "POST":
            # GET notifications carry no signature: configure POST (the default we request).
            return HttpResponse(status=405)
        channel_slug = self.channel.slug
        try:
            webhooks.handle_notification(
                request.body,
                request.headers.get("Auth"),
                api_key=self.msp.api_key,
                client=self._client(),
                lookup=lambda reference: find_payment(reference, PLUGIN_ID, channel_slug),
                apply=lambda outcome: apply_webhook_outcome(outcome, PLUGIN_ID, channel_slug),
            )
        except PaymentError as exc:
            return error_response(exc)
        return HttpResponse("OK", content_type="text/plain")

    @classmethod
    def validate_plugin_configuration(
        cls, plugin_configuration: PluginConfiguration, **kwargs: Any
    ) -> None:
        values = {item["name"]: item["value"] for item in plugin_configuration.configuration}
        if plugin_configuration.active and not values.get("api_key"):
            raise ValidationError(
                {"api_key": ValidationError("This field is required.", code="required")}
            )


def _failed(info: PaymentData, exc: PaymentError, kind: str) -> GatewayResponse:
    return GatewayResponse(
        is_success=False,
        action_required=False,
        kind=kind,
        amount=info.amount,
        currency=info.currency,
        transaction_id=info.token or "",
        error=f"{exc.message} ({exc.code.value})",
    )
