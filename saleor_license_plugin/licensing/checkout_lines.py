"""License lines in a checkout: what is stored when a line is added, and what is re-checked at
``checkoutComplete``.

A license line carries a :class:`LineIntent` in the checkout line's **private** metadata (which
the storefront cannot write), authenticated with an HMAC under the key secret, so that neither a
storefront nor an app or staff member editing metadata can change what a paid line will do.
At completion every license line is re-validated against the live state: the intent is present
and authentic, the variant and quantity are the ones quoted, the buyer still owns the license,
the license has not changed since the quote (its revision), the deployment is still the buyer's
and the license is not bound elsewhere, the quote has not expired and the price is unchanged.

Everything here takes plain values; ``plugin.py`` reads them off Saleor's checkout.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from saleor_license_plugin.conf import LicenseSettings, get_settings
from saleor_license_plugin.licensing import access, lookup, partners
from saleor_license_plugin.licensing.catalog import EditionTerms, Term
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.lifecycle import Action, ensure_allowed
from saleor_license_plugin.licensing.offers import LineRequest, PricedLine, quote_line
from saleor_license_plugin.licensing.ports import Catalog, Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import (
    OPEN_BILL_STATUSES,
    Deployment,
    EndCustomer,
    License,
    LicenseKind,
    SubscriptionBill,
)

INTENT_KEY = "saleor_license_plugin.intent"
INTENT_MAC_KEY = "saleor_license_plugin.intent_mac"
RESULT_KEY = "saleor_license_plugin.fulfillment"  # on order lines: what fulfillment issued
TERMS_ACCEPTED_KEY = "license.terms_accepted"  # checkout metadata set by the storefront
REFERENCE_KEY = "license.reference"  # PO / reference / PI number, checkout metadata
MAX_REFERENCE_LENGTH = 64
# Free text naming who a buyer bought for (without an end-customer record), in checkout
# metadata (copied onto the order).
END_CUSTOMER_KEYS = {
    "license.end_customer_company": "company",
    "license.end_customer_name": "name",
    "license.end_customer_email": "email",
    "license.end_customer_phone": "phone",
}
MAX_END_CUSTOMER_LENGTH = 255
# A partner buying for one of its end customers names it (its public id, C-…): the licenses of
# the order's NEW lines are the customer's, managed by the partner.
CUSTOMER_KEY = "license.customer"
# Who gets the keys email: the buyer ("partner", the default), the named customer, or both.
KEYS_TO_KEY = "license.keys_to"
KEYS_TO_PARTNER, KEYS_TO_CUSTOMER, KEYS_TO_BOTH = "partner", "customer", "both"
KEYS_TO = (KEYS_TO_PARTNER, KEYS_TO_CUSTOMER, KEYS_TO_BOTH)


@dataclass(frozen=True)
class LineInput:
    """One requested line, as a storefront sends it to ``checkoutLicenseLinesAdd``."""

    variant_id: str
    action: LineAction
    license_key: str | None = None
    deployment_id: str | None = None  # a deployment's public id
    years: int = 1
    quantity: int = 1
    maintenance_years: int = 0
    add_on: str | None = None  # optional check that the variant is this add-on
    auto_renew: bool = False  # renew this license automatically on the saved card
    subscription: Mapping[str, Any] | None = None  # SUBSCRIBE: mode, domain, customer, ...
    # Instead of a key: a license the caller picked from a list (the renewals report).
    license_id: int | None = None


@dataclass(frozen=True)
class LineIntent:
    action: str
    variant_id: str
    quantity: int
    unit_price: str
    currency: str
    buyer_id: str
    quoted_at: str
    license_id: int | None = None
    license_revision: int | None = None
    deployment_id: str | None = None
    years: int = 1
    maintenance_years: int = 0
    auto_renew: bool = False
    details: dict[str, Any] | None = None  # SUBSCRIBE: the checked subscription details

    @property
    def line_action(self) -> LineAction:
        return LineAction(self.action)

    def to_metadata(self, secret: bytes) -> dict[str, str]:
        body = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return {INTENT_KEY: body, INTENT_MAC_KEY: _mac(body, secret)}

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str], secret: bytes) -> LineIntent | None:
        body = metadata.get(INTENT_KEY)
        if body is None:
            return None
        mac = metadata.get(INTENT_MAC_KEY, "")
        if not isinstance(body, str) or not hmac.compare_digest(_mac(body, secret), str(mac)):
            raise _tampered("The license line was altered after it was added.")
        try:
            return cls(**json.loads(body))
        except (TypeError, ValueError):
            raise _tampered("The license line was altered after it was added.") from None


def _mac(body: str, secret: bytes) -> str:
    key = hashlib.sha256(b"saleor-license-plugin/line-intent\x00" + secret).digest()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def _tampered(message: str, field: str | None = None) -> LicenseError:
    return LicenseError(LicenseErrorCode.LINE_TAMPERED, message, field)


def _not_found(field: str) -> LicenseError:
    # One answer for "no such thing" and "not yours": no existence oracle.
    return LicenseError(LicenseErrorCode.NOT_FOUND, "No such license or deployment.", field)


def line_quantity(action: LineAction, quantity: int) -> int:
    """How many units the Saleor checkout line holds: N licenses or N add-on units, else one."""
    return quantity if action in (LineAction.NEW, LineAction.EXPANSION) else 1


def _buyer_license(key: str | None, buyer: Principal, client_ip: str) -> License:
    """The one rate-limited, oracle-free key lookup (as ``verifyLicenseKey``), reported on
    the line's ``licenseKey`` field."""
    if not key:
        raise LicenseError(
            LicenseErrorCode.REQUIRED, "This line needs a license key.", "licenseKey"
        )
    return lookup.visible_license(
        key, buyer, action="verify", client_ip=client_ip, field="licenseKey"
    )


