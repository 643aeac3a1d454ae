"""Partners and their end customers.

- **Partners**: staff mark a user as a partner (:func:`set_partner`), with the level the
  merchant prices by and, optionally, quotas of its own for trial and not-for-resale licenses
  (otherwise its level's, ``PARTNER_LEVELS``).
- **End customers** belong to one partner, which creates and edits them. A license or
  deployment a partner buys for one is owned by the customer (:attr:`EndCustomer.owner_id`:
  its account once linked, else the record) and managed by the partner (``reseller_id``);
  ``licensing/access.py`` holds the rule that follows from it.
- **Transfers** move a license, or a deployment with every license bound to it, to another
  customer of the same partner, or (staff) to any partner's customer; a customer moves to
  another partner with everything it has (staff). Each license moved gets a ``transferred``
  event with its owner, partner and customer before and after.
- **Trials and NFR**: a partner creates trial licenses (for itself or a customer) and
  not-for-resale licenses (for itself) within its quotas, counted under a lock on the partner.

Unknown records and other partners' records get the same ``NOT_FOUND`` (no existence oracle).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q, QuerySet
from django.utils import timezone

from saleor_license_plugin.conf import PartnerQuota, get_settings
from saleor_license_plugin.licensing import access, lifecycle
from saleor_license_plugin.licensing.catalog import EditionTerms
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.models import (
    CUSTOMER_OWNER_PREFIX,
    Deployment,
    EndCustomer,
    License,
    LicenseKind,
    LicenseStatus,
    Partner,
)

S = LicenseStatus
PARTNERS_ONLY = "Only partners can do this."
INVITE_SALT = "saleor-license-plugin/customer-invite"
INVITE_DAYS = 14
MAX_LEVEL = 32
MAX_QUOTA = 100_000
# Input field -> (model field, most characters).
CUSTOMER_FIELDS: dict[str, tuple[str, int]] = {
    "company": ("company", 255),
    "contactName": ("contact_name", 255),
    "email": ("email", 254),
    "phone": ("phone", 64),
    "domain": ("domain", 255),
    "notes": ("notes", 2000),
}
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_PHONE = re.compile(r"^[0-9+()./ x-]*$")
_LEVEL = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

# Open trials and NFR licenses in use count against the quotas.
OPEN_TRIAL_STATES = (S.ACTIVE, S.PENDING_PAYMENT)
NFR_IN_USE_STATES = (S.ACTIVE, S.PENDING_PAYMENT, S.SUSPENDED)


def _invalid(message: str, field: str) -> LicenseError:
    return LicenseError(LicenseErrorCode.INVALID, message, field)


def _check_user_id(user_id: str, field: str = "userId") -> str:
    if not user_id or len(user_id) > 128 or not user_id.isprintable():
        raise _invalid("Give a user id.", field)
    if user_id.startswith(CUSTOMER_OWNER_PREFIX):
        raise _invalid(f"User ids starting with {CUSTOMER_OWNER_PREFIX!r} are reserved.", field)
    return user_id


# --- partners --------------------------------------------------------------------------------


def partner_of(principal: Principal) -> Partner | None:
    """The caller's partner account, if it is an active partner."""
    if principal.user_id is None:
        return None
    return Partner.objects.filter(user_id=principal.user_id, active=True).first()


def require_partner(principal: Principal) -> Partner:
    partner = partner_of(principal)
    if partner is None:
        raise LicenseError(LicenseErrorCode.PERMISSION_DENIED, PARTNERS_ONLY)
    return partner


def quota_of(partner: Partner) -> PartnerQuota:
    """The partner's own quotas, else its level's, else none."""
    level = get_settings().partner_levels.get(partner.level.lower(), PartnerQuota())
    return PartnerQuota(
        trials=level.trials if partner.trial_quota is None else partner.trial_quota,
        nfr=level.nfr if partner.nfr_quota is None else partner.nfr_quota,
    )


