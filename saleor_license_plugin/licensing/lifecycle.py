"""What can happen to a license. Each operation is one transaction, writes a LicenseEvent, and is
idempotent on its ``idempotency_key`` (``"<order line>:<action>[:<unit>]"`` for paid lines): a
second call with the same key returns what the first did and changes nothing.

Callers pass plain values (ids, emails, terms); these functions know nothing of Saleor.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypedDict, Unpack

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing import access, keys
from saleor_license_plugin.licensing.catalog import AddOnKind, AddOnTerms, EditionTerms, Term
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.pricing import (
    YearBounds,
    check_quantity,
    check_upgrade_path,
    check_years,
    ensure_service_not_active,
    perpetual_not_renewed,
)
from saleor_license_plugin.models import (
    Deployment,
    License,
    LicenseEvent,
    LicenseKind,
    LicenseStatus,
)

S = LicenseStatus


class Action:
    ISSUED = "issued"
    UPGRADED = "upgraded"
    RENEWED = "renewed"
    MAINTENANCE_RENEWED = "maintenance_renewed"
    EXPANDED = "expanded"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    REVOKED = "revoked"
    PAID = "paid"
    EXPIRED = "expired"
    DEPLOYMENT_BOUND = "deployment_bound"
    TRANSFERRED = "transferred"  # to another owner, partner or end customer
    CONVERTED = "converted"  # a trial became a paid license (same key)
    ACTIVATED = "activated"
    DEACTIVATED = "deactivated"
    AUTO_RENEW_SET = "auto_renew_set"
    EXTENDED = "extended"
    KEY_REVEALED = "key_revealed"
    ACTIVATIONS_RESET = "activations_reset"
    KEYS_RESENT = "keys_resent"


# The states from which each change may start. Quotes (offers.py) consult the same table.
ALLOWED_STATES: dict[str, tuple[str, ...]] = {
    Action.UPGRADED: (S.ACTIVE,),
    Action.RENEWED: (S.ACTIVE, S.EXPIRED),
    Action.MAINTENANCE_RENEWED: (S.ACTIVE,),
    Action.EXPANDED: (S.ACTIVE,),
    Action.SUSPENDED: (S.ACTIVE, S.PENDING_PAYMENT),
    Action.REINSTATED: (S.SUSPENDED,),
    Action.REVOKED: (S.ACTIVE, S.PENDING_PAYMENT, S.SUSPENDED, S.EXPIRED),
    Action.PAID: (S.PENDING_PAYMENT,),
    Action.EXPIRED: (S.ACTIVE,),
    Action.DEPLOYMENT_BOUND: (S.ACTIVE, S.PENDING_PAYMENT),
    Action.AUTO_RENEW_SET: (S.ACTIVE, S.PENDING_PAYMENT, S.EXPIRED, S.SUSPENDED),
    Action.EXTENDED: (S.ACTIVE, S.PENDING_PAYMENT, S.EXPIRED, S.SUSPENDED),
    # Revoked licenses move too (with their customer, say): their history stays coherent.
    Action.TRANSFERRED: (S.ACTIVE, S.PENDING_PAYMENT, S.SUSPENDED, S.EXPIRED, S.REVOKED),
    Action.CONVERTED: (S.ACTIVE, S.EXPIRED),
}
MAX_EXTENSION_DAYS = 3660


def ensure_allowed(license: License, action: str) -> None:
    """Raise the typed error for ``action`` on a license in its current state."""
    if license.status not in ALLOWED_STATES[action]:
        raise _state_error(license, action)


@dataclass(frozen=True)
class OrderLineRef:
    order_id: str
    line_id: str

    def key(self, action: str, unit: int | None = None) -> str:
        return f"{self.line_id}:{action}" + (f":{unit}" if unit is not None else "")


@dataclass(frozen=True)
class Owner:
    """Who a license belongs to: ``user_id`` owns it (an end customer's owner id for a
    partner's customer), ``reseller_id`` is the partner managing it, ``customer_id`` the
    partner's end customer record."""

    user_id: str
    email: str = ""
    reseller_id: str = ""
    end_customer: dict[str, str] = field(default_factory=dict)
    customer_id: int | None = None


@dataclass(frozen=True)
class Issued:
    license: License
    created: bool
    key: str | None  # the canonical key, only when created by this call


def add_years(moment: datetime, years: int) -> datetime:
    year = moment.year + years
    day = min(moment.day, calendar.monthrange(year, moment.month)[1])  # 29 Feb -> 28 Feb
    return moment.replace(year=year, day=day)


def _bounds() -> YearBounds:
    conf = get_settings()
    return YearBounds(conf.min_years, conf.max_years)


def _record(
    license: License,
    action: str,
    *,
    actor: str,
    before: dict[str, Any] | None,
    order_line: OrderLineRef | None = None,
    idempotency_key: str | None = None,
    note: str = "",
    now: datetime | None = None,
    request_digest: str = "",
) -> LicenseEvent:
    return LicenseEvent.objects.create(
        request_digest=request_digest,
        license=license,
        action=action,
        actor=actor[:128],
        before=before,
        after=license.snapshot(),
        order_id=order_line.order_id if order_line else "",
        order_line_id=order_line.line_id if order_line else "",
        idempotency_key=idempotency_key,
        note=note[:255],
        created_at=now or timezone.now(),
    )


class ChangeOptions(TypedDict, total=False):
    """How a change is made: by whom (``actor``, default ``"system"``), for which order line,
    under which idempotency key (default: derived from the order line and the action), when."""

    order_line: OrderLineRef | None
    idempotency_key: str | None
    actor: str
    now: datetime | None


def _applied(idempotency_key: str | None, license_id: int | None = None) -> LicenseEvent | None:
    if not idempotency_key:
        return None
    event = LicenseEvent.objects.filter(idempotency_key=idempotency_key).first()
    if event is not None and license_id is not None and event.license_id != license_id:
        raise LicenseError(
            LicenseErrorCode.IDEMPOTENCY_CONFLICT,
            "This order line was already applied to another license.",
        )
    return event


# --- issue -------------------------------------------------------------------------------


def issue_license(
    *,
    terms: EditionTerms,
    owner: Owner,
    product_code: str = "",
    order_line: OrderLineRef | None = None,
    unit: int = 0,
    maintenance_years: int = 0,
    term_years: int = 1,
    deployment: Deployment | None = None,
    kind: str = LicenseKind.STANDARD,
    status: str = LicenseStatus.ACTIVE,
    pending_payment_until: datetime | None = None,
    trial_days: int | None = None,
    currency: str = "",
    idempotency_key: str | None = None,
    request_digest: str = "",
    actor: str = "system",
    now: datetime | None = None,
    term_expires_at: datetime | None = None,  # overrides the term (a subscription's period)
    note: str = "",  # recorded on the issued event (staff's reason for a manual license)
) -> Issued:
    """A new license with a new key. For a paid order line the key is ``<line>:issue:<unit>``,
    so each unit of a quantity-N line issues exactly once, however often this runs."""
    now = now or timezone.now()
    if idempotency_key is None and order_line is not None:
        idempotency_key = order_line.key("issue", unit)
    build = _license_builder(
        terms=terms,
        owner=owner,
        product_code=product_code,
        order_line=order_line,
        maintenance_years=maintenance_years,
        term_years=term_years,
        deployment=deployment,
        kind=kind,
        status=status,
        pending_payment_until=pending_payment_until,
        trial_days=trial_days,
        currency=currency,
        now=now,
        term_expires_at=term_expires_at,
    )

    def create() -> Issued:
        license, canonical = build()
        license.save()
        _record(
            license,
            Action.ISSUED,
            actor=actor,
            before=None,
            order_line=order_line,
            idempotency_key=idempotency_key,
            note=note,
            now=now,
            request_digest=request_digest,
        )
        return Issued(license, True, canonical)

    return _once(idempotency_key, create, request_digest)


def _license_builder(
    *,
    terms: EditionTerms,
    owner: Owner,
    product_code: str,
    order_line: OrderLineRef | None,
    maintenance_years: int,
    term_years: int,
    deployment: Deployment | None,
    kind: str,
    status: str,
    pending_payment_until: datetime | None,
    trial_days: int | None,
    currency: str,
    now: datetime,
    term_expires_at: datetime | None,
) -> Callable[[], tuple[License, str]]:
    """Check what a new license is asked to be, once; then each call builds one (unsaved) with
    a fresh key, and returns it with its canonical key."""
    if maintenance_years:
        check_years(maintenance_years, _bounds(), "maintenanceYears")
    if terms.requires_deployment and deployment is None:
        raise LicenseError(
            LicenseErrorCode.DEPLOYMENT_REQUIRED, "This product needs a deployment.", "deploymentId"
        )
    if deployment is not None:
        _check_deployment_owner(deployment, owner.user_id, owner.reseller_id)
    if status not in (S.ACTIVE, S.PENDING_PAYMENT):
        raise LicenseError(
            LicenseErrorCode.INVALID, "New licenses are active or pending payment.", "status"
        )

    if kind == LicenseKind.TRIAL:
        term_expires = now + timedelta(days=trial_days or 30)
    elif terms.term is Term.ANNUAL:
        term_expires = add_years(now, check_years(term_years, _bounds(), "years"))
    else:
        term_expires = None
    if term_expires_at is not None:
        term_expires = term_expires_at
    max_activations = terms.max_activations or get_settings().max_activations

    def build() -> tuple[License, str]:
        canonical = keys.generate()
        license = License(
            kind=kind,
            status=status,
            product_code=product_code,
            edition=terms.edition,
            edition_rank=terms.rank,
            capacity=terms.capacity,
            capacity_unit=terms.capacity_unit,
            term_expires_at=term_expires,
            maintenance_expires_at=add_years(now, maintenance_years) if maintenance_years else None,
            pending_payment_until=pending_payment_until if status == S.PENDING_PAYMENT else None,
            max_activations=max_activations,
            deployment=deployment,
            owner_id=owner.user_id,
            owner_email=owner.email,
            reseller_id=owner.reseller_id,
            customer_id=owner.customer_id,
            end_customer=dict(owner.end_customer),
            origin_order_id=order_line.order_id if order_line else "",
            origin_order_line_id=order_line.line_id if order_line else "",
            currency=currency,
            created_at=now,
        )
        license.set_key(canonical)
        return license, canonical

    return build


ISSUE_CHUNK = 250


def _applied_many(idempotency_keys: list[str]) -> dict[str, LicenseEvent]:
    """The events (with their licenses) of those keys already applied, in one query."""
    events = LicenseEvent.objects.select_related("license").filter(
        idempotency_key__in=idempotency_keys
    )
    return {event.idempotency_key: event for event in events if event.idempotency_key}


def issue_order_line(
    *,
    terms: EditionTerms,
    owner: Owner,
    order_line: OrderLineRef,
    quantity: int,
    product_code: str = "",
    maintenance_years: int = 0,
    term_years: int = 1,
    deployment: Deployment | None = None,
    status: str = LicenseStatus.ACTIVE,
    pending_payment_until: datetime | None = None,
    currency: str = "",
    actor: str = "system",
    now: datetime | None = None,
    chunk: int = ISSUE_CHUNK,
) -> list[Issued]:
    """:func:`issue_license` for units ``0 .. quantity-1`` of an order line, under the same
    per-unit keys (``<line>:issue:<unit>``: each unit issues exactly once, however often this
    runs), ``chunk`` units per transaction in a few statements (the keys already applied, the
    licenses, their events) instead of a few per unit. A chunk that loses a race with another
    run (a key it was about to use got taken) rolls back whole and is issued unit by unit, as
    :func:`issue_license` does it."""
    now = now or timezone.now()
    spec: dict[str, Any] = {
        "terms": terms,
        "owner": owner,
        "product_code": product_code,
        "order_line": order_line,
        "maintenance_years": maintenance_years,
        "term_years": term_years,
        "deployment": deployment,
        "kind": LicenseKind.STANDARD,
        "status": status,
        "pending_payment_until": pending_payment_until,
        "currency": currency,
        "now": now,
    }
    build = _license_builder(trial_days=None, term_expires_at=None, **spec)
    issued: list[Issued] = []
    for start in range(0, quantity, chunk):
        units = range(start, min(start + chunk, quantity))
        unit_keys = [order_line.key("issue", unit) for unit in units]
        done = _applied_many(unit_keys)
        fresh = [(unit, key) for unit, key in zip(units, unit_keys, strict=True) if key not in done]
        created: dict[str, Issued] = {}
        if fresh:
            try:
                with transaction.atomic():
                    built = [build() for _ in fresh]
                    License.objects.bulk_create([license for license, _ in built])
                    LicenseEvent.objects.bulk_create(
                        [
                            LicenseEvent(
                                license=license,
                                action=Action.ISSUED,
                                actor=actor[:128],
                                before=None,
                                after=license.snapshot(),
                                order_id=order_line.order_id,
                                order_line_id=order_line.line_id,
                                idempotency_key=key,
                                created_at=now,
                            )
                            for (license, _), (_, key) in zip(built, fresh, strict=True)
                        ]
                    )
                created = {
                    key: Issued(license, True, canonical)
                    for (license, canonical), (_, key) in zip(built, fresh, strict=True)
                }
            except IntegrityError:  # another run took some of these keys: one at a time
                created = {
                    key: issue_license(unit=unit, actor=actor, **spec) for unit, key in fresh
                }
        issued += [
            Issued(done[key].license, False, None) if key in done else created[key]
            for key in unit_keys
        ]
    return issued


def _once(
    idempotency_key: str | None, create: Callable[[], Issued], request_digest: str = ""
) -> Issued:
    """Run ``create`` unless the key was applied; a concurrent run that loses the race on the
    unique idempotency key rolls back whole and returns the winner's license. A key first used
    with another request (``request_digest`` differs) is ``IDEMPOTENCY_CONFLICT``."""

    def replay(done: LicenseEvent) -> Issued:
        if request_digest and done.request_digest and done.request_digest != request_digest:
            raise LicenseError(
                LicenseErrorCode.IDEMPOTENCY_CONFLICT,
                "This idempotency key was used with a different request.",
                "idempotencyKey",
            )
        return Issued(done.license, False, None)

    if (done := _applied(idempotency_key)) is not None:
        return replay(done)
    try:
        with transaction.atomic():
            return create()
    except IntegrityError:
        if (done := _applied(idempotency_key)) is not None:
            return replay(done)
        raise


# --- changes to an existing license --------------------------------------------------------


def _change(
    license_id: int,
    action: str,
    mutate: Callable[[License, datetime], None],
    *,
    note: str = "",
    bump_revision: bool = True,
    **how: Unpack[ChangeOptions],
) -> License:
    """Lock the license, skip if this key was applied, check its state, change it, record it."""
    now = how.get("now") or timezone.now()
    actor = how.get("actor", "system")
    order_line = how.get("order_line")
    idempotency_key = how.get("idempotency_key")
    if idempotency_key is None and order_line is not None:
        idempotency_key = order_line.key(action)
    with transaction.atomic():
        try:
            license = (
                License.objects.select_for_update(of=("self",))
                .select_related("deployment")
                .get(pk=license_id)
            )
        except License.DoesNotExist:
            raise LicenseError(
                LicenseErrorCode.NOT_FOUND, "License not found.", "license"
            ) from None
        if _applied(idempotency_key, license.pk) is not None:
            return license
        ensure_allowed(license, action)
        before = license.snapshot()
        mutate(license, now)
        if bump_revision:
            license.revision += 1
        license.save()
        _record(
            license,
            action,
            actor=actor,
            before=before,
            order_line=order_line,
            idempotency_key=idempotency_key,
            note=note,
            now=now,
        )
        return license


def _state_error(license: License, action: str) -> LicenseError:
    if license.status == S.REVOKED:
        return LicenseError(
            LicenseErrorCode.LICENSE_REVOKED, "This license was revoked.", "license"
        )
    if action in (Action.SUSPENDED, Action.REINSTATED, Action.REVOKED, Action.PAID):
        return LicenseError(
            LicenseErrorCode.INVALID_TRANSITION,
            f"A license that is {license.get_status_display().lower()} cannot be {action}.",
            "license",
        )
    return LicenseError(
        LicenseErrorCode.LICENSE_NOT_ACTIVE,
        f"A license that is {license.get_status_display().lower()} cannot be changed.",
        "license",
    )


def upgrade_license(
    license_id: int,
    *,
    target: EditionTerms,
    product_code: str = "",
    **how: Unpack[ChangeOptions],
) -> License:
    """New edition and/or capacity; expiries are kept."""

    def mutate(license: License, now: datetime) -> None:
        check_upgrade_path(license.edition_rank, license.capacity, target)
        license.edition, license.edition_rank = target.edition, target.rank
        license.capacity, license.capacity_unit = target.capacity, target.capacity_unit
        if product_code:
            license.product_code = product_code
        if target.max_activations:
            license.max_activations = max(license.max_activations, target.max_activations)

    return _change(license_id, Action.UPGRADED, mutate, **how)


def renew_license(
    license_id: int,
    *,
    years: int,
    **how: Unpack[ChangeOptions],
) -> License:
    """Extend the term from its expiry, or from now if it has lapsed (which reactivates it)."""
    check_years(years, _bounds())

    def mutate(license: License, now: datetime) -> None:
        if license.term_expires_at is None:
            raise perpetual_not_renewed()
        license.term_expires_at = add_years(max(license.term_expires_at, now), years)
        if license.status == S.EXPIRED:
            license.status = S.ACTIVE

    return _change(license_id, Action.RENEWED, mutate, **how)


def renew_maintenance(
    license_id: int,
    *,
    years: int,
    **how: Unpack[ChangeOptions],
) -> License:
    """Extend maintenance from its expiry, or from now if it has lapsed."""
    check_years(years, _bounds())

    def mutate(license: License, now: datetime) -> None:
        start = max(license.maintenance_expires_at or now, now)
        license.maintenance_expires_at = add_years(start, years)

    return _change(license_id, Action.MAINTENANCE_RENEWED, mutate, **how)


def expand_license(
    license_id: int,
    *,
    add_on: AddOnTerms,
    quantity: int,
    **how: Unpack[ChangeOptions],
) -> License:
    """Add capacity units or switch on a service, co-termed to the license."""
    check_quantity(quantity, 1 if add_on.kind is AddOnKind.FLAT else add_on.max_quantity)

    def mutate(license: License, now: datetime) -> None:
        current = dict(license.add_ons.get(add_on.code) or {})
        ensure_service_not_active(add_on, current)
        license.add_ons = {
            **license.add_ons,
            add_on.code: {
                "kind": add_on.kind.value,
                "quantity": int(current.get("quantity", 0)) + quantity * add_on.units,
                "expires_at": license.term_expires_at.isoformat()
                if license.term_expires_at
                else None,
            },
        }

    return _change(license_id, Action.EXPANDED, mutate, **how)


def _to_status(status: str) -> Callable[[License, datetime], None]:
    def mutate(license: License, now: datetime) -> None:
        license.status = status

    return mutate


def suspend_license(license_id: int, *, reason: str = "", **how: Unpack[ChangeOptions]) -> License:
    return _change(license_id, Action.SUSPENDED, _to_status(S.SUSPENDED), note=reason, **how)


def reinstate_license(
    license_id: int, *, reason: str = "", **how: Unpack[ChangeOptions]
) -> License:
    """Back to active, or to expired if its term lapsed while it was suspended."""

    def mutate(license: License, now: datetime) -> None:
        lapsed = license.term_expires_at is not None and license.term_expires_at <= now
        license.status = S.EXPIRED if lapsed else S.ACTIVE

    return _change(license_id, Action.REINSTATED, mutate, note=reason, **how)


def revoke_license(license_id: int, *, reason: str = "", **how: Unpack[ChangeOptions]) -> License:
    """Final: a revoked license never comes back."""
    return _change(license_id, Action.REVOKED, _to_status(S.REVOKED), note=reason, **how)


def extend_license(
    license_id: int,
    *,
    term_days: int = 0,
    maintenance_days: int = 0,
    reason: str = "",
    **how: Unpack[ChangeOptions],
) -> License:
    """Staff goodwill: push the term and/or maintenance expiry out by a number of days, from
    the expiry or from now if it has lapsed. An expired license whose term now lies in the
    future is active again; a perpetual license has no term to extend."""
    for days, field_name in ((term_days, "termDays"), (maintenance_days, "maintenanceDays")):
        if not 0 <= days <= MAX_EXTENSION_DAYS:
            raise LicenseError(
                LicenseErrorCode.INVALID,
                f"Extend by 0 to {MAX_EXTENSION_DAYS} days.",
                field_name,
            )
    if not term_days and not maintenance_days:
        raise LicenseError(
            LicenseErrorCode.REQUIRED, "Give termDays or maintenanceDays.", "termDays"
        )
    if not reason.strip():
        raise LicenseError(LicenseErrorCode.REQUIRED, "Give a reason.", "reason")

    def mutate(license: License, now: datetime) -> None:
        if term_days:
            if license.term_expires_at is None:
                raise LicenseError(
                    LicenseErrorCode.NOT_RENEWABLE, "A perpetual license has no term.", "termDays"
                )
            start = max(license.term_expires_at, now)
            license.term_expires_at = start + timedelta(days=term_days)
            if license.status == S.EXPIRED:
                license.status = S.ACTIVE
        if maintenance_days:
            start = max(license.maintenance_expires_at or now, now)
            license.maintenance_expires_at = start + timedelta(days=maintenance_days)

    return _change(license_id, Action.EXTENDED, mutate, note=reason, **how)


def mark_paid(
    license_id: int,
    **how: Unpack[ChangeOptions],
) -> License:
    """A pending-payment license whose order was paid becomes active."""

    def mutate(license: License, now: datetime) -> None:
        license.status = S.ACTIVE
        license.pending_payment_until = None

    return _change(license_id, Action.PAID, mutate, **how)


def expire_license(license_id: int, *, now: datetime | None = None) -> License:
    """An active term license past its expiry becomes expired (renewing revives it)."""

    def mutate(license: License, now: datetime) -> None:
        if license.term_expires_at is None or license.term_expires_at > now:
            raise LicenseError(LicenseErrorCode.INVALID_TRANSITION, "Not past its term.", "license")
        license.status = S.EXPIRED

    return _change(license_id, Action.EXPIRED, mutate, now=now)


def expire_lapsed(
    *, now: datetime | None = None, limit: int = 500, exclude: Q | None = None
) -> int:
    """One page of the expiry sweep: up to ``limit`` active term licenses past their term
    become expired, each recorded as ``expire_license`` records it, in three statements
    whatever the page size (lock the page, update it, insert its events). Rows another
    transaction holds (a renewal under way) are skipped: the next sweep sees them as they then
    are. ``exclude``: licenses another sweep owns (live subscriptions). Returns how many
    expired."""
    now = now or timezone.now()
    lapsed = License.objects.filter(status=S.ACTIVE, term_expires_at__lte=now)
    if exclude is not None:
        lapsed = lapsed.exclude(exclude)
    with transaction.atomic():
        page = list(
            lapsed.select_for_update(of=("self",), skip_locked=True)
            .select_related("deployment")
            .order_by("pk")[:limit]
        )
        events = []
        for license in page:
            ensure_allowed(license, Action.EXPIRED)
            before = license.snapshot()
            license.status = S.EXPIRED
            license.revision += 1
            events.append(
                LicenseEvent(
                    license=license,
                    action=Action.EXPIRED,
                    actor="system",
                    before=before,
                    after=license.snapshot(),
                    created_at=now,
                )
            )
        if page:
            License.objects.filter(pk__in=[license.pk for license in page]).update(
                status=S.EXPIRED, revision=F("revision") + 1, updated_at=timezone.now()
            )
            LicenseEvent.objects.bulk_create(events)
    return len(page)


def set_auto_renew(
    license_id: int,
    *,
    enabled: bool,
    gateway: str | None = None,
    channel: str | None = None,
    **how: Unpack[ChangeOptions],
) -> License:
    """Turn auto-renew on (naming the gateway holding the saved card and the channel the
    renewal order is placed in; kept from the first purchase when not given) or off."""

    def mutate(license: License, now: datetime) -> None:
        if enabled:
            license.auto_renew_gateway = gateway or license.auto_renew_gateway
            license.auto_renew_channel = channel or license.auto_renew_channel
            if not license.auto_renew_gateway:
                raise LicenseError(
                    LicenseErrorCode.AUTO_RENEW_NEEDS_CARD,
                    "Auto-renew needs a card saved when the license was paid for.",
                    "enabled",
                )
        license.auto_renew = enabled

    note = "auto-renew on" if enabled else "auto-renew off"
    return _change(license_id, Action.AUTO_RENEW_SET, mutate, note=note, bump_revision=False, **how)


def transfer_license(
    license_id: int,
    *,
    owner: Owner,
    with_deployment: bool = False,
    reason: str = "",
    **how: Unpack[ChangeOptions],
) -> License:
    """Give the license another owner, partner or end customer (the key, expiries and
    activations stay). A license bound to a deployment moves only with it
    (``with_deployment``: the caller moves the deployment in the same transaction);
    otherwise ``DEPLOYMENT_BINDING_LOCKED``."""

    def mutate(license: License, now: datetime) -> None:
        if license.deployment_id is not None and not with_deployment:
            raise LicenseError(
                LicenseErrorCode.DEPLOYMENT_BINDING_LOCKED,
                "This license is bound to a deployment: transfer the deployment, and its "
                "licenses move with it.",
                "id",
            )
        license.owner_id, license.owner_email = owner.user_id, owner.email
        license.reseller_id, license.customer_id = owner.reseller_id, owner.customer_id
        license.end_customer = dict(owner.end_customer)

    return _change(license_id, Action.TRANSFERRED, mutate, note=reason, **how)


def convert_trial(
    license_id: int,
    *,
    terms: EditionTerms,
    product_code: str = "",
    maintenance_years: int = 0,
    term_years: int = 1,
    **how: Unpack[ChangeOptions],
) -> License:
    """A paid NEW line that names a trial key: the trial becomes a standard license of the
    line's edition, terms starting now; the key stays."""
    if maintenance_years:
        check_years(maintenance_years, _bounds(), "maintenanceYears")

    def mutate(license: License, now: datetime) -> None:
        if license.kind != LicenseKind.TRIAL:
            raise LicenseError(
                LicenseErrorCode.INVALID, "Only a trial license can be converted.", "licenseKey"
            )
        license.kind = LicenseKind.STANDARD
        license.status = S.ACTIVE
        license.edition, license.edition_rank = terms.edition, terms.rank
        license.capacity, license.capacity_unit = terms.capacity, terms.capacity_unit
        if product_code:
            license.product_code = product_code
        license.max_activations = terms.max_activations or get_settings().max_activations
        license.term_expires_at = (
            add_years(now, check_years(term_years, _bounds(), "years"))
            if terms.term is Term.ANNUAL
            else None
        )
        license.maintenance_expires_at = (
            add_years(now, maintenance_years) if maintenance_years else None
        )

    return _change(license_id, Action.CONVERTED, mutate, **how)


# --- deployments -------------------------------------------------------------------------


def create_deployment(
    *, name: str, owner_id: str, reseller_id: str = "", customer_id: int | None = None
) -> Deployment:
    name = (name or "").strip()
    if not name or len(name) > 255:
        raise LicenseError(
            LicenseErrorCode.INVALID, "A deployment needs a name of 1 to 255 characters.", "name"
        )
    return Deployment.objects.create(
        name=name, owner_id=owner_id, reseller_id=reseller_id, customer_id=customer_id
    )


def _check_deployment_owner(deployment: Deployment, owner_id: str, reseller_id: str = "") -> None:
    if access.serves(deployment, owner_id, reseller_id):
        return
    raise LicenseError(
        LicenseErrorCode.DEPLOYMENT_NOT_OWNED,
        "This deployment belongs to someone else.",
        "deploymentId",
    )


def bind_deployment(
    license_id: int,
    deployment: Deployment,
    **how: Unpack[ChangeOptions],
) -> License:
    """Tie a license to a deployment. Once bound it cannot be moved ("a license cannot be moved
    after purchase"); binding to the same deployment again changes nothing."""

    def mutate(license: License, now: datetime) -> None:
        _check_deployment_owner(deployment, license.owner_id, license.reseller_id)
        if license.deployment_id is not None and license.deployment_id != deployment.pk:
            raise LicenseError(
                LicenseErrorCode.DEPLOYMENT_BINDING_LOCKED,
                "This license is bound to another deployment and cannot be moved.",
                "deploymentId",
            )
        license.deployment = deployment

    with transaction.atomic():
        current = (
            License.objects.select_for_update()
            .filter(pk=license_id)
            .values_list("deployment_id", flat=True)
            .first()
        )
        if current == deployment.pk:
            return License.objects.select_related("deployment").get(pk=license_id)
        return _change(license_id, Action.DEPLOYMENT_BOUND, mutate, **how)


# --- device activations (activation.py) ----------------------------------------------------


def record_event(
    license: License,
    action: str,
    *,
    actor: str,
    before: dict[str, Any] | None,
    note: str = "",
    now: datetime | None = None,
    order_line: OrderLineRef | None = None,
    idempotency_key: str | None = None,
) -> LicenseEvent:
    """Record a change that is not one of the operations above (a device taking or freeing a
    seat, a subscription bill paid), in the same append-only history."""
    return _record(
        license,
        action,
        actor=actor,
        before=before,
        note=note,
        now=now,
        order_line=order_line,
        idempotency_key=idempotency_key,
    )


def reveal_key(license_id: int, *, actor: str, now: datetime | None = None) -> str:
    """The full key for a member of staff, recorded in the license's history first: who saw
    which key, and when."""
    with transaction.atomic():
        license = License.objects.select_related("deployment").filter(pk=license_id).first()
        if license is None:
            raise LicenseError(LicenseErrorCode.NOT_FOUND, "License not found.", "id")
        _record(
            license,
            Action.KEY_REVEALED,
            actor=actor,
            before=None,
            note="key shown to staff",
            now=now,
        )
        return license.display_key()
