"""The Saleor surface: the only module (with payments/*/plugin.py) that imports Saleor.

It translates Saleor's objects into the plain values the rest of the package works on:
variants and channel prices into a :class:`~saleor_license_plugin.host.Catalog`, Saleor's JWT
into a :class:`~saleor_license_plugin.host.Principal`, checkout lines into
:class:`~saleor_license_plugin.checkout_lines.LineFacts`, orders into fulfillment payloads.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import graphene
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from saleor.checkout.error_codes import CheckoutErrorCode
from saleor.checkout.fetch import fetch_checkout_info, fetch_checkout_lines
from saleor.checkout.models import Checkout, CheckoutLine
from saleor.checkout.utils import invalidate_checkout
from saleor.order import OrderChargeStatus
from saleor.order.models import Order, OrderLine
from saleor.plugins.base_plugin import BasePlugin, ConfigurationTypeField
from saleor.product.models import ProductVariant, ProductVariantChannelListing

from . import conf
from .catalog import parse_terms
from .checkout_lines import (
    INTENT_KEY,
    RESULT_KEY,
    LineFacts,
    LineInput,
    LineIntent,
    check_checkout_requirements,
    end_customer_from,
    line_quantity,
    prepare_line,
    revalidate_line,
)
from .errors import LicenseError, LicenseErrorCode
from .host import CatalogItem, Principal
from .pricing import Money

logger = logging.getLogger(__name__)
KIND_KEY = "license.kind"
PLUGIN_ID = "saleor_license_plugin"


# --- identities -------------------------------------------------------------------------


def user_global_id(user_pk: Any) -> str:
    return graphene.Node.to_global_id("User", user_pk)


def variant_global_id(variant_pk: Any) -> str:
    return graphene.Node.to_global_id("ProductVariant", variant_pk)


def _decode(global_id: str, type_name: str) -> str | None:
    try:
        kind, pk = graphene.Node.from_global_id(global_id)
    except Exception:  # graphene 2 raises assorted errors for garbage input
        return None
    return pk if kind == type_name and pk else None


def principal_for_user(user: Any) -> Principal:
    """The plain principal of a Saleor user (or anonymous)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Principal()
    from saleor.permission.enums import get_permission_names

    names = frozenset(get_permission_names(user.effective_permissions))
    return Principal(user_global_id(user.pk), user.email, names)


def principal_from_request(request: HttpRequest) -> Principal:
    """Saleor's own JWT (``Authorization: Bearer``), validated the way Saleor's API does."""
    import jwt
    from saleor.core.auth import get_token_from_request
    from saleor.core.jwt import get_user_from_access_payload, is_saleor_token, jwt_decode

    token = get_token_from_request(request)
    if not token or not is_saleor_token(token):
        return Principal()
    try:
        user = get_user_from_access_payload(jwt_decode(token), request)
    except jwt.PyJWTError:
        return Principal()
    return principal_for_user(user)


# --- catalog ----------------------------------------------------------------------------


class SaleorCatalog:
    """License variants of one channel, priced at the channel's listing."""

    def __init__(self, channel: Any, deployment_products: frozenset[str] = frozenset()) -> None:
        self.channel = channel
        self.deployment_products = deployment_products
        self._items: dict[str, CatalogItem] | None = None

    def _query(self) -> Any:
        return (
            ProductVariantChannelListing.objects.filter(
                channel=self.channel, price_amount__isnull=False
            )
            .filter(
                Q(variant__metadata__has_key=KIND_KEY)
                | Q(variant__product__metadata__has_key=KIND_KEY)
            )
            .select_related("variant__product")
        )

    def _item(self, listing: Any) -> CatalogItem | None:
        variant = listing.variant
        product = variant.product
        terms = parse_terms(product.metadata, variant.metadata)
        if terms is None:
            return None
        if product.slug in self.deployment_products:
            terms = replace(terms, requires_deployment=True)
        name = f"{product.name} {variant.name}".strip()
        price = Money(listing.price_amount, listing.currency)
        return CatalogItem(variant_global_id(variant.pk), name, price, terms, variant.sku or "")

    def _load(self) -> dict[str, CatalogItem]:
        if self._items is None:
            items = (self._item(listing) for listing in self._query())
            self._items = {item.variant_id: item for item in items if item is not None}
        return self._items

    def items(self) -> list[CatalogItem]:
        return sorted(self._load().values(), key=lambda item: (item.price.amount, item.name))

    def get(self, variant_id: str) -> CatalogItem | None:
        if self._items is not None:
            return self._items.get(variant_id)
        pk = _decode(variant_id, "ProductVariant")
        if pk is None or not pk.isdigit():
            return None
        listing = self._query().filter(variant_id=int(pk)).first()
        return self._item(listing) if listing else None


