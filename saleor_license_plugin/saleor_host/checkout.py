"""License lines in Saleor checkouts: adding them (``checkoutLicenseLinesAdd``) and the guard
that re-validates them at ``checkoutComplete`` (``preprocess_order_creation``)."""

from __future__ import annotations

import uuid
from typing import Any

import graphene
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
from saleor.checkout.error_codes import CheckoutErrorCode
from saleor.checkout.fetch import fetch_checkout_info, fetch_checkout_lines
from saleor.checkout.models import Checkout, CheckoutLine
from saleor.checkout.utils import invalidate_checkout
from saleor.product.models import ProductVariant

from saleor_license_plugin import conf
from saleor_license_plugin.licensing import billing, holds, partners
from saleor_license_plugin.licensing.checkout_lines import (
    INTENT_KEY,
    REFERENCE_KEY,
    TERMS_ACCEPTED_KEY,
    LineFacts,
    LineInput,
    LineIntent,
    bill_intent,
    check_checkout_requirements,
    check_new_line_owner,
    checkout_customer,
    completion_error,
    line_quantity,
    prepare_line,
    revalidate_line,
)
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.offers import PricedLine
from saleor_license_plugin.licensing.ports import AddedLine, Catalog, Principal
from saleor_license_plugin.models import OPEN_BILL_STATUSES, SubscriptionBill
from saleor_license_plugin.saleor_host.auth import (
    decode_global_id,
    principal_for_user,
    user_global_id,
    variant_global_id,
)
from saleor_license_plugin.saleor_host.catalog import KIND_KEY, SaleorCatalog
from saleor_license_plugin.saleor_host.compat import checkout_line_fields


def checkout_error(exc: LicenseError, line_ids: list[str] | None = None) -> ValidationError:
    """A refusal as Saleor's checkoutComplete reports it (line ids in ``lines``)."""
    message, code = completion_error(exc)
    params = {"lines": line_ids} if line_ids else {}
    return ValidationError(message, code=CheckoutErrorCode[code].value, params=params)


def buyer_checkout(checkout_id: Any, principal: Principal) -> Checkout:
    """The caller's own checkout; anyone else's looks like no checkout at all."""
    not_found = LicenseError(LicenseErrorCode.NOT_FOUND, "No such checkout.", "checkoutId")
    raw = str(checkout_id or "")
    token = decode_global_id(raw, "Checkout") if len(raw) < 200 else None
    try:
        token_uuid = uuid.UUID(token or "")
    except ValueError:
        raise not_found from None
    checkout = Checkout.objects.select_related("channel", "user").filter(pk=token_uuid).first()
    if checkout is None:
        raise not_found
    owner = user_global_id(checkout.user_id) if checkout.user_id else None
    if owner != principal.user_id and not principal.is_staff:
        raise not_found
    return checkout


def add_license_lines(
    checkout: Checkout,
    principal: Principal,
    lines: list[LineInput],
    *,
    settings: conf.LicenseSettings,
    catalog: Catalog,
    client_ip: str,
) -> list[tuple[CheckoutLine, PricedLine]]:
    """Price and add license lines: each its own checkout line, priced by override, with its
    intent in private metadata. All lines or none. Returns (line, priced) pairs."""
    now = timezone.now()
    prepared = []
    if isinstance(catalog, SaleorCatalog):
        catalog.preload(line.variant_id for line in lines)
    with conf.using(settings):
        for line in lines:
            intent, priced = prepare_line(
                line, principal, catalog, now, settings, client_ip=client_ip
            )
            decoded = decode_global_id(intent.variant_id, "ProductVariant")
            prepared.append((intent, priced, int(decoded or 0)))
    currency = {priced.quote.unit_price.currency for _, priced, _ in prepared}
    if currency and currency != {checkout.currency}:
        raise LicenseError(
            LicenseErrorCode.CURRENCY_MISMATCH,
            "Prices are not in the checkout's currency.",
            "lines",
        )
    variants = ProductVariant.objects.in_bulk([pk for _, _, pk in prepared])
    created = [
        (
            CheckoutLine(
                checkout=checkout,
                variant=variants[pk],
                quantity=line_quantity(intent.line_action, intent.quantity),
                currency=checkout.currency,
                price_override=priced.quote.unit_price.amount,
                undiscounted_unit_price_amount=priced.quote.unit_price.amount,
                private_metadata=intent.to_metadata(settings.key_secret),
                **checkout_line_fields(price_override_reason=f"License {intent.action}"),
            ),
            priced,
        )
        for intent, priced, pk in prepared
    ]
    with transaction.atomic():
        CheckoutLine.objects.bulk_create([line for line, _ in created])  # one statement
        manager = plugins_manager()
        lines_info, _ = fetch_checkout_lines(checkout)
        checkout_info = fetch_checkout_info(checkout, lines_info, manager)
        invalidate_checkout(checkout_info, lines_info, manager, save=True)
    return created