def _buyer_license_by_id(license_id: int, buyer: Principal) -> License:
    """A license named by id (picked from a list the caller was shown): NOT_FOUND unless the
    caller may see it. Ids are not secrets to guess, so no rate limit."""
    license = License.objects.select_related("deployment").filter(pk=license_id).first()
    if license is None or not buyer.can_see(license):
        raise lookup.not_found("licenseId")
    return license


def _check_conversion(license: License, quantity: int) -> None:
    """A NEW line that names a key converts that trial into a paid license: one unit, a trial
    that is active or expired."""
    if license.kind != LicenseKind.TRIAL:
        raise LicenseError(
            LicenseErrorCode.INVALID,
            "A NEW line names a key only to convert a trial license.",
            "licenseKey",
        )
    if quantity != 1:
        raise LicenseError(
            LicenseErrorCode.INVALID_QUANTITY, "A trial converts into one license.", "quantity"
        )
    ensure_allowed(license, Action.CONVERTED)


def _buyer_deployment(public_id: str | None, buyer: Principal) -> Deployment | None:
    if not public_id:
        return None
    try:
        deployment = access.find_deployment(public_id)
    except LicenseError:
        deployment = None
    if deployment is None or not buyer.can_see(deployment):
        raise _not_found("deploymentId")
    return deployment


def _check_deployment(
    priced: PricedLine, license: License | None, deployment: Deployment | None
) -> None:
    terms = priced.item.terms
    needs = getattr(terms, "requires_deployment", False)
    if license is not None and license.deployment_id is not None:
        if deployment is not None and deployment.pk != license.deployment_id:
            raise LicenseError(
                LicenseErrorCode.DEPLOYMENT_BINDING_LOCKED,
                "This license is bound to another deployment and cannot be moved.",
                "deploymentId",
            )
        return
    if needs and deployment is None:
        raise LicenseError(
            LicenseErrorCode.DEPLOYMENT_REQUIRED, "This product needs a deployment.", "deploymentId"
        )
    if license is not None and deployment is not None:
        if not access.serves(deployment, license.owner_id, license.reseller_id):
            raise LicenseError(
                LicenseErrorCode.DEPLOYMENT_NOT_OWNED,
                "This deployment belongs to someone else.",
                "deploymentId",
            )


