"""Saleor orders for fulfillment: the plain payload of an order's license lines, and what the
Celery tasks need from Saleor (found through ``fulfillment.host.task_host``)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from saleor.order import OrderChargeStatus, OrderStatus
from saleor.order.models import Order, OrderLine
from saleor.payment import ChargeStatus, TransactionKind
from saleor.payment.models import Payment

from saleor_license_plugin import conf
from saleor_license_plugin.fulfillment.autorenew import ChargeResult, RenewalRequest
from saleor_license_plugin.fulfillment.reconcile import PaidOrder, WithdrawnOrder
from saleor_license_plugin.licensing.checkout_lines import (
    CUSTOMER_KEY,
    INTENT_KEY,
    KEYS_TO_PARTNER,
    RESULT_KEY,
    LineInput,
    LineIntent,
    checkout_customer,
    end_customer_from,
)
from saleor_license_plugin.licensing.errors import LicenseError
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.models import License
from saleor_license_plugin.saleor_host.auth import user_global_id

logger = logging.getLogger(__name__)


def has_license_lines(order: Order) -> bool:
    return any(INTENT_KEY in (line.private_metadata or {}) for line in order.lines.all())


def _lines(order: Order) -> list[OrderLine]:
    """The order's lines by pk, from the prefetch cache when the caller prefetched them (the
    reconciliation does, a page at a time)."""
    if "lines" in getattr(order, "_prefetched_objects_cache", {}):
        return sorted(order.lines.all(), key=lambda line: line.pk)
    return list(order.lines.select_related("variant__product").order_by("pk"))


def order_payload(
    order: Order, settings: conf.LicenseSettings, *, paid: bool, grace_days: int = 0
) -> dict[str, Any] | None:
    """The plain fulfillment payload of an order's license lines, or None if it has none."""
    lines = []
    for line in _lines(order):
        try:
            intent = LineIntent.from_metadata(line.private_metadata or {}, settings.key_secret)
        except LicenseError:
            logger.error("Order %s line %s: license intent fails its check", order.pk, line.pk)
            continue
        if intent is None:
            continue
        variant = line.variant
        if variant is None:
            logger.error("Order %s line %s: the variant was deleted", order.pk, line.pk)
            continue
        metadata = {**(variant.product.metadata or {}), **(variant.metadata or {})}
        lines.append({"line_id": str(line.pk), "intent": asdict(intent), "metadata": metadata})
    if not lines:
        return None
    buyer = user_global_id(order.user_id) if order.user_id else ""
    try:
        end_customer = end_customer_from(order.metadata or {})
    except LicenseError:  # checked at checkoutComplete; staff may have edited it since
        logger.warning("Order %s: end-customer metadata is invalid and was left out", order.pk)
        end_customer = {}
    customer, keys_to, customer_email = _customer_of(order, buyer)
    return {
        "order_id": str(order.pk),
        "buyer_id": buyer,
        "email": (order.user_email or "") if settings.send_key_emails else "",
        "lines": lines,
        "currency": order.currency,
        "paid": paid,
        "grace_days": grace_days,
        "end_customer": end_customer,
        "payment_gateway": _saved_card_gateway(order),
        "channel": order.channel.slug if order.channel_id else "",
        "customer": customer,
        "keys_to": keys_to,
        "customer_email": customer_email if settings.send_key_emails else "",
        "invoice": paid and settings.invoice_on_payment,
    }


def _saved_card_gateway(order: Order) -> str:
    """The gateway of the order's payment when it saved the card for off-session use (what
    auto-renew charges later); empty otherwise."""
    payment = order.get_last_payment()
    if payment is None or payment.store_payment_method != "off_session":
        return ""
    return str(payment.gateway)


def _customer_of(order: Order, buyer: str) -> tuple[str, str, str]:
    """The end customer the order names (public id), who gets the keys, the customer's
    e-mail. Checked at checkoutComplete; fulfillment checks the customer again. A named
    customer that no longer checks out stays named, so its NEW lines fail visibly."""
    metadata = order.metadata or {}
    named = str(metadata.get(CUSTOMER_KEY, "") or "").strip()
    try:
        customer, keys_to = checkout_customer(metadata, Principal(buyer or None))
    except LicenseError:
        logger.warning(
            "Order %s: the end customer or keys recipient no longer checks out", order.pk
        )
        return named, KEYS_TO_PARTNER, ""
    if customer is None:
        return "", keys_to, ""
    return customer.public_id, keys_to, customer.email