def add_bill_line(checkout: Checkout, bill_id: int, *, settings: conf.LicenseSettings) -> None:
    """The checkout line that pays a subscription bill: the plan's variant at the bill's amount
    (``licensing.checkout_lines.bill_intent``), checked again at completion like every license
    line. The customer accepted the terms when subscribing; the bill is the reference."""
    from saleor.checkout.utils import get_or_create_checkout_metadata

    bill = (
        SubscriptionBill.objects.select_related("subscription__license")
        .filter(pk=bill_id, status__in=OPEN_BILL_STATUSES)
        .first()
    )
    if bill is None or bill.amount is None:
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such open bill.", "billId")
    if bill.currency != checkout.currency:
        raise LicenseError(
            LicenseErrorCode.CURRENCY_MISMATCH,
            "The bill is not in the checkout's currency.",
            "billId",
        )
    owner = user_global_id(checkout.user_id) if checkout.user_id else ""
    intent = bill_intent(bill, owner, timezone.now())
    variant_pk = decode_global_id(intent.variant_id, "ProductVariant")
    variant = ProductVariant.objects.filter(pk=variant_pk or 0).first()
    if variant is None:
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "The plan left the catalog.", "billId")
    with transaction.atomic():
        metadata = get_or_create_checkout_metadata(checkout)
        metadata.store_value_in_metadata(
            {TERMS_ACCEPTED_KEY: "true", REFERENCE_KEY: f"SB-{bill.pk}"}
        )
        metadata.save(update_fields=["metadata"])
        CheckoutLine.objects.create(
            checkout=checkout,
            variant=variant,
            quantity=1,
            currency=checkout.currency,
            price_override=bill.amount,
            undiscounted_unit_price_amount=bill.amount,
            private_metadata=intent.to_metadata(settings.key_secret),
            **checkout_line_fields(price_override_reason="Subscription bill"),
        )
        manager = plugins_manager()
        lines_info, _ = fetch_checkout_lines(checkout)
        checkout_info = fetch_checkout_info(checkout, lines_info, manager)
        invalidate_checkout(checkout_info, lines_info, manager, save=True)