# --- errors -----------------------------------------------------------------------------

_CHECKOUT_CODES = {
    LicenseErrorCode.NOT_FOUND: CheckoutErrorCode.NOT_FOUND,
    LicenseErrorCode.REQUIRED: CheckoutErrorCode.REQUIRED,
    LicenseErrorCode.TERMS_NOT_ACCEPTED: CheckoutErrorCode.REQUIRED,
    LicenseErrorCode.REFERENCE_REQUIRED: CheckoutErrorCode.REQUIRED,
    LicenseErrorCode.DEPLOYMENT_REQUIRED: CheckoutErrorCode.REQUIRED,
}


def checkout_error(exc: LicenseError, line_ids: list[str] | None = None) -> ValidationError:
    """Saleor's checkoutComplete only accepts its own CheckoutErrorCode values, so the license
    code leads the message (``STALE_QUOTE: ...``) and the line ids go in ``lines``."""
    code = _CHECKOUT_CODES.get(exc.code, CheckoutErrorCode.INVALID)
    params = {"lines": line_ids} if line_ids else {}
    return ValidationError(f"{exc.code.value}: {exc.message}", code=code.value, params=params)


# --- the plugin -------------------------------------------------------------------------


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in {"true", "1", "yes"}


class LicensePlugin(BasePlugin):
    PLUGIN_ID = PLUGIN_ID
    PLUGIN_NAME = "Software licenses"
    PLUGIN_DESCRIPTION = (
        "Sell software licenses: editions, capacity, upgrades, renewals, maintenance, capacity "
        "expansion, deployments and signed device activations. API at "
        f"/plugins/global/{PLUGIN_ID}/graphql/."
    )
    CONFIGURATION_PER_CHANNEL = False
    DEFAULT_ACTIVE = False
    DEFAULT_CONFIGURATION = [
        {"name": "signing_key", "value": ""},
        {"name": "default_channel", "value": ""},
        {"name": "anonymous_verification", "value": "off"},
        {"name": "prorate_upgrades", "value": True},
        {"name": "upgrade_floor_amount", "value": "0"},
        {"name": "upgrade_floor_rate", "value": "0"},
        {"name": "pending_payment_grace_days", "value": "0"},
        {"name": "send_key_emails", "value": True},
        {"name": "require_terms_acceptance", "value": False},
        {"name": "require_reference", "value": False},
        {"name": "deployment_required_products", "value": ""},
    ]
    CONFIG_STRUCTURE = {
        "signing_key": {
            "type": ConfigurationTypeField.SECRET_MULTILINE,
            "label": "Entitlement signing key",
            "help_text": "Ed25519 private key (PEM) that signs activation documents. Leave empty "
            "to use SALEOR_LICENSE['SIGNING_KEY'] or a key generated on first use. Rotate by "
            "publishing the new public key to devices first (see README).",
        },
        "default_channel": {
            "type": ConfigurationTypeField.STRING,
            "label": "Default channel",
            "help_text": "Channel slug whose prices quotes use when a request names none "
            "(?channel=slug on the license API).",
        },
        "anonymous_verification": {
            "type": ConfigurationTypeField.STRING,
            "label": "Anonymous key verification",
            "help_text": "'off': only signed-in owners, resellers and staff can verify keys. "
            "'minimal': anyone with a key sees its status and expiries, nothing else.",
        },
        "prorate_upgrades": {
            "type": ConfigurationTypeField.BOOLEAN,
            "label": "Prorate upgrades",
            "help_text": "Upgrades of term licenses cost the price difference times the share "
            "of the term left.",
        },
        "upgrade_floor_amount": {
            "type": ConfigurationTypeField.STRING,
            "label": "Upgrade minimum amount",
            "help_text": "An upgrade never costs less than this (nor more than the full "
            "difference).",
        },
        "upgrade_floor_rate": {
            "type": ConfigurationTypeField.STRING,
            "label": "Upgrade minimum share",
            "help_text": "An upgrade never costs less than this share of the full price "
            "difference, e.g. 0.25.",
        },
        "pending_payment_grace_days": {
            "type": ConfigurationTypeField.STRING,
            "label": "Pending-payment grace days",
            "help_text": "Offline orders: 0 issues licenses only when paid; N issues "
            "pending-payment licenses at once, suspended if still unpaid after N days.",
        },
        "send_key_emails": {
            "type": ConfigurationTypeField.BOOLEAN,
            "label": "Email keys to the buyer",
            "help_text": "Send the license keys by email (Django mail, Saleor's EMAIL_URL) once "
            "an order is paid.",
        },
        "require_terms_acceptance": {
            "type": ConfigurationTypeField.BOOLEAN,
            "label": "Require terms acceptance",
            "help_text": "checkoutComplete needs checkout metadata license.terms_accepted=true "
            "when the checkout has license lines.",
        },
        "require_reference": {
            "type": ConfigurationTypeField.BOOLEAN,
            "label": "Require a reference / PO number",
            "help_text": "checkoutComplete needs checkout metadata license.reference (a "
            "purchase order, reference or PI number) when the checkout has license lines.",
        },
        "deployment_required_products": {
            "type": ConfigurationTypeField.STRING,
            "label": "Products that need a deployment",
            "help_text": "Comma-separated product slugs whose lines must name a deployment (as "
            "well as products with metadata license.requires_deployment=true).",
        },
    }

    @property
    def config(self) -> dict[str, Any]:
        return {item["name"]: item["value"] for item in self.configuration}

    def license_settings(self) -> conf.LicenseSettings:
        cfg = self.config
        base = conf.from_django_settings()
        return base.with_overrides(
            signing_key=(cfg.get("signing_key") or "").strip() or base.signing_key,
            prorate_upgrades=_bool(cfg.get("prorate_upgrades", base.prorate_upgrades)),
            upgrade_floor_amount=_decimal(
                cfg.get("upgrade_floor_amount"), base.upgrade_floor_amount
            ),
            upgrade_floor_rate=_decimal(cfg.get("upgrade_floor_rate"), base.upgrade_floor_rate),
            pending_payment_grace_days=_int(
                cfg.get("pending_payment_grace_days"), base.pending_payment_grace_days
            ),
            require_terms_acceptance=_bool(cfg.get("require_terms_acceptance", False)),
            require_reference=_bool(cfg.get("require_reference", False)),
            extra={
                **base.extra,
                "ANONYMOUS_VERIFICATION": (cfg.get("anonymous_verification") or "off").strip(),
            },
        )

    @property
    def deployment_products(self) -> frozenset[str]:
        raw = self.config.get("deployment_required_products") or ""
        return frozenset(slug.strip() for slug in raw.split(",") if slug.strip())

    @classmethod
    def validate_plugin_configuration(cls, plugin_configuration: Any, **kwargs: Any) -> None:
        values = {item["name"]: item["value"] for item in plugin_configuration.configuration}
        errors: dict[str, ValidationError] = {}
        for name in ("upgrade_floor_amount", "upgrade_floor_rate"):
            if _decimal(values.get(name), None) is None and values.get(name) not in (None, ""):
                errors[name] = ValidationError("Enter a decimal number, e.g. 0 or 0.25.")
        grace = values.get("pending_payment_grace_days")
        if grace not in (None, "") and _int(grace, -1) < 0:
            errors["pending_payment_grace_days"] = ValidationError("Enter a whole number of days.")
        if (values.get("anonymous_verification") or "off") not in ("off", "minimal"):
            errors["anonymous_verification"] = ValidationError("Use 'off' or 'minimal'.")
        if key := (values.get("signing_key") or "").strip():
            from .entitlements import load_private_key

            try:
                load_private_key(key)
            except ValueError:
                errors["signing_key"] = ValidationError("Not an Ed25519 private key (PEM).")
        if errors:
            raise ValidationError(errors)

    def catalog_for(self, channel: Any) -> SaleorCatalog:
        return SaleorCatalog(channel, self.deployment_products)

    # --- the plugin's own API -----------------------------------------------------------

    def webhook(self, request: HttpRequest, path: str, previous_value: Any) -> HttpResponse:
        if not self.active:
            return previous_value
        from saleor.channel.models import Channel

        from .api.router import dispatch

        slug = request.GET.get("channel") or self.config.get("default_channel") or ""
        channels = Channel.objects.filter(is_active=True)
        channel = (channels.filter(slug=slug) if slug else channels.order_by("pk")).first()
        if channel is None:
            return JsonResponse(
                {
                    "errors": [
                        {"code": "NOT_FOUND", "field": "channel", "message": "No such channel."}
                    ]
                },
                status=404,
            )
        from .graphql.checkout import HOST_ATTRIBUTE

        setattr(request, HOST_ATTRIBUTE, SaleorCheckoutHost(self))  # checkoutLicenseLinesAdd
        with conf.using(self.license_settings()):
            return dispatch(
                request,
                path,
                principal=principal_from_request(request),
                catalog=self.catalog_for(channel),
            )

    # --- checkout -----------------------------------------------------------------------

    def add_license_lines(
        self, checkout: Checkout, principal: Principal, lines: list[LineInput]
    ) -> list[tuple[CheckoutLine, Any]]:
        """Price and add license lines: each its own checkout line, priced by override, with
        its intent in private metadata. All lines or none. Returns (line, priced) pairs."""
        settings = self.license_settings()
        catalog = self.catalog_for(checkout.channel)
        now = timezone.now()
        prepared = []
        with conf.using(settings):
            for line in lines:
                intent, priced = prepare_line(line, principal, catalog, now, settings)
                decoded = _decode(intent.variant_id, "ProductVariant")
                prepared.append((intent, priced, int(decoded or 0)))
        currency = {priced.quote.unit_price.currency for _, priced, _ in prepared}
        if currency and currency != {checkout.currency}:
            raise LicenseError(
                LicenseErrorCode.CURRENCY_MISMATCH,
                "Prices are not in the checkout's currency.",
                "lines",
            )
        variants = ProductVariant.objects.in_bulk([pk for _, _, pk in prepared])
        created = []
        with transaction.atomic():
            for intent, priced, pk in prepared:
                unit = priced.quote.unit_price.amount
                created.append(
                    (
                        CheckoutLine.objects.create(
                            checkout=checkout,
                            variant=variants[pk],
                            quantity=line_quantity(intent.line_action, intent.quantity),
                            currency=checkout.currency,
                            price_override=unit,
                            price_override_reason=f"License {intent.action}",
                            undiscounted_unit_price_amount=unit,
                            private_metadata=intent.to_metadata(settings.key_secret),
                        ),
                        priced,
                    )
                )
            manager = _manager()
            lines_info, _ = fetch_checkout_lines(checkout)
            checkout_info = fetch_checkout_info(checkout, lines_info, manager)
            invalidate_checkout(checkout_info, lines_info, manager, save=True)
        return created

    def preprocess_order_creation(self, checkout_info: Any, lines: Any, previous_value: Any) -> Any:
        """The completion guard: re-validate every license line; leave other lines alone."""
        if not self.active:
            return previous_value
        settings = self.license_settings()
        catalog = self.catalog_for(checkout_info.channel)
        buyer = principal_for_user(checkout_info.user)
        now = timezone.now()
        errors: list[ValidationError] = []
        has_license_lines = False
        with conf.using(settings):
            for info in lines if lines is not None else checkout_info.lines:
                metadata = {**(info.product.metadata or {}), **(info.variant.metadata or {})}
                facts = LineFacts(
                    line_id=str(info.line.pk),
                    variant_id=variant_global_id(info.variant.pk),
                    quantity=info.line.quantity,
                    private_metadata=info.line.private_metadata or {},
                    price_override=info.line.price_override,
                    is_license_product=KIND_KEY in metadata,
                )
                line_gid = graphene.Node.to_global_id("CheckoutLine", info.line.pk)
                try:
                    if revalidate_line(facts, buyer, catalog, now, settings) is not None:
                        has_license_lines = True
                except LicenseError as exc:
                    has_license_lines = True
                    errors.append(checkout_error(exc, [line_gid]))
            if has_license_lines and not errors:
                try:
                    check_checkout_requirements(
                        _checkout_metadata(checkout_info.checkout), settings
                    )
                except LicenseError as exc:
                    errors.append(checkout_error(exc))
        if errors:
            raise ValidationError({"lines": errors})
        return previous_value

    # --- orders -------------------------------------------------------------------------

    def order_created(self, order: Order, previous_value: Any, webhooks: Any = None) -> Any:
        grace = self.license_settings().pending_payment_grace_days
        unpaid = order.charge_status in (OrderChargeStatus.NONE, OrderChargeStatus.PARTIAL)
        if self.active and grace > 0 and unpaid:
            self._fulfill(order, paid=False, grace_days=grace)
        return previous_value

    def order_fully_paid(self, order: Order, previous_value: Any, webhooks: Any = None) -> Any:
        if self.active:
            self._fulfill(order, paid=True)
        return previous_value

    def order_cancelled(self, order: Order, previous_value: Any, webhooks: Any = None) -> Any:
        if self.active:
            self._withdraw(order, "cancelled", revoke_issued=True)
        return previous_value

    def order_refunded(self, order: Order, previous_value: Any, webhooks: Any = None) -> Any:
        # A partial refund: suspend for staff review (reinstate or revoke per line).
        if self.active:
            self._withdraw(order, "refunded", revoke_issued=False)
        return previous_value

    def order_fully_refunded(self, order: Order, previous_value: Any, webhooks: Any = None) -> Any:
        if self.active:
            self._withdraw(order, "fully_refunded", revoke_issued=True)
        return previous_value

    def _fulfill(self, order: Order, *, paid: bool, grace_days: int = 0) -> None:
        from .fulfillment.tasks import fulfill_order

        payload = order_payload(order, self.license_settings(), paid=paid, grace_days=grace_days)
        if payload is None:
            return
        if not _bool(self.config.get("send_key_emails", True)):
            payload = {**payload, "email": ""}
        fulfill_order.delay(payload)

    def _withdraw(self, order: Order, reason: str, *, revoke_issued: bool) -> None:
        from .fulfillment.tasks import withdraw_order_task

        if any(INTENT_KEY in (line.private_metadata or {}) for line in order.lines.all()):
            withdraw_order_task.delay(str(order.pk), reason, revoke_issued)