def _clean_partner(changes: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "email":
            clean[name] = _email(value, "email")
        elif name == "company":
            clean[name] = str(value or "")
        elif name == "level":
            level = str(value or "").strip().lower()
            if len(level) > MAX_LEVEL or (level and not _LEVEL.match(level)):
                raise _invalid("A level is a code of letters, digits, - and _.", "level")
            clean[name] = level
        elif name in ("trial_quota", "nfr_quota"):
            if value is not None and not (isinstance(value, int) and 0 <= value <= MAX_QUOTA):
                field = "trialQuota" if name == "trial_quota" else "nfrQuota"
                raise _invalid(f"A quota is a whole number from 0 to {MAX_QUOTA}.", field)
            clean[name] = value
        elif name == "active":
            clean[name] = bool(value)
        else:
            raise _invalid("Unknown partner field.", name)
    return clean


def set_partner(user_id: str, changes: Mapping[str, Any]) -> tuple[Partner, bool]:
    """Make a user a partner, or change a partner (staff). ``changes`` holds the fields given:
    email, company, level, trial_quota / nfr_quota (None: the level's), active. Returns the
    partner and whether it was created."""
    user_id = _check_user_id(user_id)
    clean = _clean_partner(changes)
    with transaction.atomic():
        partner, created = Partner.objects.select_for_update().get_or_create(user_id=user_id)
        for name, value in clean.items():
            setattr(partner, name, value)
        partner.save()
    return partner, created


# --- end customers ---------------------------------------------------------------------------


def _email(value: Any, field: str) -> str:
    email = str(value or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise _invalid("Not an e-mail address.", field) from None
    return email


def clean_customer(data: Mapping[str, Any], *, creating: bool) -> dict[str, str]:
    """Customer fields from API input (``contactName``, ...), checked; only those given."""
    found: dict[str, str] = {}
    for field, (name, maximum) in CUSTOMER_FIELDS.items():
        if field not in data:
            continue
        value = data[field]
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise _invalid("Expected text.", field)
        value = value.strip()
        printable = value.replace("\n", "").replace("\r", "").replace("\t", "")
        if (
            len(value) > maximum
            or not printable.isprintable()
            or (name != "notes" and "\n" in value)
        ):
            raise _invalid(f"At most {maximum} printable characters.", field)
        found[name] = value
    if (creating or "company" in found) and not found.get("company"):
        raise LicenseError(LicenseErrorCode.REQUIRED, "A customer needs a company name.", "company")
    if found.get("email"):
        found["email"] = _email(found["email"], "email")
    if found.get("phone") and not _PHONE.match(found["phone"]):
        raise _invalid("A phone number has digits, spaces and + ( ) . / - x.", "phone")
    if found.get("domain"):
        domain = found["domain"].lower().removeprefix("https://").removeprefix("http://")
        domain = domain.rstrip("/")
        if not _DOMAIN.match(domain):
            raise _invalid("Not a domain name, e.g. acme.example.", "domain")
        found["domain"] = domain
    return found


def create_customer(partner: Partner, data: Mapping[str, Any]) -> EndCustomer:
    if not partner.active:
        raise LicenseError(LicenseErrorCode.PERMISSION_DENIED, PARTNERS_ONLY)
    return EndCustomer.objects.create(partner=partner, **clean_customer(data, creating=True))


def update_customer(customer: EndCustomer, data: Mapping[str, Any]) -> EndCustomer:
    """Change the fields given. The customer's licenses keep its e-mail as their owner's."""
    fields = clean_customer(data, creating=False)
    with transaction.atomic():
        for name, value in fields.items():
            setattr(customer, name, value)
        customer.save()
        if "email" in fields:
            License.objects.filter(customer=customer).update(owner_email=customer.email)
    return customer


def delete_customer(customer: EndCustomer) -> None:
    """Only a customer without licenses or deployments (transfer those first)."""
    refused = _invalid("This customer has licenses or deployments: transfer them first.", "id")
    try:
        with transaction.atomic():
            if License.objects.filter(customer=customer).exists() or (
                Deployment.objects.filter(customer=customer).exists()
            ):
                raise refused
            customer.delete()
    except ProtectedError:  # one was added meanwhile
        raise refused from None


def owner_for(customer: EndCustomer) -> lifecycle.Owner:
    """Who a license of this customer belongs to, and who manages it."""
    return lifecycle.Owner(
        customer.owner_id,
        customer.email,
        reseller_id=customer.partner.user_id,
        customer_id=customer.pk,
    )


def _reown(customer: EndCustomer, *, note: str, actor: str, now: datetime) -> int:
    """After the customer's account or partner changed: its deployments and licenses follow,
    each license with a ``transferred`` event. Inside the caller's transaction."""
    owner = owner_for(customer)
    Deployment.objects.filter(customer=customer).update(
        owner_id=owner.user_id, reseller_id=owner.reseller_id
    )
    moved = 0
    for license_id in License.objects.filter(customer=customer).values_list("pk", flat=True):
        lifecycle.transfer_license(
            license_id, owner=owner, with_deployment=True, reason=note, actor=actor, now=now
        )
        moved += 1
    return moved


def link_account(customer: EndCustomer, user_id: str, *, actor: str, now: datetime) -> EndCustomer:
    """The customer's own account (``""``: none): from now on its licenses are that user's,
    still managed by the partner."""
    if user_id:
        _check_user_id(user_id)
    try:
        with transaction.atomic():
            customer = (
                EndCustomer.objects.select_for_update(of=("self",))
                .select_related("partner")
                .get(pk=customer.pk)
            )
            if customer.user_id == user_id:
                return customer
            if user_id == customer.partner.user_id:
                raise _invalid("A partner cannot be its own customer.", "userId")
            customer.user_id = user_id
            customer.save(update_fields=["user_id", "updated_at"])
            note = "customer account linked" if user_id else "customer account unlinked"
            _reown(customer, note=note, actor=actor, now=now)
            return customer
    except IntegrityError:
        raise _invalid(
            "This account is linked to another customer of the same partner.", "userId"
        ) from None


def move_customer(
    customer: EndCustomer, partner: Partner, *, actor: str, now: datetime
) -> EndCustomer:
    """Staff: the customer, its deployments and licenses go to another partner."""
    if not partner.active:
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such partner.", "partnerId")
    try:
        with transaction.atomic():
            customer = EndCustomer.objects.select_for_update(of=("self",)).get(pk=customer.pk)
            if customer.partner_id == partner.pk:
                return customer
            if customer.user_id == partner.user_id:
                raise _invalid("A partner cannot be its own customer.", "partnerId")
            customer.partner = partner
            customer.save(update_fields=["partner", "updated_at"])
            _reown(customer, note=f"customer moved to partner {partner.pk}", actor=actor, now=now)
            return customer
    except IntegrityError:
        raise _invalid(
            "That partner already has a customer record for this account.", "partnerId"
        ) from None


def invite_token(customer: EndCustomer) -> str:
    """A signed token the partner gives its customer: signed in, the customer accepts it
    (:func:`accept_invite`) and its account is linked. Valid ``INVITE_DAYS``."""
    return signing.dumps({"c": customer.pk, "p": customer.partner_id}, salt=INVITE_SALT)


def accept_invite(token: Any, principal: Principal, *, actor: str, now: datetime) -> EndCustomer:
    if principal.user_id is None:
        raise LicenseError(LicenseErrorCode.PERMISSION_DENIED, "Sign in to accept.")
    not_an_invite = _invalid("Not an invitation.", "token")
    if not isinstance(token, str) or not 0 < len(token) <= 1024:
        raise not_an_invite
    try:
        payload = signing.loads(token, salt=INVITE_SALT, max_age=timedelta(days=INVITE_DAYS))
        customer_pk, partner_pk = int(payload["c"]), int(payload["p"])
    except signing.SignatureExpired:
        raise LicenseError(
            LicenseErrorCode.LINK_EXPIRED, "This invitation has expired.", "token"
        ) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise not_an_invite from None
    customer = (
        EndCustomer.objects.select_related("partner")
        .filter(pk=customer_pk, partner_id=partner_pk)
        .first()
    )
    if customer is None:  # deleted, or moved to another partner since
        raise not_an_invite
    if customer.user_id and customer.user_id != principal.user_id:
        raise _invalid("This invitation was accepted by another account.", "token")
    return link_account(customer, principal.user_id, actor=actor, now=now)


def checkout_customer(value: Any, buyer: Principal, field: str = "metadata") -> EndCustomer:
    """The end customer a checkout names: one of the buyer's own customers, the buyer an
    active partner; ``NOT_FOUND`` otherwise, whatever the reason."""
    public_id = access.normalize_customer_id(value, field)
    partner = partner_of(buyer)
    customer = (
        EndCustomer.objects.select_related("partner")
        .filter(partner=partner, public_id=public_id)
        .first()
        if partner is not None
        else None
    )
    if customer is None:
        raise LicenseError(LicenseErrorCode.NOT_FOUND, access.CUSTOMER_NOT_FOUND, field)
    return customer


# --- pricing per level ------------------------------------------------------------------------

# Voucher (or any discount's) metadata: the partner levels allowed to use it, comma-separated.
LEVELS_KEY = "license.partner_levels"


def check_level_discount(metadata: Mapping[str, Any], buyer: Principal) -> None:
    """A discount whose metadata names partner levels (``license.partner_levels=gold,
    platinum``) is for active partners of those levels only: ``PARTNER_LEVEL_REQUIRED``
    for anyone else. A discount without the key is anyone's."""
    named = str(metadata.get(LEVELS_KEY, "") or "")
    levels = {level.strip().lower() for level in named.split(",") if level.strip()}
    if not levels:
        return
    partner = partner_of(buyer)
    if partner is None or partner.level not in levels:
        raise LicenseError(
            LicenseErrorCode.PARTNER_LEVEL_REQUIRED,
            "This discount code is for partners of another level.",
            "promoCode",
        )


# --- transfers -------------------------------------------------------------------------------


def _may_move(principal: Principal, license: License) -> bool:
    """Staff move anything; a partner the licenses of its own customers and the ones it
    bought for itself (not licenses a staff member marked as resold to someone's account)."""
    if principal.is_staff:
        return True
    user_id = principal.user_id
    of_customer = license.customer_id is not None and license.reseller_id == user_id
    own_stock = license.owner_id == user_id and not license.reseller_id
    return of_customer or own_stock


def _check_movable(principal: Principal, license: License) -> None:
    if license.kind == LicenseKind.NOT_FOR_RESALE:
        raise _invalid("A not-for-resale license stays with its partner.", "id")
    if not _may_move(principal, license):
        raise LicenseError(
            LicenseErrorCode.PERMISSION_DENIED,
            "You can move only your customers' licenses and your own.",
            "id",
        )


def _check_target(principal: Principal, customer: EndCustomer) -> None:
    if principal.is_staff:
        return
    partner = require_partner(principal)
    if customer.partner_id != partner.pk:  # the caller found it through access: not reached
        raise LicenseError(LicenseErrorCode.NOT_FOUND, access.CUSTOMER_NOT_FOUND, "customerId")


def transfer_license(
    license: License,
    customer: EndCustomer,
    principal: Principal,
    *,
    reason: str = "",
    actor: str,
    now: datetime | None = None,
) -> License:
    """Move a license (visible to the caller) to an end customer (visible to the caller). A
    license bound to a deployment moves only with it (:func:`transfer_deployment`)."""
    _check_target(principal, customer)
    _check_movable(principal, license)
    return lifecycle.transfer_license(
        license.pk, owner=owner_for(customer), reason=reason, actor=actor, now=now
    )


def transfer_deployment(
    deployment: Deployment,
    customer: EndCustomer,
    principal: Principal,
    *,
    reason: str = "",
    actor: str,
    now: datetime | None = None,
) -> tuple[Deployment, list[License]]:
    """Move a deployment and every license bound to it to an end customer: bindings hold
    (the licenses stay on the deployment, which now serves their new owner)."""
    _check_target(principal, customer)
    owner = owner_for(customer)
    now = now or timezone.now()
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
        own = deployment.owner_id == principal.user_id and not deployment.reseller_id
        managed = deployment.customer_id is not None and access.manages(principal, deployment)
        if not (principal.is_staff or own or managed):
            raise LicenseError(
                LicenseErrorCode.PERMISSION_DENIED,
                "You can move only your customers' deployments and your own.",
                "deploymentId",
            )
        bound = list(License.objects.select_for_update().filter(deployment=deployment))
        for license in bound:
            _check_movable(principal, license)
        deployment.owner_id, deployment.reseller_id = owner.user_id, owner.reseller_id
        deployment.customer = customer
        deployment.save(update_fields=["owner_id", "reseller_id", "customer"])
        moved = [
            lifecycle.transfer_license(
                license.pk,
                owner=owner,
                with_deployment=True,
                reason=reason,
                actor=actor,
                now=now,
            )
            for license in bound
        ]
    return deployment, moved


# --- trials and not-for-resale licenses ------------------------------------------------------


def _partners_licenses(partner: Partner) -> QuerySet[License]:
    """Licenses a partner holds for itself or manages for its customers."""
    return License.objects.filter(Q(owner_id=partner.user_id) | Q(reseller_id=partner.user_id))


def open_trials(partner: Partner, now: datetime) -> QuerySet[License]:
    return _partners_licenses(partner).filter(
        kind=LicenseKind.TRIAL, status__in=OPEN_TRIAL_STATES, term_expires_at__gt=now
    )


def nfr_in_use(partner: Partner) -> QuerySet[License]:
    return _partners_licenses(partner).filter(
        kind=LicenseKind.NOT_FOR_RESALE, status__in=NFR_IN_USE_STATES
    )


def create_partner_license(
    partner: Partner,
    *,
    terms: EditionTerms,
    kind: str,
    product_code: str = "",
    customer: EndCustomer | None = None,
    deployment: Deployment | None = None,
    currency: str = "",
    actor: str,
    now: datetime | None = None,
) -> lifecycle.Issued:
    """A trial (for the partner or one of its customers) or a not-for-resale license (for the
    partner itself), within the partner's quota. Concurrent requests of one partner take
    turns on a lock of its row, so the quota holds however many arrive at once."""
    now = now or timezone.now()
    if kind not in (LicenseKind.TRIAL, LicenseKind.NOT_FOR_RESALE):
        raise _invalid("Partners create TRIAL or NFR licenses.", "kind")
    if kind == LicenseKind.NOT_FOR_RESALE and customer is not None:
        raise _invalid("Not-for-resale licenses are for the partner itself.", "customerId")
    with transaction.atomic():
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        if not locked.active:
            raise LicenseError(LicenseErrorCode.PERMISSION_DENIED, PARTNERS_ONLY)
        quota = quota_of(locked)
        if kind == LicenseKind.TRIAL:
            allowed, used, what = quota.trials, open_trials(locked, now).count(), "open trials"
        else:
            allowed, used, what = quota.nfr, nfr_in_use(locked).count(), "NFR licenses"
        if used >= allowed:
            raise LicenseError(
                LicenseErrorCode.QUOTA_EXCEEDED,
                f"Your quota of {allowed} {what} is used up.",
                "kind",
            )
        owner = (
            owner_for(customer)
            if customer is not None
            else lifecycle.Owner(locked.user_id, locked.email)
        )
        return lifecycle.issue_license(
            terms=terms,
            owner=owner,
            product_code=product_code,
            deployment=deployment,
            kind=kind,
            trial_days=get_settings().trial_days,
            currency=currency,
            actor=actor,
            now=now,
        )