def guard_completion(
    checkout_info: Any, lines: Any, *, settings: conf.LicenseSettings, catalog: Catalog
) -> None:
    """Re-validate every license line of a checkout being completed (other lines are left
    alone); raise Saleor's ``ValidationError`` listing every refusal."""
    buyer = principal_for_user(checkout_info.user)
    now = timezone.now()
    errors: list[ValidationError] = []
    has_license_lines = False
    changes: list[tuple[LineIntent, str]] = []
    infos = list(lines if lines is not None else checkout_info.lines)
    if isinstance(catalog, SaleorCatalog):  # every license line's variant in one query
        catalog.preload(
            variant_global_id(info.variant.pk)
            for info in infos
            if INTENT_KEY in (info.line.private_metadata or {})
        )
    with conf.using(settings):
        for info in infos:
            facts = LineFacts(
                line_id=str(info.line.pk),
                variant_id=variant_global_id(info.variant.pk),
                quantity=info.line.quantity,
                private_metadata=info.line.private_metadata or {},
                price_override=info.line.price_override,
                is_license_product=KIND_KEY
                in {**(info.product.metadata or {}), **(info.variant.metadata or {})},
            )
            line_gid = graphene.Node.to_global_id("CheckoutLine", info.line.pk)
            try:
                intent = revalidate_line(facts, buyer, catalog, now, settings)
                if intent is not None:
                    has_license_lines = True
                    changes.append((intent, line_gid))
            except LicenseError as exc:
                has_license_lines = True
                errors.append(checkout_error(exc, [line_gid]))
        metadata = checkout_metadata(checkout_info.checkout)
        if has_license_lines and not errors:
            errors += _check_metadata(checkout_info.checkout, buyer, changes, settings)
        if not errors:
            errors += _check_voucher(checkout_info, buyer)
        if not errors:
            # Any checkout that names a billing contact: it must be the buyer's own.
            try:
                billing.check_checkout_contact(metadata, buyer.user_id)
            except LicenseError as exc:
                errors.append(checkout_error(exc))
        if not errors:
            errors += _hold_changes(changes, checkout_info.checkout, catalog, now)
        if not errors:
            errors += _auto_renew_needs_a_saved_card(changes, checkout_info.checkout)
    if errors:
        raise ValidationError({"lines": errors})


def _check_metadata(
    checkout: Any,
    buyer: Principal,
    changes: list[tuple[LineIntent, str]],
    settings: conf.LicenseSettings,
) -> list[ValidationError]:
    """Terms, reference, the end customer named (one of the buyer-partner's) and who gets
    the keys; the deployment of every NEW line serves the licenses' owner-to-be."""
    metadata = checkout_metadata(checkout)
    try:
        check_checkout_requirements(metadata, settings)
        customer, _ = checkout_customer(metadata, buyer)
    except LicenseError as exc:
        return [checkout_error(exc)]
    errors = []
    for intent, line_gid in changes:
        try:
            check_new_line_owner(intent, customer, buyer)
        except LicenseError as exc:
            errors.append(checkout_error(exc, [line_gid]))
    return errors


def _check_voucher(checkout_info: Any, buyer: Principal) -> list[ValidationError]:
    """Pricing per partner level: a voucher whose metadata names partner levels
    (``license.partner_levels``) is for partners of those levels only."""
    voucher = getattr(checkout_info, "voucher", None)
    code = getattr(checkout_info.checkout, "voucher_code", None)
    if voucher is None and code:
        from saleor.discount.models import VoucherCode

        found = VoucherCode.objects.select_related("voucher").filter(code=code).first()
        voucher = found.voucher if found is not None else None
    if voucher is None:
        return []
    try:
        partners.check_level_discount(voucher.metadata or {}, buyer)
    except LicenseError as exc:
        return [checkout_error(exc)]
    return []


def _hold_changes(
    changes: list[tuple[LineIntent, str]], checkout: Any, catalog: Catalog, now: Any
) -> list[ValidationError]:
    """Hold each conflicting change for this checkout (then its order): a second unpaid order
    for the same change to the same license fails here with CHANGE_PENDING."""
    errors = []
    holder = holds.checkout_holder(checkout.token)
    for intent, line_gid in changes:
        scope = holds.scope_of(intent, catalog)
        if scope is None or intent.license_id is None:
            continue
        try:
            holds.take(intent.license_id, scope, holder, now)
        except LicenseError as exc:
            errors.append(checkout_error(exc, [line_gid]))
    return errors


AUTO_RENEW_GATEWAYS = ("saleor_license_plugin.payments.stripe",)


def _auto_renew_needs_a_saved_card(
    changes: list[tuple[LineIntent, str]], checkout: Any
) -> list[ValidationError]:
    """Lines asking for auto-renew need a card saved for off-session payments: the checkout's
    payment must be with the Stripe license gateway and store the card (storePaymentMethod:
    OFF_SESSION). Other gateways cannot charge later, so they are refused, coded."""
    asking = [line_gid for intent, line_gid in changes if intent.auto_renew]
    if not asking:
        return []
    payment = checkout.payments.filter(is_active=True).order_by("-pk").first()
    if (
        payment is not None
        and payment.gateway in AUTO_RENEW_GATEWAYS
        and payment.store_payment_method == "off_session"
    ):
        return []
    refusal = LicenseError(
        LicenseErrorCode.AUTO_RENEW_NEEDS_CARD,
        "Auto-renew needs a card payment (Stripe) that saves the card: "
        "storePaymentMethod OFF_SESSION.",
        "lines",
    )
    return [checkout_error(refusal, asking)]