def _subscription_details(line: LineInput, catalog: Catalog) -> Any:
    """SUBSCRIBE lines: the checked details (``licensing.subscriptions``); None otherwise."""
    if line.action is not LineAction.SUBSCRIBE:
        return None
    from saleor_license_plugin.licensing import subscriptions
    from saleor_license_plugin.licensing.catalog import PlanTerms

    item = catalog.get(line.variant_id)
    if item is None or not isinstance(item.terms, PlanTerms):
        raise LicenseError(
            LicenseErrorCode.NOT_A_LICENSE_PRODUCT, "This product is not a plan.", "variantId"
        )
    return subscriptions.clean_details(item.terms, line.subscription)


def _check_renewable(priced: PricedLine, line: LineInput, license: License | None) -> None:
    """Auto-renew needs something that expires: an annual term, or maintenance."""
    terms = priced.item.terms
    annual = isinstance(terms, EditionTerms) and terms.term is Term.ANNUAL
    if license is not None:
        expires = bool(license.term_expires_at or license.maintenance_expires_at)
    else:
        expires = line.maintenance_years > 0
    if not (annual or expires):
        raise LicenseError(
            LicenseErrorCode.INVALID,
            "Auto-renew needs an annual license or maintenance.",
            "autoRenew",
        )


def prepare_line(
    line: LineInput,
    buyer: Principal,
    catalog: Catalog,
    now: datetime,
    conf: LicenseSettings | None = None,
    *,
    client_ip: str,
) -> tuple[LineIntent, PricedLine]:
    """Check a requested line for this buyer and price it on the server. A key on the line
    counts against the verification limits of ``client_ip`` and of the key."""
    conf = conf or get_settings()
    if not buyer.is_authenticated:
        raise LicenseError(
            LicenseErrorCode.PERMISSION_DENIED, "Sign in to buy or change licenses.", "checkoutId"
        )
    if line.action is LineAction.SUBSCRIPTION_BILL:  # placed by the plugin: bill_intent()
        raise LicenseError(LicenseErrorCode.INVALID, "Not a line a checkout can ask for.", "action")
    license: License | None
    if line.license_id is not None:
        license = _buyer_license_by_id(line.license_id, buyer)
    elif line.action in (LineAction.NEW, LineAction.SUBSCRIBE) and not line.license_key:
        license = None
    else:
        license = _buyer_license(line.license_key, buyer, client_ip)
    if line.action is LineAction.NEW and license is not None:
        _check_conversion(license, line.quantity)
    deployment = _buyer_deployment(line.deployment_id, buyer)
    details = _subscription_details(line, catalog)
    request = LineRequest(
        action=line.action,
        variant_id=line.variant_id,
        license=license,
        years=line.years,
        quantity=line.quantity,
        maintenance_years=line.maintenance_years,
        mode=details.mode.value if details else "prepaid",
    )
    if line.action in (LineAction.RENEW_LICENSE, LineAction.RENEW_MAINTENANCE):
        # The line's variant must be the license's own edition: that is what is renewed.
        if license is not None and line.variant_id != license.product_code:
            raise LicenseError(
                LicenseErrorCode.INVALID,
                "Renewals are bought on the license's own edition variant.",
                "variantId",
            )
    priced = quote_line(request, catalog, now, conf)
    if line.add_on and getattr(priced.item.terms, "code", None) != line.add_on:
        raise LicenseError(LicenseErrorCode.INVALID, "The variant is not this add-on.", "addOn")
    if line.action is LineAction.NEW and not isinstance(priced.item.terms, EditionTerms):
        raise LicenseError(LicenseErrorCode.NOT_A_LICENSE_PRODUCT, "Not an edition.", "variantId")
    _check_deployment(priced, license, deployment)
    if line.auto_renew and line.action is not LineAction.SUBSCRIBE:  # plans renew by mode
        _check_renewable(priced, line, license)
    intent = LineIntent(
        action=line.action.value,
        variant_id=priced.item.variant_id,
        quantity=priced.quote.quantity,
        unit_price=str(priced.quote.unit_price.amount),
        currency=priced.quote.unit_price.currency,
        buyer_id=str(buyer.user_id),
        quoted_at=now.isoformat(),
        license_id=license.pk if license else None,
        license_revision=license.revision if license else None,
        deployment_id=deployment.public_id if deployment else None,
        years=line.years,
        maintenance_years=line.maintenance_years,
        auto_renew=line.auto_renew,
        details=details.to_dict() if details else None,
    )
    return intent, priced


