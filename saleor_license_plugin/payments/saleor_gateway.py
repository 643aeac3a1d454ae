"""What the three gateway plugins share: Saleor's gateway boilerplate and the bridge from a
provider's webhook outcome to Saleor's payments, transactions, orders and checkouts. A plugin
module (``payments/*/plugin.py``), so it may import Saleor; the providers' modules do not."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import graphene
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseNotFound
from saleor.checkout.complete_checkout import complete_checkout
from saleor.checkout.fetch import fetch_checkout_info, fetch_checkout_lines
from saleor.checkout.models import Checkout
from saleor.order.actions import order_charged, order_refunded, order_voided
from saleor.order.fetch import fetch_order_info
from saleor.payment import ChargeStatus, TransactionKind
from saleor.payment import PaymentError as SaleorPaymentError
from saleor.payment.gateway import payment_refund_or_void
from saleor.payment.gateways.utils import get_supported_currencies
from saleor.payment.interface import (
    GatewayConfig,
    GatewayResponse,
    PaymentData,
    PaymentMethodInfo,
)
from saleor.payment.models import Payment, Transaction
from saleor.payment.utils import (
    create_transaction,
    gateway_postprocess,
    update_payment_charge_status,
)
from saleor.plugins.base_plugin import BasePlugin, ConfigurationTypeField
from saleor.plugins.manager import get_plugins_manager

from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.licenses import suspend_for_chargeback
from saleor_license_plugin.payments.money import from_minor
from saleor_license_plugin.payments.outcome import ExpectedPayment, WebhookAction, WebhookOutcome

logger = logging.getLogger(__name__)


class LicenseGatewayPlugin(BasePlugin):
    """Saleor's gateway boilerplate, once. Each gateway still defines ``process_payment`` on its
    own class: that is how Saleor tells a payment gateway."""

    CONFIGURATION_PER_CHANNEL = True  # each channel has its own account and keys
    DEFAULT_ACTIVE = False  # until the Dashboard configures it
    config: GatewayConfig
    values: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.values = config_values(self.configuration)

    def _gateway_config(self, *, auto_capture: bool, store_customer: bool = False) -> GatewayConfig:
        """Saleor's view of this gateway, from the ``supported_currencies`` setting."""
        return GatewayConfig(
            gateway_name=self.PLUGIN_NAME,
            auto_capture=auto_capture,
            supported_currencies=self.values.get("supported_currencies") or "",
            connection_params={},
            store_customer=store_customer,
        )

    def _timeouts(self) -> tuple[float, float]:
        """(connect, read) seconds from the ``request_timeout`` setting: connecting at most 5."""
        read = seconds(self.values.get("request_timeout"), 30.0)
        return min(5.0, read), read

    def get_supported_currencies(self, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        return get_supported_currencies(self.config, self.PLUGIN_NAME)

    def token_is_required_as_payment_input(self, previous_value: Any) -> Any:
        if not self.active:
            return previous_value
        return False

    def get_payment_gateways(
        self, currency: str | None, checkout_info: Any, checkout_lines: Any, previous_value: Any
    ) -> Any:
        if not self.active:
            return previous_value
        return super().get_payment_gateways(currency, checkout_info, checkout_lines, previous_value)

    # --- provider notifications: POST <plugin url>/<WEBHOOK_PATH>/ -------------------------

    WEBHOOK_PATH = "webhooks"

    def webhook(self, request: Any, path: str, previous_value: Any) -> HttpResponse:
        """Verify the provider's notification (on the raw body) and apply its outcome to this
        channel's payments; coded errors as :func:`error_response` says."""
        if not self.active or self.channel is None:
            return HttpResponseNotFound()
        if path.strip("/") != self.WEBHOOK_PATH:
            return HttpResponseNotFound()
        if request.method != "POST":
            return HttpResponse(status=405)
        gateway, channel_slug = self.PLUGIN_ID, self.channel.slug
        try:
            self.handle_notification(
                request,
                lookup=lambda reference: find_payment(reference, gateway, channel_slug),
                apply=lambda outcome: apply_webhook_outcome(outcome, gateway, channel_slug),
            )
        except PaymentError as exc:
            return error_response(exc)
        return self.notification_answer()

    def handle_notification(
        self,
        request: Any,
        *,
        lookup: Callable[[str], ExpectedPayment | None],
        apply: Callable[[WebhookOutcome], None],
    ) -> None:
        raise NotImplementedError

    def notification_answer(self) -> HttpResponse:
        return HttpResponse(status=200)


def error_response(exc: PaymentError) -> HttpResponse:
    """400 for what the sender got wrong, 503 for what a retry may fix, 500 for setup."""
    if exc.retryable:
        return HttpResponse(status=503)
    if exc.code is PaymentErrorCode.NOT_CONFIGURED:
        return HttpResponse(status=500)
    return HttpResponse(status=400)


def find_payment(reference: str, gateway: str, channel_slug: str | None) -> ExpectedPayment | None:
    payment = _payment_for(reference, gateway)
    if payment is None or (channel_slug and _channel_slug(payment) != channel_slug):
        return None
    return ExpectedPayment(
        reference=reference,
        amount=payment.total,
        currency=payment.currency,
        payment_id=str(payment.pk),
    )


def _payment_for(reference: str, gateway: str, lock: bool = False) -> Payment | None:
    qs = Payment.objects.filter(gateway=gateway)
    if lock:
        qs = qs.select_for_update(of=("self",))
    payment = qs.filter(psp_reference=reference).order_by("-pk").first()
    if payment is None:
        payment = qs.filter(transactions__token=reference).order_by("-pk").first()
    return payment


def _channel_slug(payment: Payment) -> str | None:
    if payment.order_id and payment.order:
        return payment.order.channel.slug
    if payment.checkout_id and payment.checkout:
        return payment.checkout.channel.slug
    return None


def apply_webhook_outcome(outcome: WebhookOutcome, gateway: str, channel_slug: str | None) -> None:
    """Apply a provider's verified outcome to the Saleor payment, once.

    Runs inside the transaction that records the notification. Each step checks the payment's
    state and its transactions first, so a replay or a late notification changes nothing.
    """
    found = _payment_for(outcome.reference, gateway)
    if found is None or (channel_slug and _channel_slug(found) != channel_slug):
        return
    # Lock in checkoutComplete's order, the checkout first and then the payment: the reverse
    # order could deadlock with the customer completing the checkout at the same moment.
    checkout = _lock_paid_checkout(found)
    payment = _payment_for(outcome.reference, gateway, lock=True)
    if payment is None:
        return
    manager = get_plugins_manager(allow_replica=False)
    currency = outcome.currency or payment.currency
    amount = from_minor(outcome.amount, currency)
    open_states = (ChargeStatus.NOT_CHARGED, ChargeStatus.PENDING)

    if outcome.action is WebhookAction.CAPTURE:
        if payment.charge_status in open_states and not _has(payment, TransactionKind.CAPTURE):
            txn = _record(payment, TransactionKind.CAPTURE, outcome.reference, amount, currency)
            if payment.order_id:
                order_charged(
                    fetch_order_info(payment.order), None, None, txn.amount, payment, manager
                )
            elif checkout is not None:
                _complete_paid_checkout(checkout, payment, manager)
            else:
                _return_orphaned(payment, manager)
    elif outcome.action is WebhookAction.AUTHORIZE:
        if payment.charge_status in open_states and not _has(payment, TransactionKind.AUTH):
            _record(payment, TransactionKind.AUTH, outcome.reference, amount, currency)
            if not payment.order_id and checkout is not None:
                _complete_paid_checkout(checkout, payment, manager)
            elif not payment.order_id:
                _return_orphaned(payment, manager)
    elif outcome.action is WebhookAction.PENDING:
        if payment.charge_status == ChargeStatus.NOT_CHARGED:
            _record(payment, TransactionKind.PENDING, outcome.reference, amount, currency)
    elif outcome.action is WebhookAction.FAIL:
        if payment.charge_status in open_states and payment.is_active:
            _record(payment, TransactionKind.CANCEL, outcome.reference, amount, currency)
            if payment.order_id:
                order_voided(payment.order, None, None, payment, manager)
    elif outcome.action is WebhookAction.REFUND:
        known = set(payment.transactions.values_list("token", flat=True))
        for refund in outcome.refunds:
            refundable = payment.captured_amount
            if refund.refund_id in known or refundable <= 0:
                continue
            refund_amount = min(from_minor(refund.amount, currency), refundable)
            txn = _record(
                payment, TransactionKind.REFUND, refund.refund_id, refund_amount, currency
            )
            if payment.order_id:
                order_refunded(payment.order, None, None, txn.amount, payment, manager)
    elif outcome.action is WebhookAction.CHARGEBACK and payment.order_id:
        order = payment.order
        suspend_for_chargeback(
            [str(order.pk), graphene.Node.to_global_id("Order", order.pk), str(order.number)],
            provider=gateway.rsplit(".", 1)[-1],
            reference=outcome.reference,
        )


def _return_orphaned(payment: Payment, manager: Any) -> None:
    """Money taken for a payment that pays no checkout and no order (the customer replaced it,
    or the checkout is gone) goes back: refunded if captured, voided if only authorized, as
    Saleor's own Stripe webhooks do. Through the gateway's own refund/void, so it is
    idempotent; a replayed notification finds the payment refunded and changes nothing."""
    logger.warning(
        "Provider took money for a payment with no checkout or order; returning it",
        extra={"payment_id": payment.pk},
    )
    payment_refund_or_void(payment, manager, channel_slug=_channel_slug(payment))
    payment.refresh_from_db()


def _lock_paid_checkout(payment: Payment) -> Checkout | None:
    """The checkout this still-active payment pays for, locked; None once it became an order."""
    if payment.order_id or not payment.checkout_id:
        return None
    return (
        Checkout.objects.select_for_update(of=("self",))
        .filter(pk=payment.checkout_id, payments__id=payment.pk, payments__is_active=True)
        .first()
    )


def _complete_paid_checkout(checkout: Checkout, payment: Payment, manager: Any) -> None:
    """Create the order for a checkout the provider reports as paid.

    The customer may never come back from 3-D Secure or the payment page (closed the tab, lost
    the connection), and only checkoutComplete creates orders: without this the money is taken
    and no order (and no license) exists. Saleor's own Stripe webhooks do the same. The payment
    still has ``to_confirm`` set, so Saleor's completion calls confirm_payment, which returns
    the transaction just recorded. When the customer does come back, checkoutComplete answers
    with this order. If the checkout cannot become an order (it changed, a license line is no
    longer valid), Saleor's completion refunds or voids the payment and the failure is logged.
    """
    lines, unavailable = fetch_checkout_lines(checkout)
    if unavailable or not lines:
        logger.warning(
            "A paid checkout has unavailable lines; not completed",
            extra={"payment_id": payment.pk},
        )
        return
    checkout_info = fetch_checkout_info(checkout, lines, manager)
    try:
        complete_checkout(
            manager=manager,
            checkout_info=checkout_info,
            lines=lines,
            payment_data={},
            store_source=False,
            user=checkout.user,
            app=None,
        )
    except (ValidationError, SaleorPaymentError) as exc:
        # SaleorPaymentError: when the payment no longer covers the checkout, Saleor 3.23
        # refunds it, then its failure handler (judging a stale copy of the payment) refunds
        # again and raises "Amount should be a positive number."; the first refund is kept.
        logger.warning(
            "A paid checkout could not be completed",
            extra={"payment_id": payment.pk, "error": str(exc)},
        )


def _has(payment: Payment, kind: str) -> bool:
    return payment.transactions.filter(kind=kind, is_success=True, action_required=False).exists()


def _succeeded(
    kind: str, token: str, amount: Decimal, currency: str, *, already_processed: bool = False
) -> GatewayResponse:
    """A successful ``kind`` transaction at the provider, its reference as both ids."""
    return GatewayResponse(
        is_success=True,
        action_required=False,
        kind=kind,
        amount=amount,
        currency=currency,
        transaction_id=token,
        error=None,
        transaction_already_processed=already_processed,
        psp_reference=token,
    )


def _record(payment: Payment, kind: str, token: str, amount: Decimal, currency: str) -> Transaction:
    txn = create_transaction(
        payment,
        kind=kind,
        payment_information=None,
        action_required=False,
        gateway_response=_succeeded(kind, token, amount, currency),
    )
    if payment.order_id is None:
        # Still the checkout's payment (the customer has not come back from 3-D Secure or the
        # payment page yet). Saleor's next checkoutComplete calls confirm_payment only while
        # ``to_confirm`` is set, and process_payment (a second intent / redirect order)
        # otherwise; so, like Saleor's own Stripe webhooks, update the charge status and leave
        # ``to_confirm`` alone: confirm_payment then finds this transaction.
        update_payment_charge_status(payment, txn)
    else:
        gateway_postprocess(txn, payment)
    payment.refresh_from_db()
    return txn


def processed_transaction(payment_id: int) -> GatewayResponse | None:
    txn = Transaction.objects.filter(
        payment_id=payment_id,
        is_success=True,
        action_required=False,
        kind__in=[TransactionKind.AUTH, TransactionKind.CAPTURE, TransactionKind.PENDING],
    ).first()
    if txn is None:
        return None
    return _succeeded(txn.kind, txn.token, txn.amount, txn.currency, already_processed=True)


# --- GatewayResponse building --------------------------------------------------------------


def gateway_response(
    info: PaymentData,
    *,
    kind: str,
    success: bool,
    reference: str,
    amount: Decimal | None = None,
    currency: str | None = None,
    error: str | None = None,
    action_required: bool = False,
    action_required_data: dict[str, Any] | None = None,
    payment_method_info: PaymentMethodInfo | None = None,
) -> GatewayResponse:
    """What a gateway operation reports to Saleor; the provider's reference is both the
    transaction id and the PSP reference. Amount and currency default to the payment's."""
    return GatewayResponse(
        is_success=success,
        action_required=action_required,
        kind=kind,
        amount=info.amount if amount is None else amount,
        currency=currency or info.currency,
        transaction_id=reference,
        error=error,
        action_required_data=action_required_data,
        payment_method_info=payment_method_info,
        psp_reference=reference,
    )


def failed_response(info: PaymentData, exc: PaymentError, kind: str) -> GatewayResponse:
    """A refusal: the coded message goes to Saleor (and the Dashboard), no secret in it."""
    return GatewayResponse(
        is_success=False,
        action_required=False,
        kind=kind,
        amount=info.amount,
        currency=info.currency,
        transaction_id=info.token or "",
        error=f"{exc.message} ({exc.code.value})",
    )


def gateway_operation(
    kind: str, *, missing_token: PaymentError | None = None
) -> Callable[[Callable[[Any, PaymentData], GatewayResponse]], Any]:
    """Saleor's gateway-hook ritual, once: an inactive plugin passes ``previous_value`` on; a
    payment without the provider's reference (when ``missing_token`` says what to report) and
    a ``PaymentError`` from the provider become a failed ``kind`` transaction."""

    def decorate(operation: Callable[[Any, PaymentData], GatewayResponse]) -> Any:
        @functools.wraps(operation)
        def hook(self: Any, payment_information: PaymentData, previous_value: Any) -> Any:
            if not self.active:
                return previous_value
            if missing_token is not None and not payment_information.token:
                return failed_response(payment_information, missing_token, kind)
            try:
                return operation(self, payment_information)
            except PaymentError as exc:
                return failed_response(payment_information, exc, kind)

        return hook

    return decorate


# --- configuration: what the three gateways' settings have in common -----------------------


def config_values(configuration: list[dict[str, Any]]) -> dict[str, Any]:
    """A plugin's configuration (Saleor's list of ``{name, value}``) by name."""
    return {item["name"]: item["value"] for item in configuration}


def require_values(values: dict[str, Any], names: tuple[str, ...]) -> None:
    """The Dashboard's ``required`` error on each of ``names`` left empty."""
    missing = [name for name in names if not values.get(name)]
    if missing:
        raise ValidationError(
            {name: ValidationError("This field is required.", code="required") for name in missing}
        )


def supported_currencies_field() -> dict[str, Any]:
    """The ``supported_currencies`` setting ``LicenseGatewayPlugin._gateway_config`` reads."""
    return {
        "type": ConfigurationTypeField.STRING,
        "help_text": "Currency codes this gateway accepts, separated by commas (EUR, USD).",
        "label": "Supported currencies",
    }


def request_timeout_field(provider: str) -> dict[str, Any]:
    """The ``request_timeout`` setting that :meth:`LicenseGatewayPlugin._timeouts` reads."""
    return {
        "type": ConfigurationTypeField.STRING,
        "help_text": f"Seconds to wait for {provider}'s answer (connecting: at most 5).",
        "label": "Request timeout",
    }


def seconds(value: Any, default: float) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if 0 < seconds <= 120 else default