class SaleorTaskHost:
    """What the Celery tasks need inside Saleor (found by ``fulfillment.host.task_host``)."""

    def context(self) -> Any:
        # Saleor's Celery guard refuses unannounced use of the writer database; the tasks
        # read-then-write license state, which must come from the writer.
        from saleor.core.db.connection import allow_writer

        return allow_writer()

    def write_order_results(self, order_id: str, results: dict[str, dict[str, Any]]) -> None:
        """What fulfillment did, into each order line's private metadata: references to
        licenses, never keys."""
        for line in OrderLine.objects.filter(order_id=order_id, pk__in=list(results)):
            line.store_value_in_private_metadata({RESULT_KEY: results[str(line.pk)]})
            line.save(update_fields=["private_metadata"])

    def order_source(self) -> SaleorOrderSource:
        return SaleorOrderSource()

    def catalog(self) -> Any:
        """The license plugin's default channel (Dashboard), else the first active one."""
        from saleor.channel.models import Channel
        from saleor.plugins.manager import get_plugins_manager

        plugin = get_plugins_manager(allow_replica=False).get_plugin(LICENSE_PLUGIN_ID)
        if plugin is None or not hasattr(plugin, "catalog_for"):
            return None
        slug = (getattr(plugin, "config", {}) or {}).get("default_channel") or ""
        channels = Channel.objects.filter(is_active=True)
        channel = (channels.filter(slug=slug) if slug else channels.order_by("pk")).first()
        return plugin.catalog_for(channel) if channel is not None else None

    def catalog_for_channel(self, channel: str) -> Any:
        """The license plugin's catalog of one active channel, or None."""
        from saleor.channel.models import Channel
        from saleor.plugins.manager import get_plugins_manager

        plugin = get_plugins_manager(allow_replica=False).get_plugin(LICENSE_PLUGIN_ID)
        found = Channel.objects.filter(slug=channel, is_active=True).first()
        if plugin is None or not hasattr(plugin, "catalog_for") or found is None:
            return None
        return plugin.catalog_for(found)

    can_refund = True

    def refund_line(self, order_id: str, line_id: str) -> None:
        """Refund one line's total (after discounts) through the order's last payment, as the
        Dashboard's orderRefund does, without Saleor's order_refunded hook: that hook would
        suspend the order's other licenses for review, and they were applied fine."""
        from saleor.order import FulfillmentStatus
        from saleor.order.events import payment_refunded_event
        from saleor.payment import gateway
        from saleor.plugins.manager import get_plugins_manager

        order = Order.objects.select_related("channel").get(pk=order_id)
        line = order.lines.get(pk=line_id)
        amount = line.total_price_gross_amount
        payment = order.get_last_payment()
        if payment is None or not payment.can_refund():
            raise LookupError("the order has no refundable payment")
        manager = get_plugins_manager(allow_replica=False)
        txn = gateway.refund(
            payment=payment, manager=manager, channel_slug=order.channel.slug, amount=amount
        )
        if txn.kind != TransactionKind.REFUND or not txn.is_success:
            raise RuntimeError("the gateway did not refund")
        payment.refresh_from_db()
        payment_refunded_event(order=order, user=None, app=None, amount=amount, payment=payment)
        order.fulfillments.create(status=FulfillmentStatus.REFUNDED, total_refund_amount=amount)

    def charge_renewal(self, request: RenewalRequest) -> ChargeResult:
        """Place the renewal as a checkout of the customer's with one-year renewal lines, and
        complete it with the card saved at the first purchase, off-session: Saleor's own
        completion creates the paid order and its hooks extend the licenses. Resuming an
        attempt reuses its checkout, so its payment, so Stripe's idempotency key."""

        def add_lines(checkout: Any, user: Any, channel: Any, license_plugin: Any) -> None:
            from saleor_license_plugin.saleor_host.auth import principal_for_user
            from saleor_license_plugin.saleor_host.checkout import add_license_lines

            licenses = License.objects.in_bulk([item.license_id for item in request.items])
            lines = [
                LineInput(
                    variant_id=item.variant_id,
                    action=item.kind.line_action,
                    license_key=licenses[item.license_id].display_key(),
                    years=1,
                )
                for item in request.items
                if item.license_id in licenses
            ]
            add_license_lines(
                checkout,
                principal_for_user(user),
                lines,
                settings=license_plugin.license_settings(),
                catalog=license_plugin.catalog_for(channel),
                client_ip="auto-renew",
            )

        return _charge_off_session(request, add_lines)

    def charge_bill(self, request: Any) -> ChargeResult:
        """A subscription's bill, charged like an auto-renewal: a checkout of the customer's
        holding one bill line (the plan's variant at the bill's amount), completed off-session
        with the card saved at the purchase; the paid order's fulfillment settles the bill."""

        def add_lines(checkout: Any, user: Any, channel: Any, license_plugin: Any) -> None:
            from saleor_license_plugin.saleor_host.checkout import add_bill_line

            add_bill_line(checkout, request.bill_id, settings=license_plugin.license_settings())

        return _charge_off_session(request, add_lines)

    def note_on_order(self, order_id: str, text: str) -> None:
        from saleor.order.events import order_note_added_event

        order = Order.objects.get(pk=order_id)
        order_note_added_event(order=order, user=None, app=None, message=text)

    def license_settings(self) -> conf.LicenseSettings:
        return _plugin_settings()

    def order_facts(self, order_id: str) -> Any:
        from saleor_license_plugin.saleor_host.invoices import order_facts

        order = Order.objects.select_related("billing_address").filter(pk=order_id).first()
        return order_facts(order, conf.get_settings()) if order is not None else None

    def attach_invoice(self, order_id: str, invoice: Any, url: str) -> None:
        from saleor_license_plugin.saleor_host.invoices import attach

        attach(order_id, invoice, url)

    def public_api_url(self) -> str:
        from saleor_license_plugin.saleor_host.invoices import plugin_api_url

        return plugin_api_url()