@dataclass(frozen=True)
class LineFacts:
    """What Saleor says about a checkout line at completion."""

    line_id: str
    variant_id: str
    quantity: int
    private_metadata: Mapping[str, str]
    price_override: Decimal | None
    is_license_product: bool


def revalidate_line(
    facts: LineFacts,
    buyer: Principal,
    catalog: Catalog,
    now: datetime,
    conf: LicenseSettings | None = None,
) -> LineIntent | None:
    """Re-check one line at completion; None for ordinary lines. Raises LicenseError."""
    conf = conf or get_settings()
    intent = LineIntent.from_metadata(facts.private_metadata, conf.key_secret)
    if intent is None:
        if facts.is_license_product:
            raise LicenseError(
                LicenseErrorCode.LICENSE_LINE_WITHOUT_INTENT,
                "License products must be added with checkoutLicenseLinesAdd.",
                "lines",
            )
        return None
    if intent.variant_id != facts.variant_id:
        raise _tampered("The license line's product changed after it was quoted.", "lines")
    if intent.quantity != facts.quantity:
        raise LicenseError(
            LicenseErrorCode.QUANTITY_CHANGED,
            "The quantity of a license line cannot change; add the line again.",
            "quantity",
        )
    if intent.buyer_id != str(buyer.user_id):
        raise _tampered("The license line was quoted for another customer.", "lines")
    if facts.price_override is None or Decimal(intent.unit_price) != facts.price_override:
        raise _tampered("The license line's price was changed.", "lines")
    quoted_at = datetime.fromisoformat(intent.quoted_at)
    if now - quoted_at > timedelta(minutes=conf.quote_ttl_minutes):
        raise LicenseError(
            LicenseErrorCode.STALE_QUOTE, "The quote expired; add the line again.", "lines"
        )
    if intent.line_action is LineAction.SUBSCRIPTION_BILL:
        check_bill_line(intent, buyer)
        return intent
    license = None
    if intent.license_id is not None:
        license = License.objects.select_related("deployment").filter(pk=intent.license_id).first()
        if license is None or not buyer.can_see(license):
            raise _not_found("licenseKey")
        if license.revision != intent.license_revision:
            raise LicenseError(
                LicenseErrorCode.STALE_QUOTE,
                "The license changed since this line was quoted; add the line again.",
                "licenseKey",
            )
        if intent.line_action is LineAction.NEW:
            _check_conversion(license, intent.quantity)
    deployment = _buyer_deployment(intent.deployment_id, buyer)
    if intent.line_action is LineAction.SUBSCRIBE:
        # The domain may have been taken since the line was added.
        _subscription_details(
            LineInput(intent.variant_id, LineAction.SUBSCRIBE, subscription=intent.details), catalog
        )
    request = LineRequest(
        action=intent.line_action,
        variant_id=intent.variant_id,
        license=license,
        years=intent.years,
        quantity=intent.quantity,
        maintenance_years=intent.maintenance_years,
        mode=(intent.details or {}).get("mode", "prepaid"),
    )
    # Priced as at the quote: a catalog price change since then makes the quote stale.
    priced = quote_line(request, catalog, quoted_at, conf)
    if priced.quote.unit_price.amount != Decimal(intent.unit_price) or (
        priced.quote.unit_price.currency != intent.currency
    ):
        raise LicenseError(
            LicenseErrorCode.STALE_QUOTE, "The price changed; add the line again.", "lines"
        )
    _check_deployment(priced, license, deployment)
    return intent


