"""MultiSafepay redirect payments (iDEAL, Bancontact, cards, ...) as a Saleor gateway plugin.

Flow: ``checkoutComplete`` -> ``process_payment`` creates a redirect order and answers
"confirmation needed" with ``{"payment_url", "order_id"}``; the storefront sends the customer
there; back on the storefront, ``checkoutComplete`` again -> ``confirm_payment`` fetches the
order's status from MultiSafepay. Notifications keep the payment in step afterwards
(late completion, refunds made in MultiSafepay Control, chargebacks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from django.urls import reverse
from saleor.core.utils import build_absolute_uri
from saleor.payment import TransactionKind
from saleor.payment.interface import GatewayResponse, PaymentData
from saleor.plugins.base_plugin import ConfigurationTypeField

from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.money import from_minor, to_minor
from saleor_license_plugin.payments.multisafepay import webhooks
from saleor_license_plugin.payments.multisafepay.client import (
    LIVE_BASE_URL,
    TEST_BASE_URL,
    MultiSafepayClient,
    MultiSafepayConfig,
    Order,
)
from saleor_license_plugin.payments.multisafepay.refunds import refund_order
from saleor_license_plugin.payments.multisafepay.statuses import PaymentState, payment_state
from saleor_license_plugin.payments.saleor_gateway import (
    LicenseGatewayPlugin,
    config_values,
    gateway_operation,
    gateway_response,
    processed_transaction,
    request_timeout_field,
    require_values,
    supported_currencies_field,
)

if TYPE_CHECKING:
    from saleor.plugins.models import PluginConfiguration

PLUGIN_ID = "saleor_license_plugin.payments.multisafepay"
PLUGIN_NAME = "MultiSafepay (software licenses)"
NOTIFICATION_PATH = "notifications"


class MultiSafepayLicenseGatewayPlugin(LicenseGatewayPlugin):
    PLUGIN_ID = PLUGIN_ID
    WEBHOOK_PATH = NOTIFICATION_PATH
    PLUGIN_NAME = PLUGIN_NAME
    PLUGIN_DESCRIPTION = (
        "MultiSafepay redirect payments (iDEAL, Bancontact, cards and more) with signed "
        "notifications, refunds and chargeback handling."
    )
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
        "supported_currencies": supported_currencies_field(),
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
        "request_timeout": request_timeout_field("MultiSafepay"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        values = self.values
        self.config = self._gateway_config(auto_capture=True)
        connect_timeout, read_timeout = self._timeouts()
        self.msp = MultiSafepayConfig(
            api_key=values.get("api_key") or "",
            base_url=TEST_BASE_URL if values.get("test_mode") else LIVE_BASE_URL,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self.redirect_url = values.get("redirect_url") or ""
        self.cancel_url = values.get("cancel_url") or ""
        self.prefix = (values.get("order_id_prefix") or "slp").strip()

    def _client(self) -> MultiSafepayClient:
        return MultiSafepayClient(self.msp)

    def _order_id(self, payment_id: int) -> str:
        return f"{self.prefix}-{payment_id}"

    def _reference(self, info: PaymentData) -> str:
        """The payment's MultiSafepay order id: its token, else the id this plugin gave it."""
        return info.token or self._order_id(info.payment_id)

    # --- gateway description --------------------------------------------------------------

    def get_payment_config(self, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        return [{"field": "flow", "value": "redirect"}]

    # --- payment operations ---------------------------------------------------------------

    @gateway_operation(TransactionKind.AUTH)
    def process_payment(self, info: PaymentData) -> GatewayResponse:
        data = info.data or {}
        redirect_url = str(data.get("redirect_url") or self.redirect_url)
        cancel_url = str(data.get("cancel_url") or self.cancel_url or redirect_url)
        order_id = self._order_id(info.payment_id)
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
        return gateway_response(
            info,
            kind=TransactionKind.ACTION_TO_CONFIRM,
            success=True,
            reference=order.order_id,
            action_required=True,
            action_required_data={"payment_url": order.payment_url, "order_id": order.order_id},
        )

    @gateway_operation(TransactionKind.CAPTURE)
    def confirm_payment(self, info: PaymentData) -> GatewayResponse:
        done = processed_transaction(info.payment_id)
        if done is not None:
            return done
        order = self._client().get_order(self._reference(info))
        if to_minor(info.amount, info.currency) != order.amount or (
            order.currency != info.currency.upper()
        ):
            raise PaymentError(
                PaymentErrorCode.INVALID_AMOUNT, "Paid amount differs from the order."
            )
        kind, success, action_required = {
            PaymentState.PAID: (TransactionKind.CAPTURE, True, False),
            PaymentState.PENDING: (TransactionKind.PENDING, True, False),
            PaymentState.AWAITING_CUSTOMER: (TransactionKind.ACTION_TO_CONFIRM, True, True),
        }.get(payment_state(order.status), (TransactionKind.CAPTURE, False, False))
        return gateway_response(
            info,
            kind=kind,
            success=success,
            reference=order.order_id,
            amount=from_minor(order.amount, order.currency),
            currency=order.currency,
            error=None if success else f"The payment is {order.status or 'not completed'}.",
            action_required=action_required,
            action_required_data={"payment_url": order.payment_url, "order_id": order.order_id}
            if action_required
            else None,
        )

    @gateway_operation(TransactionKind.CAPTURE)
    def capture_payment(self, info: PaymentData) -> GatewayResponse:
        """Redirect orders are captured by MultiSafepay; this reports whether it happened."""
        order = self._client().get_order(self._reference(info))
        return _reached(info, order, PaymentState.PAID, TransactionKind.CAPTURE, "is not completed")

    def authorize_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        return self.process_payment(payment_information, previous_value)

    @gateway_operation(TransactionKind.REFUND)
    def refund_payment(self, info: PaymentData) -> GatewayResponse:
        result = refund_order(
            self._client(),
            payment_id=info.payment_id,
            order_id=self._reference(info),
            amount=to_minor(info.amount, info.currency),
            currency=info.currency,
        )
        return gateway_response(
            info,
            kind=TransactionKind.REFUND,
            success=True,
            reference=result.refund_id or result.transaction_id,
        )

    @gateway_operation(TransactionKind.VOID)
    def void_payment(self, info: PaymentData) -> GatewayResponse:
        order = self._client().cancel_order(self._reference(info))
        return _reached(
            info, order, PaymentState.FAILED, TransactionKind.VOID, "could not be cancelled"
        )

    # --- notifications --------------------------------------------------------------------

    def _notification_url(self) -> str:
        channel_slug = self.channel.slug if self.channel else ""
        path = reverse(
            "plugins-per-channel", kwargs={"plugin_id": PLUGIN_ID, "channel_slug": channel_slug}
        )
        return build_absolute_uri(f"{path}{NOTIFICATION_PATH}/")

    def handle_notification(self, request: Any, **apply_to_saleor: Any) -> None:
        # GET notifications carry no signature: configure POST (the default we request).
        webhooks.handle_notification(
            request.body,
            request.headers.get("Auth"),
            api_key=self.msp.api_key,
            client=self._client(),
            **apply_to_saleor,
        )

    def notification_answer(self) -> HttpResponse:
        return HttpResponse("OK", content_type="text/plain")

    @classmethod
    def validate_plugin_configuration(
        cls, plugin_configuration: PluginConfiguration, **kwargs: Any
    ) -> None:
        if plugin_configuration.active:
            require_values(config_values(plugin_configuration.configuration), ("api_key",))


def _reached(
    info: PaymentData, order: Order, state: PaymentState, kind: str, otherwise: str
) -> GatewayResponse:
    """A ``kind`` transaction that succeeded if the order is now in ``state``."""
    reached = payment_state(order.status) is state
    return gateway_response(
        info,
        kind=kind,
        success=reached,
        reference=order.order_id,
        error=None if reached else f"The MultiSafepay order {otherwise}.",
    )
