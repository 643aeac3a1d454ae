"""Offline payment (bank transfer, purchase order, proforma invoice) as a Saleor gateway plugin.

``process_payment`` validates the customer's reference (``paymentData: {"reference": ...}`` on
``checkoutComplete``, or the payment token) and answers with a successful *authorization*: the
order is created unpaid (charge status "not charged"), and the payment instructions are kept on
the transaction. When the money arrives, staff **capture** the payment (Dashboard "Capture",
``orderCapture``): that marks the order paid and triggers fulfillment. ``orderMarkAsPaid`` is not
the way here: Saleor refuses it for orders that already carry a payment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from saleor.payment import TransactionKind
from saleor.payment.interface import GatewayResponse, PaymentData, PaymentMethodInfo
from saleor.plugins.base_plugin import ConfigurationTypeField

from saleor_license_plugin.payments.errors import PaymentError
from saleor_license_plugin.payments.offline.reference import (
    DEFAULT_INSTRUCTIONS,
    ReferencePolicy,
    clean_reference,
    payment_instructions,
    validate_template,
)
from saleor_license_plugin.payments.saleor_gateway import (
    LicenseGatewayPlugin,
    config_values,
    gateway_response,
    supported_currencies_field,
)

if TYPE_CHECKING:
    from saleor.plugins.models import PluginConfiguration

PLUGIN_ID = "saleor_license_plugin.payments.offline"
PLUGIN_NAME = "Offline payment (software licenses)"


class OfflineLicenseGatewayPlugin(LicenseGatewayPlugin):
    PLUGIN_ID = PLUGIN_ID
    PLUGIN_NAME = PLUGIN_NAME
    PLUGIN_DESCRIPTION = (
        "Bank transfer, purchase order or proforma invoice: records the customer's reference, "
        "shows payment instructions, leaves the order unpaid until staff capture the payment."
    )
    DEFAULT_CONFIGURATION = [
        {"name": "payment_kind", "value": "bank transfer"},
        {"name": "reference_label", "value": "Purchase order number"},
        {"name": "reference_required", "value": False},
        {"name": "reference_min_length", "value": "3"},
        {"name": "reference_max_length", "value": "35"},
        {"name": "instructions", "value": DEFAULT_INSTRUCTIONS},
        {"name": "supported_currencies", "value": ""},
    ]
    CONFIG_STRUCTURE = {
        "payment_kind": {
            "type": ConfigurationTypeField.STRING,
            "help_text": "What the customer does: bank transfer, purchase order, proforma "
            "invoice. Shown to the customer ({kind} in the instructions).",
            "label": "Payment kind",
        },
        "reference_label": {
            "type": ConfigurationTypeField.STRING,
            "help_text": "Name of the customer's reference, e.g. Purchase order number.",
            "label": "Reference label",
        },
        "reference_required": {
            "type": ConfigurationTypeField.BOOLEAN,
            "help_text": "Refuse checkout without a reference (pass it as paymentData "
            '{"reference": "..."} on checkoutComplete).',
            "label": "Reference required",
        },
        "reference_min_length": {
            "type": ConfigurationTypeField.STRING,
            "help_text": "Shortest accepted reference.",
            "label": "Reference minimum length",
        },
        "reference_max_length": {
            "type": ConfigurationTypeField.STRING,
            "help_text": "Longest accepted reference (35 fits a SEPA remittance line). Allowed: "
            "letters, digits, spaces and - / . _",
            "label": "Reference maximum length",
        },
        "instructions": {
            "type": ConfigurationTypeField.MULTILINE,
            "help_text": "Payment instructions. Placeholders: {total}, {currency}, {reference}, "
            "{order}, {kind}.",
            "label": "Payment instructions",
        },
        "supported_currencies": supported_currencies_field(),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        values = self.values
        self.config = self._gateway_config(auto_capture=False)
        self.kind = values.get("payment_kind") or "bank transfer"
        self.policy = ReferencePolicy(
            required=bool(values.get("reference_required")),
            min_length=_int(values.get("reference_min_length"), 3),
            max_length=_int(values.get("reference_max_length"), 35),
            label=values.get("reference_label") or "Reference",
        )
        self.template = values.get("instructions") or DEFAULT_INSTRUCTIONS

    def get_payment_config(self, previous_value: Any) -> Any:
        """Public gateway config, so the storefront can ask for the reference and show the
        instructions before and after checkout."""
        if not self.active:
            return previous_value
        return [
            {"field": "payment_kind", "value": self.kind},
            {"field": "reference_label", "value": self.policy.label},
            {"field": "reference_required", "value": self.policy.required},
            {"field": "reference_max_length", "value": self.policy.max_length},
            {"field": "instructions", "value": self.template},
        ]

    def process_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        info = payment_information
        data = info.data or {}
        try:
            reference = clean_reference(data.get("reference") or info.token, self.policy)
            instructions = payment_instructions(
                self.template,
                total=info.amount,
                currency=info.currency,
                reference=reference or f"PAY-{info.payment_id}",
                order=info.order_id or "",
                kind=self.kind,
            )
        except PaymentError as exc:
            return self._response(info, TransactionKind.AUTH, success=False, error=exc.message)
        token = reference or f"PAY-{info.payment_id}"
        response = self._response(info, TransactionKind.AUTH, success=True, token=token)
        response.raw_response = {"reference": reference, "instructions": instructions}
        response.payment_method_info = PaymentMethodInfo(name=self.kind, type="offline")
        return response

    def authorize_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        return self.process_payment(payment_information, previous_value)

    def confirm_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        return self.process_payment(payment_information, previous_value)

    def capture_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        """Staff confirm the money arrived: no provider to ask."""
        if not self.active:
            return previous_value
        return self._response(payment_information, TransactionKind.CAPTURE, success=True)

    def refund_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        """Records a refund that staff pay back themselves (no money moves here)."""
        if not self.active:
            return previous_value
        return self._response(payment_information, TransactionKind.REFUND, success=True)

    def void_payment(self, payment_information: PaymentData, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        return self._response(payment_information, TransactionKind.VOID, success=True)

    def _response(
        self,
        info: PaymentData,
        kind: str,
        *,
        success: bool,
        token: str | None = None,
        error: str | None = None,
    ) -> GatewayResponse:
        return gateway_response(
            info,
            kind=kind,
            success=success,
            reference=token or info.token or f"PAY-{info.payment_id}",
            error=error,
        )

    @classmethod
    def validate_plugin_configuration(
        cls, plugin_configuration: PluginConfiguration, **kwargs: Any
    ) -> None:
        values = config_values(plugin_configuration.configuration)
        try:
            validate_template(values.get("instructions") or DEFAULT_INSTRUCTIONS)
        except PaymentError as exc:
            raise ValidationError(
                {"instructions": ValidationError(exc.message, code="invalid")}
            ) from None
        low = _int(values.get("reference_min_length"), -1)
        high = _int(values.get("reference_max_length"), -1)
        if not 0 < low <= high <= 140:
            raise ValidationError(
                {
                    "reference_max_length": ValidationError(
                        "Lengths must satisfy 0 < minimum <= maximum <= 140.", code="invalid"
                    )
                }
            )


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default