def bill_intent(bill: SubscriptionBill, buyer_id: str, now: datetime) -> LineIntent:
    """The checkout line that pays a subscription's bill (the plan's variant at the bill's
    amount): placed by the plugin for an off-session charge or for the customer paying an
    unpaid bill, never by a storefront."""
    subscription = bill.subscription
    return LineIntent(
        action=LineAction.SUBSCRIPTION_BILL.value,
        variant_id=bill.plan_variant or subscription.plan_variant,
        quantity=1,
        unit_price=str(bill.amount),
        currency=bill.currency,
        buyer_id=buyer_id,
        quoted_at=now.isoformat(),
        license_id=subscription.license_id,
        details={
            "bill": bill.pk,
            "period_start": bill.period_start.isoformat(),
            "period_end": bill.period_end.isoformat(),
        },
    )


def check_bill_line(intent: LineIntent, buyer: Principal) -> None:
    """At completion: the bill is the buyer's (or a subscription the buyer may see), still
    open, and for the amount the line charges."""
    bill_id = (intent.details or {}).get("bill")
    bill = (
        SubscriptionBill.objects.select_related("subscription__license")
        .filter(pk=bill_id if isinstance(bill_id, int) else 0)
        .first()
    )
    if bill is None or not buyer.can_see(bill.subscription.license):
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such bill.", "lines")
    if intent.license_id != bill.subscription.license_id:
        raise _tampered("The bill line names another subscription.", "lines")
    if bill.status not in OPEN_BILL_STATUSES:
        raise LicenseError(LicenseErrorCode.STALE_QUOTE, "This bill is not open.", "lines")
    if (
        bill.amount is None
        or Decimal(intent.unit_price) != bill.amount
        or (intent.currency != bill.currency)
    ):
        raise LicenseError(LicenseErrorCode.STALE_QUOTE, "The bill changed.", "lines")


def end_customer_from(metadata: Mapping[str, Any]) -> dict[str, str]:
    """The end customer a reseller named in checkout (or order) metadata; LicenseError if a
    value is too long or the email is not an email."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    found: dict[str, str] = {}
    for key, name in END_CUSTOMER_KEYS.items():
        value = str(metadata.get(key, "") or "").strip()
        if not value:
            continue
        if len(value) > MAX_END_CUSTOMER_LENGTH or not value.isprintable():
            raise LicenseError(
                LicenseErrorCode.INVALID,
                f"{key} takes at most {MAX_END_CUSTOMER_LENGTH} printable characters.",
                "metadata",
            )
        found[name] = value
    if "email" in found:
        try:
            validate_email(found["email"])
        except ValidationError:
            raise LicenseError(
                LicenseErrorCode.INVALID, "license.end_customer_email is not an email.", "metadata"
            ) from None
    return found


def keys_to_from(metadata: Mapping[str, Any]) -> str:
    """Who the order's keys email goes to (checkout metadata ``license.keys_to``)."""
    value = str(metadata.get(KEYS_TO_KEY, "") or "").strip().lower() or KEYS_TO_PARTNER
    if value not in KEYS_TO:
        raise LicenseError(
            LicenseErrorCode.INVALID,
            f"{KEYS_TO_KEY} is one of {', '.join(KEYS_TO)}.",
            "metadata",
        )
    return value