LICENSE_PLUGIN_ID = "saleor_license_plugin"
RENEWAL_MARKER = "saleor_license_plugin.auto_renew"  # checkout private metadata: the attempt


def _charge_off_session(request: Any, add_lines: Any) -> ChargeResult:
    """Auto-renewals and subscription bills alike (``request``: an ``autorenew.RenewalRequest``
    or a ``subscription_billing.BillRequest``, both naming the owner, the gateway holding the
    saved card, the channel and the attempt's reference): a checkout of the customer's marked with
    the attempt's reference (found again when the attempt resumes, so the same payment and
    the same provider idempotency key), its lines added once by ``add_lines``, completed by
    Saleor's own ``complete_checkout`` on the customer's saved card, off-session."""
    from saleor.account.models import User
    from saleor.channel.models import Channel
    from saleor.checkout.complete_checkout import complete_checkout
    from saleor.checkout.fetch import fetch_checkout_info, fetch_checkout_lines
    from saleor.checkout.models import Checkout
    from saleor.checkout.utils import get_or_create_checkout_metadata
    from saleor.payment import PaymentError as SaleorPaymentError
    from saleor.payment.utils import create_payment, fetch_customer_id
    from saleor.plugins.manager import get_plugins_manager

    from saleor_license_plugin.licensing.errors import LicenseError
    from saleor_license_plugin.saleor_host.auth import decode_global_id
    from saleor_license_plugin.saleor_host.checkout import new_checkout
    from saleor_license_plugin.saleor_host.compat import checkout_total

    owner_id, gateway_id, channel_slug, reference = (
        request.owner_id,
        request.gateway,
        request.channel,
        request.reference,
    )
    user_pk = decode_global_id(owner_id, "User")
    user = User.objects.filter(pk=user_pk, is_active=True).first() if user_pk else None
    channel = Channel.objects.filter(slug=channel_slug, is_active=True).first()
    if user is None or channel is None:
        return ChargeResult("declined", message="customer or channel gone")
    manager = get_plugins_manager(allow_replica=False)
    license_plugin = manager.get_plugin(LICENSE_PLUGIN_ID)
    gateway = manager.get_plugin(gateway_id, channel_slug=channel.slug)
    customer_id = fetch_customer_id(user, gateway_id)
    cards = gateway.saved_cards(customer_id) if gateway and customer_id else []
    if license_plugin is None or not cards:
        return ChargeResult("declined", message="no saved card")
    marker = {RENEWAL_MARKER: reference}
    checkout = Checkout.objects.filter(
        user=user, metadata_storage__private_metadata__contains=marker
    ).first()
    if checkout is None:
        checkout = new_checkout(user, channel)
        metadata = get_or_create_checkout_metadata(checkout)
        metadata.store_value_in_private_metadata(marker)
        metadata.save(update_fields=["private_metadata"])
        try:
            add_lines(checkout, user, channel, license_plugin)
        except LicenseError as exc:
            return ChargeResult("declined", message=f"{exc.code.value}: {exc.message}"[:200])
    lines_info, _ = fetch_checkout_lines(checkout)
    checkout_info = fetch_checkout_info(checkout, lines_info, manager)
    if not checkout.payments.filter(is_active=True).exists():
        total = checkout_total(manager, checkout_info, lines_info)
        create_payment(
            gateway=gateway_id,
            total=total.gross.amount,
            currency=total.gross.currency,
            email=user.email,
            checkout=checkout,
        )
    try:
        order, action_required, _ = complete_checkout(
            manager=manager,
            checkout_info=checkout_info,
            lines=lines_info,
            payment_data={"payment_method_id": cards[0], "off_session": True},
            store_source=False,
            user=user,
            app=None,
        )
    except (ValidationError, SaleorPaymentError) as exc:
        return ChargeResult("declined", message=str(exc)[:200])
    if order is not None:
        return ChargeResult("paid", order_id=str(order.pk))
    if action_required:
        return ChargeResult("action_required", message="the card needs the customer")
    return ChargeResult("declined", message="no order")


