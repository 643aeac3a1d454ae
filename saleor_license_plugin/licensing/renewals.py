"""When a license's renewal is due, and the signed links that renew it.

The schedule is a list of day offsets from an expiry (``-60, -30, -7, 0, 7``: 60, 30 and 7
days before, on the day, 7 days after). At a given moment the step due for an expiry is the
latest offset already reached; a sweep that was down for a week sends that one, not every
step it missed. Both expiries count: the term (annual licenses) and maintenance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.core import signing
from django.db.models import Case, DateTimeField, F, Q, QuerySet, When
from django.db.models.functions import Coalesce, Least

from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import License, LicenseStatus

DEFAULT_SCHEDULE = (-60, -30, -7, 0, 7)
# Reminders go to licenses that can still be renewed: not revoked, suspended or unpaid.
REMINDED = (LicenseStatus.ACTIVE, LicenseStatus.EXPIRED)
LINK_SALT = "saleor-license-plugin/renewal-link"
UNSUBSCRIBE_SALT = "saleor-license-plugin/unsubscribe"


class ExpiryKind(StrEnum):
    TERM = "term"
    MAINTENANCE = "maintenance"

    @property
    def line_action(self) -> LineAction:
        return LineAction.RENEW_LICENSE if self is ExpiryKind.TERM else LineAction.RENEW_MAINTENANCE


@dataclass(frozen=True)
class Due:
    license_id: int
    kind: ExpiryKind
    expires_at: datetime
    step: int  # days from the expiry: negative before, 0 on the day, positive after


def due_step(expires_at: datetime, now: datetime, schedule: Sequence[int]) -> int | None:
    """The latest step of ``schedule`` reached at ``now`` for this expiry, if any."""
    reached = [step for step in schedule if now >= expires_at + timedelta(days=step)]
    return max(reached) if reached else None


def due_for(license: License, now: datetime, schedule: Sequence[int]) -> list[Due]:
    if license.status not in REMINDED:
        return []
    found = []
    expiries = (
        (ExpiryKind.TERM, license.term_expires_at),
        (ExpiryKind.MAINTENANCE, license.maintenance_expires_at),
    )
    for kind, expires_at in expiries:
        if expires_at is None:
            continue
        step = due_step(expires_at, now, schedule)
        if step is not None:
            found.append(Due(license.pk, kind, expires_at, step))
    return found


def window(now: datetime, schedule: Sequence[int]) -> tuple[datetime, datetime]:
    """Expiries that can have a step due at ``now``: an index-friendly range for the sweep.
    A step before the expiry stays due until the expiry (a sweep that did not run on that very
    day, or a license bought later, still gets it, once); a step after it, until that step.
    (It was the range between the last and the first step, which for a schedule of steps all
    before the expiry, e.g. ``[-30]``, was a single instant: nothing was ever reminded.)"""
    return now - timedelta(days=max((*schedule, 0))), now - timedelta(days=min(schedule))


# --- the renewals report ----------------------------------------------------------------------


def _within(field: str, since: datetime, until: datetime) -> Q:
    return Q(**{f"{field}__gte": since, f"{field}__lte": until})


def due_between(licenses: QuerySet[License], since: datetime, until: datetime) -> QuerySet[License]:
    """The licenses (of ``licenses``) that can be renewed and have a term or maintenance
    expiry between ``since`` and ``until``, annotated with ``due_at``: the earliest such
    expiry (what the report sorts and pages by)."""
    term = Case(
        When(_within("term_expires_at", since, until), then=F("term_expires_at")),
        output_field=DateTimeField(),
    )
    maintenance = Case(
        When(_within("maintenance_expires_at", since, until), then=F("maintenance_expires_at")),
        output_field=DateTimeField(),
    )
    return (
        licenses.filter(status__in=REMINDED)
        .filter(
            _within("term_expires_at", since, until)
            | _within("maintenance_expires_at", since, until)
        )
        .annotate(due_at=Least(Coalesce(term, maintenance), Coalesce(maintenance, term)))
    )


def expiries_within(
    license: License, since: datetime, until: datetime
) -> list[tuple[ExpiryKind, datetime]]:
    """What of this license is due in the window: its term, its maintenance, or both."""
    found = []
    for kind, expires_at in (
        (ExpiryKind.TERM, license.term_expires_at),
        (ExpiryKind.MAINTENANCE, license.maintenance_expires_at),
    ):
        if expires_at is not None and since <= expires_at <= until:
            found.append((kind, expires_at))
    return found


# --- renewal links ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RenewalLink:
    owner_id: str
    items: tuple[tuple[int, ExpiryKind], ...]  # (license id, what to renew)


def make_link_token(owner_id: str, items: Iterable[tuple[int, ExpiryKind]]) -> str:
    """A signed token (HMAC with SECRET_KEY, its own salt) naming the customer and what to
    renew; it expires (``RENEWAL_LINK_DAYS``) and only that customer can use it."""
    payload = {"o": owner_id, "i": [[pk, kind.value] for pk, kind in items]}
    return signing.dumps(payload, salt=LINK_SALT, compress=True)


def read_link_token(token: Any, max_age_days: int) -> RenewalLink:
    if not isinstance(token, str) or not 0 < len(token) <= 4096:
        raise LicenseError(LicenseErrorCode.INVALID, "Not a renewal link.", "token")
    try:
        payload = signing.loads(token, salt=LINK_SALT, max_age=timedelta(days=max_age_days))
    except signing.SignatureExpired:
        raise LicenseError(
            LicenseErrorCode.LINK_EXPIRED, "This renewal link has expired.", "token"
        ) from None
    except signing.BadSignature:
        raise LicenseError(LicenseErrorCode.INVALID, "Not a renewal link.", "token") from None
    try:
        items = tuple((int(pk), ExpiryKind(kind)) for pk, kind in payload["i"])
        return RenewalLink(str(payload["o"]), items)
    except (KeyError, TypeError, ValueError):
        raise LicenseError(LicenseErrorCode.INVALID, "Not a renewal link.", "token") from None


def make_unsubscribe_token(owner_id: str) -> str:
    return signing.dumps(owner_id, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: Any) -> str:
    """The customer an unsubscribe link names (it does not expire: old emails keep working)."""
    if not isinstance(token, str) or not 0 < len(token) <= 1024:
        raise LicenseError(LicenseErrorCode.INVALID, "Not an unsubscribe link.", "token")
    try:
        return str(signing.loads(token, salt=UNSUBSCRIBE_SALT))
    except signing.BadSignature:
        raise LicenseError(LicenseErrorCode.INVALID, "Not an unsubscribe link.", "token") from None