def checkout_customer(
    metadata: Mapping[str, Any], buyer: Principal
) -> tuple[EndCustomer | None, str]:
    """The end customer a checkout names (``license.customer``) and who gets the keys
    (``license.keys_to``). The customer must be one of the buyer's, the buyer an active
    partner: ``NOT_FOUND`` otherwise, for an unknown customer and another partner's alike.
    Keys go to a customer only when one with an e-mail is named."""
    keys_to = keys_to_from(metadata)
    value = str(metadata.get(CUSTOMER_KEY, "") or "").strip()
    customer = partners.checkout_customer(value, buyer) if value else None
    if keys_to != KEYS_TO_PARTNER and (customer is None or not customer.email):
        raise LicenseError(
            LicenseErrorCode.INVALID,
            f"{KEYS_TO_KEY}={keys_to} needs {CUSTOMER_KEY} naming a customer with an e-mail.",
            "metadata",
        )
    return customer, keys_to


def check_new_line_owner(
    intent: LineIntent, customer: EndCustomer | None, buyer: Principal
) -> None:
    """The deployment of a NEW line serves whoever will own the licenses: the named customer,
    else the buyer (fulfillment would refuse it after payment)."""
    if intent.line_action is not LineAction.NEW or intent.license_id is not None:
        return
    if not intent.deployment_id:
        return
    deployment = access.find_deployment(intent.deployment_id)
    if customer is not None:
        owner, partner = customer.owner_id, customer.partner.user_id
    else:
        owner, partner = str(buyer.user_id), ""
    if deployment is None or not access.serves(deployment, owner, partner):
        raise LicenseError(
            LicenseErrorCode.DEPLOYMENT_NOT_OWNED,
            "This deployment belongs to someone other than the licenses' owner.",
            "deploymentId",
        )


def check_checkout_requirements(metadata: Mapping[str, Any], conf: LicenseSettings) -> str:
    """Terms acceptance and reference number, when the merchant requires them. Returns the
    (validated) reference, or ''."""
    if (
        conf.require_terms_acceptance
        and str(metadata.get(TERMS_ACCEPTED_KEY, "")).lower() != "true"
    ):
        raise LicenseError(
            LicenseErrorCode.TERMS_NOT_ACCEPTED,
            f"Accept the terms and conditions (checkout metadata {TERMS_ACCEPTED_KEY}=true).",
            "metadata",
        )
    reference = str(metadata.get(REFERENCE_KEY, "")).strip()
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise LicenseError(
            LicenseErrorCode.INVALID,
            f"A reference number has at most {MAX_REFERENCE_LENGTH} characters.",
            "metadata",
        )
    end_customer_from(metadata)
    if conf.require_reference and not reference:
        raise LicenseError(
            LicenseErrorCode.REFERENCE_REQUIRED,
            f"Enter a reference or purchase order number (checkout metadata {REFERENCE_KEY}).",
            "metadata",
        )
    return reference


# Saleor's checkoutComplete accepts only its own CheckoutErrorCode values; these license codes
# map to the nearest one, every other to INVALID. The license code leads the message.
COMPLETION_CODES = {
    LicenseErrorCode.NOT_FOUND: "NOT_FOUND",
    LicenseErrorCode.REQUIRED: "REQUIRED",
    LicenseErrorCode.TERMS_NOT_ACCEPTED: "REQUIRED",
    LicenseErrorCode.REFERENCE_REQUIRED: "REQUIRED",
    LicenseErrorCode.DEPLOYMENT_REQUIRED: "REQUIRED",
    LicenseErrorCode.BILLING_CONTACT_NOT_FOUND: "NOT_FOUND",
}


def completion_error(exc: LicenseError) -> tuple[str, str]:
    """``(message, checkout error code)`` of a refusal at ``checkoutComplete``:
    ``("STALE_QUOTE: The price changed…", "INVALID")``."""
    return f"{exc.code.value}: {exc.message}", COMPLETION_CODES.get(exc.code, "INVALID")