def checkout_metadata(checkout: Any) -> dict[str, Any]:
    try:
        return dict(checkout.metadata_storage.metadata or {})
    except ObjectDoesNotExist:
        return {}


def plugins_manager() -> Any:
    from saleor.plugins.manager import get_plugins_manager

    return get_plugins_manager(allow_replica=False)


class SaleorCheckoutHost:
    """checkoutLicenseLinesAdd inside Saleor: the caller's own checkout, lines added with the
    plugin's settings and the channel's catalog."""

    def __init__(
        self, settings: conf.LicenseSettings, catalog_for: Any, channel: Any = None
    ) -> None:
        self.settings = settings
        self.catalog_for = catalog_for  # channel -> Catalog
        self.channel = channel  # where new checkouts are created (the request's channel)

    def _add(
        self, checkout: Checkout, principal: Principal, lines: list[LineInput], client_ip: str
    ) -> tuple[str, list[AddedLine]]:
        added = add_license_lines(
            checkout,
            principal,
            lines,
            settings=self.settings,
            catalog=self.catalog_for(checkout.channel),
            client_ip=client_ip,
        )
        return graphene.Node.to_global_id("Checkout", checkout.pk), [
            AddedLine(graphene.Node.to_global_id("CheckoutLine", line.pk), line.quantity, priced)
            for line, priced in added
        ]

    def add_license_lines(
        self, checkout_id: str, principal: Principal, lines: list[LineInput], *, client_ip: str
    ) -> tuple[str, list[AddedLine]]:
        return self._add(buyer_checkout(checkout_id, principal), principal, lines, client_ip)

    def create_checkout(
        self, principal: Principal, lines: list[LineInput], *, client_ip: str
    ) -> tuple[str, list[AddedLine]]:
        """A new checkout of the signed-in customer in the request's channel, with the lines
        (all or none): what a renewal link opens."""
        from saleor.account.models import User

        pk = decode_global_id(principal.user_id or "", "User")
        user = User.objects.filter(pk=pk, is_active=True).first() if pk else None
        channel = self._channel_now()
        if user is None or channel is None:
            raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such customer.", "token")
        with transaction.atomic():
            return self._add(new_checkout(user, channel), principal, lines, client_ip)

    def _channel_now(self) -> Any:
        """The request's channel as it is now (the API may hold a copy a few seconds old),
        or None when it is gone or inactive: new checkouts are created in it."""
        from saleor.channel.models import Channel

        if self.channel is None:
            return None
        return Channel.objects.filter(pk=self.channel.pk, is_active=True).first()

    def create_bill_checkout(self, principal: Principal, bill_id: int, *, client_ip: str) -> str:
        """A new checkout of the signed-in customer in the request's channel holding the
        bill's line (the bill must be in the channel's currency)."""
        from saleor.account.models import User

        pk = decode_global_id(principal.user_id or "", "User")
        user = User.objects.filter(pk=pk, is_active=True).first() if pk else None
        channel = self._channel_now()
        if user is None or channel is None:
            raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such customer.", "billId")
        with transaction.atomic():
            checkout = new_checkout(user, channel)
            add_bill_line(checkout, bill_id, settings=self.settings)
        return graphene.Node.to_global_id("Checkout", checkout.pk)


def new_checkout(user: Any, channel: Any) -> Checkout:
    """An empty checkout of the customer's in ``channel``, billed to their default address."""
    address = user.default_billing_address
    return Checkout.objects.create(
        user=user,
        email=user.email,
        channel=channel,
        currency=channel.currency_code,
        country=channel.default_country,
        billing_address=address.get_copy() if address else None,
    )