def _manager() -> Any:
    from saleor.plugins.manager import get_plugins_manager

    return get_plugins_manager(allow_replica=False)


def _checkout_metadata(checkout: Any) -> dict[str, Any]:
    try:
        return dict(checkout.metadata_storage.metadata or {})
    except ObjectDoesNotExist:
        return {}


def _decimal(value: Any, default: Any) -> Any:
    if value in (None, ""):
        return default
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return default
    return number if number.is_finite() and number >= 0 else default


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def order_payload(
    order: Order, settings: conf.LicenseSettings, *, paid: bool, grace_days: int = 0
) -> dict[str, Any] | None:
    """The plain fulfillment payload of an order's license lines, or None if it has none."""
    lines = []
    for line in order.lines.select_related("variant__product").order_by("pk"):
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
    return {
        "order_id": str(order.pk),
        "buyer_id": buyer,
        "email": order.user_email or "",
        "lines": lines,
        "currency": order.currency,
        "paid": paid,
        "grace_days": grace_days,
        "end_customer": end_customer,
    }


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


def _buyer_checkout(checkout_id: Any, principal: Principal) -> Checkout:
    """The caller's own checkout; anyone else's looks like no checkout at all."""
    import uuid

    not_found = LicenseError(LicenseErrorCode.NOT_FOUND, "No such checkout.", "checkoutId")
    token = (
        _decode(str(checkout_id or ""), "Checkout") if len(str(checkout_id or "")) < 200 else None
    )
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


class SaleorCheckoutHost:
    """checkoutLicenseLinesAdd inside Saleor: the caller's own checkout, lines added by the
    plugin (see ``graphql/checkout.py``)."""

    def __init__(self, plugin: LicensePlugin) -> None:
        self.plugin = plugin

    def add_license_lines(
        self, checkout_id: str, principal: Principal, lines: list[LineInput]
    ) -> tuple[str, list[Any]]:
        from .graphql.checkout import AddedLine

        checkout = _buyer_checkout(checkout_id, principal)
        added = self.plugin.add_license_lines(checkout, principal, lines)
        return graphene.Node.to_global_id("Checkout", checkout.pk), [
            AddedLine(graphene.Node.to_global_id("CheckoutLine", line.pk), line.quantity, priced)
            for line, priced in added
        ]