def _plugin_settings() -> conf.LicenseSettings:
    """The license plugin's settings (Dashboard over Django), as its hooks see them."""
    from saleor.plugins.manager import get_plugins_manager

    plugin = get_plugins_manager(allow_replica=False).get_plugin(LICENSE_PLUGIN_ID)
    if plugin is not None and hasattr(plugin, "license_settings"):
        return plugin.license_settings()
    return conf.from_django_settings()


class SaleorOrderSource:
    """Saleor's orders for the reconciliation, a page at a time by order number (keyset), each
    page in a fixed number of queries (orders, then their lines with variants and products)."""

    def __init__(self) -> None:
        self.settings = _plugin_settings()

    def _orders(self, since: datetime, after: str, limit: int) -> QuerySet[Order]:
        lines = OrderLine.objects.select_related("variant__product")
        with_license_lines = Order.objects.filter(
            updated_at__gte=since, lines__private_metadata__has_key=INTENT_KEY
        ).distinct()
        if after:
            with_license_lines = with_license_lines.filter(number__gt=int(after))
        return with_license_lines.order_by("number").prefetch_related(Prefetch("lines", lines))

    def paid_orders(self, *, since: datetime, after: str, limit: int) -> list[PaidOrder]:
        refunded = Payment.objects.filter(
            order_id=OuterRef("pk"), charge_status=ChargeStatus.FULLY_REFUNDED
        )
        orders = (
            self._orders(since, after, limit)
            .filter(charge_status__in=(OrderChargeStatus.FULL, OrderChargeStatus.OVERCHARGED))
            .exclude(status=OrderStatus.CANCELED)
            .exclude(Exists(refunded))[:limit]
        )
        return [
            PaidOrder(
                order_payload(order, self.settings, paid=True),
                frozenset(
                    str(line.pk)
                    for line in order.lines.all()
                    if ((line.private_metadata or {}).get(RESULT_KEY) or {}).get("error")
                ),
                cursor=str(order.number),
            )
            for order in orders
        ]

    def withdrawn_orders(self, *, since: datetime, after: str, limit: int) -> list[WithdrawnOrder]:
        refunded = Payment.objects.filter(
            order_id=OuterRef("pk"), charge_status=ChargeStatus.FULLY_REFUNDED
        )
        orders = (
            self._orders(since, after, limit)
            .annotate(fully_refunded=Exists(refunded))
            .filter(Q(status=OrderStatus.CANCELED) | Q(fully_refunded=True))[:limit]
        )
        return [
            WithdrawnOrder(
                str(order.pk),
                "cancelled" if order.status == OrderStatus.CANCELED else "fully_refunded",
                cursor=str(order.number),
            )
            for order in orders
        ]
