"""Stripe card payments as a Saleor gateway plugin (Saleor's plugin payment API).

Thin: hooks are translated to :mod:`.stripe_api` and :mod:`.webhooks`, which know nothing of
Saleor; what the three gateways share on Saleor's side (the hook ritual, responses, applying a
webhook's outcome to Saleor's payments and orders) is in ``payments/saleor_gateway.py``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from saleor.payment import TransactionKind
from saleor.payment.interface import (
    CustomerSource,
    GatewayResponse,
    PaymentData,
    PaymentMethodInfo,
    StorePaymentMethodEnum,
)
from saleor.plugins.base_plugin import ConfigurationTypeField

from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.money import from_minor
from saleor_license_plugin.payments.saleor_gateway import (
    LicenseGatewayPlugin,
    config_values,
    gateway_operation,
    gateway_response,
    processed_transaction,
    request_timeout_field,
    require_values,
    seconds,
    supported_currencies_field,
)
from saleor_license_plugin.payments.stripe import stripe_api, webhooks
from saleor_license_plugin.payments.stripe.stripe_api import Intent, IntentState, StripeConfig

if TYPE_CHECKING:
    from saleor.plugins.models import PluginConfiguration

logger = logging.getLogger(__name__)

PLUGIN_ID = "saleor_license_plugin.payments.stripe"
PLUGIN_NAME = "Stripe (software licenses)"
WEBHOOK_PATH = "webhooks"
MISSING_REFERENCE = PaymentError(
    PaymentErrorCode.INVALID_STATE, "The payment has no Stripe reference."
)


class StripeLicenseGatewayPlugin(LicenseGatewayPlugin):
    PLUGIN_ID = PLUGIN_ID
    PLUGIN_NAME = PLUGIN_NAME
    PLUGIN_DESCRIPTION = (
        "Card payments through Stripe PaymentIntents with 3-D Secure, manual or automatic "
        "capture, partial refunds and saved cards."
    )
    DEFAULT_CONFIGURATION = [
        {"name": "public_api_key", "value": None},
        {"name": "secret_api_key", "value": None},
        {"name": "webhook_secret_key", "value": None},
        {"name": "automatic_payment_capture", "value": True},
        {"name": "supported_currencies", "value": ""},
        {"name": "request_timeout", "value": "30"},
    ]
    CONFIG_STRUCTURE = {
        "public_api_key": {
            "type": ConfigurationTypeField.STRING,
            "help_text": "Stripe publishable key (pk_live_… / pk_test_…), given to the storefront.",
            "label": "Publishable key",
        },
        "secret_api_key": {
            "type": ConfigurationTypeField.SECRET,
            "help_text": "Stripe secret key (sk_… or a restricted rk_… key with PaymentIntents, "
            "Refunds, Customers and PaymentMethods access).",
            "label": "Secret key",
        },
        "webhook_secret_key": {
            "type": ConfigurationTypeField.SECRET,
            "help_text": "Signing secret (whsec_…) of the Stripe webhook endpoint "
            "https://<your Saleor>/plugins/channel/<channel slug>/"
            f"{PLUGIN_ID}/{WEBHOOK_PATH}/ listening to payment_intent.*, charge.refunded and "
            "charge.dispute.created.",
            "label": "Webhook signing secret",
        },
        "automatic_payment_capture": {
            "type": ConfigurationTypeField.BOOLEAN,
            "help_text": "Capture at once; off: authorize only and capture from the Dashboard.",
            "label": "Automatic payment capture",
        },
        "supported_currencies": supported_currencies_field(),
        "request_timeout": request_timeout_field("Stripe"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        values = self.values
        auto_capture = bool(values.get("automatic_payment_capture"))
        self.config = self._gateway_config(auto_capture=auto_capture, store_customer=True)
        connect_timeout, read_timeout = self._timeouts()
        self.stripe = StripeConfig(
            secret_api_key=values.get("secret_api_key") or "",
            public_api_key=values.get("public_api_key") or "",
            webhook_secret=values.get("webhook_secret_key") or "",
            auto_capture=auto_capture,
            read_timeout=read_timeout,
            connect_timeout=connect_timeout,
            gateway_id=PLUGIN_ID,
        )

    # --- gateway description --------------------------------------------------------------

    def get_payment_config(self, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        return [
            {"field": "api_key", "value": self.stripe.public_api_key},
            {"field": "store_customer_card", "value": True},
        ]

    # --- payment operations ---------------------------------------------------------------

    @gateway_operation(TransactionKind.AUTH)
    def process_payment(self, info: PaymentData) -> GatewayResponse:
        return self._create(info, auto_capture=None)

    @gateway_operation(TransactionKind.AUTH)
    def authorize_payment(self, info: PaymentData) -> GatewayResponse:
        return self._create(info, auto_capture=False)

    def _create(self, info: PaymentData, auto_capture: bool | None) -> GatewayResponse:
        data = info.data or {}
        customer_id = None
        setup_future_usage = _setup_future_usage(info, data)
        if info.graphql_customer_id:
            customer_id = stripe_api.get_or_create_customer(
                self.stripe,
                customer_id=info.customer_id,
                email=info.customer_email,
                user_ref=info.graphql_customer_id,
            )
        intent = stripe_api.create_payment_intent(
            self.stripe,
            payment_id=info.payment_id,
            amount=info.amount,
            currency=info.currency,
            payment_method_id=data.get("payment_method_id") or None,
            customer_id=customer_id,
            setup_future_usage=setup_future_usage if customer_id else None,
            off_session=bool(data.get("off_session")),
            auto_capture=auto_capture,
            metadata={"payment": info.graphql_payment_id},
        )
        return _response(intent, info, customer_id=customer_id)

    @gateway_operation(TransactionKind.CAPTURE)
    def confirm_payment(self, info: PaymentData) -> GatewayResponse:
        done = processed_transaction(info.payment_id)
        if done is not None:  # a webhook got there first
            return done
        if not info.token:
            raise PaymentError(MISSING_REFERENCE.code, MISSING_REFERENCE.message)
        intent = stripe_api.confirm_payment_intent(
            self.stripe, payment_id=info.payment_id, intent_id=info.token
        )
        return _response(intent, info)

    @gateway_operation(TransactionKind.CAPTURE, missing_token=MISSING_REFERENCE)
    def capture_payment(self, info: PaymentData) -> GatewayResponse:
        intent = stripe_api.capture_payment_intent(
            self.stripe,
            payment_id=info.payment_id,
            intent_id=info.token,
            amount=info.amount,
            currency=info.currency,
        )
        captured = intent.state is IntentState.CAPTURED
        return gateway_response(
            info,
            kind=TransactionKind.CAPTURE,
            success=captured,
            reference=intent.id,
            payment_method_info=_card_info(intent.card),
            error=None if captured else "Stripe did not capture.",
        )

    @gateway_operation(TransactionKind.REFUND, missing_token=MISSING_REFERENCE)
    def refund_payment(self, info: PaymentData) -> GatewayResponse:
        refund = stripe_api.refund_payment_intent(
            self.stripe,
            payment_id=info.payment_id,
            intent_id=info.token,
            amount=info.amount,
            currency=info.currency,
        )
        refunded = refund.status in ("succeeded", "pending")
        return gateway_response(
            info,
            kind=TransactionKind.REFUND,
            success=refunded,
            reference=refund.id,
            amount=from_minor(refund.amount, refund.currency or info.currency),
            error=None if refunded else "Refund failed.",
        )

    @gateway_operation(TransactionKind.VOID, missing_token=MISSING_REFERENCE)
    def void_payment(self, info: PaymentData) -> GatewayResponse:
        intent = stripe_api.cancel_payment_intent(
            self.stripe, payment_id=info.payment_id, intent_id=info.token
        )
        cancelled = intent.state is IntentState.CANCELED
        return gateway_response(
            info,
            kind=TransactionKind.VOID,
            success=cancelled,
            reference=intent.id,
            error=None if cancelled else "Stripe did not cancel.",
        )

    def saved_cards(self, customer_id: str) -> list[str]:
        """The customer's cards saved for off-session payments (auto-renew charges the first)."""
        try:
            return [card.id for card in stripe_api.list_saved_cards(self.stripe, customer_id)]
        except PaymentError:
            return []

    def list_payment_sources(self, customer_id: str, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        try:
            cards = stripe_api.list_saved_cards(self.stripe, customer_id)
        except PaymentError:
            return previous_value
        return [
            *(previous_value or []),
            *(
                CustomerSource(
                    id=card.id,
                    gateway=PLUGIN_ID,
                    credit_card_info=_card_info(card.card),
                    metadata=card.metadata,
                )
                for card in cards
            ),
        ]

    # --- webhooks -------------------------------------------------------------------------

    def handle_notification(self, request: Any, **apply_to_saleor: Any) -> None:
        webhooks.handle_webhook(
            request.body, request.headers.get("Stripe-Signature"), self.stripe, **apply_to_saleor
        )

    # --- configuration --------------------------------------------------------------------

    @classmethod
    def validate_plugin_configuration(
        cls, plugin_configuration: PluginConfiguration, **kwargs: Any
    ) -> None:
        values = config_values(plugin_configuration.configuration)
        if not plugin_configuration.active:
            return
        require_values(values, ("public_api_key", "secret_api_key", "webhook_secret_key"))
        if seconds(values.get("request_timeout"), -1.0) <= 0:
            raise ValidationError(
                {"request_timeout": ValidationError("Give a number of seconds.", code="invalid")}
            )


# --- responses ---------------------------------------------------------------------------


def _response(intent: Intent, info: PaymentData, customer_id: str | None = None) -> GatewayResponse:
    state = intent.state
    kind, action_required, success = {
        IntentState.CAPTURED: (TransactionKind.CAPTURE, False, True),
        IntentState.AUTHORIZED: (TransactionKind.AUTH, False, True),
        IntentState.PROCESSING: (TransactionKind.PENDING, False, True),
        IntentState.ACTION_REQUIRED: (TransactionKind.ACTION_TO_CONFIRM, True, True),
        IntentState.NEEDS_CONFIRMATION: (TransactionKind.ACTION_TO_CONFIRM, True, True),
        IntentState.FAILED: (TransactionKind.CAPTURE, False, False),
        IntentState.CANCELED: (TransactionKind.VOID, False, False),
    }[state]
    amount = info.amount
    if state is IntentState.CAPTURED and intent.amount_received:
        amount = from_minor(intent.amount_received, intent.currency)
    card = intent.card if state in (IntentState.CAPTURED, IntentState.AUTHORIZED) else None
    response = gateway_response(
        info,
        kind=kind,
        success=success,
        reference=intent.id,
        amount=amount,
        payment_method_info=_card_info(card),
        error=None if success else "The payment failed.",
        action_required=action_required,
    )
    response.customer_id = customer_id
    if action_required:
        response.action_required_data = {"client_secret": intent.client_secret, "id": intent.id}
    return response


def _card_info(card: stripe_api.CardDetails | None) -> PaymentMethodInfo | None:
    if card is None:
        return None
    return PaymentMethodInfo(
        last_4=card.last4,
        exp_year=card.exp_year,
        exp_month=card.exp_month,
        brand=card.brand,
        type="card",
    )


def _setup_future_usage(info: PaymentData, data: dict[str, Any]) -> str | None:
    if info.store_payment_method == StorePaymentMethodEnum.ON_SESSION:
        return "on_session"
    if info.store_payment_method == StorePaymentMethodEnum.OFF_SESSION:
        return "off_session"
    value = data.get("setup_future_usage")
    return value if info.reuse_source and value in ("on_session", "off_session") else None
