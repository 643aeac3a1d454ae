"""Cloud and SaaS subscriptions (seed 004): ordering details, periods, usage peaks, estimates.

A ``SUBSCRIBE`` checkout line names a plan (a variant with ``license.kind = plan``), the
payment mode (pre-paid: the plan price per period in advance, whatever the user count within
the plan's cap; post-paid: at each period's end, the per-user price times the most user
accounts registered during the period), where the instance's data lives, its domain (unique,
and fixed once ordered) and the customer's details. Once paid, :func:`start` creates the
subscription and its entitlement, a license of kind ``subscription`` whose term is the
current period's end, so instances verify and activate like any device.

Usage is reported per subscription (by the instance with its key, or by the merchant's system):
the plugin keeps one row per day with the day's peak, which a later report can only raise;
reports for a period are accepted until ``USAGE_LATE_DAYS`` after it ends.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.db.models.functions import Greatest
from django.utils import timezone

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.catalog import (
    EditionTerms,
    PaymentMode,
    PlanPeriod,
    PlanTerms,
    Term,
)
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.pricing import Money, quantize
from saleor_license_plugin.models import (
    BillKind,
    BillStatus,
    LicenseKind,
    Subscription,
    SubscriptionBill,
    SubscriptionStatus,
    UsageDay,
)

DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_USERS = 1_000_000


def _invalid(message: str, field: str) -> LicenseError:
    return LicenseError(LicenseErrorCode.INVALID, message, field)


@dataclass(frozen=True)
class SubscriptionDetails:
    """What the customer or partner enters when ordering (all validated)."""

    mode: PaymentMode
    domain: str
    data_location: str = ""
    admin_username: str = "Admin"
    company: str = ""
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    send_credentials_to_customer: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "domain": self.domain,
            "data_location": self.data_location,
            "admin_username": self.admin_username,
            "company": self.company,
            "contact_name": self.contact_name,
            "email": self.email,
            "phone": self.phone,
            "send_credentials_to_customer": self.send_credentials_to_customer,
        }


def clean_details(terms: PlanTerms, raw: Mapping[str, Any] | None) -> SubscriptionDetails:
    """The line's subscription details, checked against the plan; coded errors naming the
    input (``subscription.domain``, ...)."""
    raw = dict(raw or {})
    try:
        mode = PaymentMode(str(raw.get("mode") or "").lower())
    except ValueError:
        raise _invalid("Choose PREPAID or POSTPAID.", "subscription.mode") from None
    if mode not in terms.modes:
        raise _invalid("This plan is not sold that way.", "subscription.mode")
    domain = str(raw.get("domain") or "").strip().lower().rstrip(".")
    if not DOMAIN.match(domain):
        raise _invalid("Give the instance's domain, e.g. pbx.example.com.", "subscription.domain")
    if (
        Subscription.objects.filter(domain=domain)
        .exclude(status=SubscriptionStatus.CANCELLED)
        .exists()
    ):
        raise LicenseError(
            LicenseErrorCode.DOMAIN_TAKEN, "This domain is already in use.", "subscription.domain"
        )
    location = str(raw.get("data_location") or "").strip()
    if terms.data_locations and location not in terms.data_locations:
        raise _invalid(
            f"Choose a data location: {', '.join(terms.data_locations)}.",
            "subscription.dataLocation",
        )
    username = str(raw.get("admin_username") or "Admin").strip()
    if not USERNAME.match(username):
        raise _invalid("Letters, digits, dot, dash, underscore.", "subscription.adminUsername")
    email = str(raw.get("email") or "").strip()
    if email:
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            raise _invalid("Not an e-mail address.", "subscription.email") from None
    text = {name: str(raw.get(name) or "").strip() for name in ("company", "contact_name", "phone")}
    if any(len(value) > 255 for value in text.values()):
        raise _invalid("At most 255 characters.", "subscription")
    return SubscriptionDetails(
        mode=mode,
        domain=domain,
        data_location=location,
        admin_username=username,
        email=email,
        send_credentials_to_customer=bool(raw.get("send_credentials_to_customer")),
        **text,
    )


def clean_details_again(
    terms: PlanTerms, stored: Mapping[str, Any], order_line: lifecycle.OrderLineRef
) -> SubscriptionDetails:
    """The details an order line stored, for fulfillment: checked again, except that the
    domain may be this very line's (a redelivered task finds its own subscription)."""
    own = Subscription.objects.filter(
        license__origin_order_line_id=order_line.line_id, domain=stored.get("domain")
    ).exists()
    if own:
        return SubscriptionDetails(
            mode=PaymentMode(stored["mode"]),
            domain=str(stored["domain"]),
            **{
                k: stored[k]
                for k in SubscriptionDetails.__dataclass_fields__
                if k not in ("mode", "domain") and k in stored
            },
        )
    return clean_details(terms, stored)


# --- periods -----------------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, the day clamped to the month's last (Jan 31 + 1 month = Feb 28/29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_end(start: datetime, period: PlanPeriod) -> datetime:
    return add_months(start, 1 if period is PlanPeriod.MONTHLY else 12)


# --- ordering ----------------------------------------------------------------------------------


def start(
    *,
    terms: PlanTerms,
    details: SubscriptionDetails,
    owner: lifecycle.Owner,
    plan_variant: str,
    order_line: lifecycle.OrderLineRef,
    currency: str,
    actor: str,
    now: datetime,
) -> Subscription:
    """The subscription a paid SUBSCRIBE line buys, once per order line, with its entitlement.
    A free first period (postponed billing) starts it as trialing."""
    end = period_end(now, terms.period)
    issued = lifecycle.issue_license(
        terms=EditionTerms(
            edition=terms.plan,
            rank=0,
            capacity=terms.user_cap or terms.included_users,
            capacity_unit="users",
            term=Term.ANNUAL,
        ),
        owner=owner,
        product_code=plan_variant,
        order_line=order_line,
        kind=LicenseKind.SUBSCRIPTION,
        term_expires_at=end,
        currency=currency,
        actor=actor,
        now=now,
    )
    existing = Subscription.objects.filter(license=issued.license).first()
    if existing is not None:
        return existing  # this order line was applied before
    status = SubscriptionStatus.TRIALING if terms.free_first_period else SubscriptionStatus.ACTIVE
    try:
        with transaction.atomic():
            return Subscription.objects.create(
                license=issued.license,
                plan_variant=plan_variant,
                plan=terms.plan,
                mode=details.mode.value,
                period=terms.period.value,
                instance_type=terms.instance_type.value,
                status=status,
                current_period_start=now,
                current_period_end=end,
                data_location=details.data_location,
                domain=details.domain,
                admin_username=details.admin_username,
                company=details.company,
                contact_name=details.contact_name,
                email=details.email,
                phone=details.phone,
                send_credentials_to_customer=details.send_credentials_to_customer,
                created_at=now,
            )
    except IntegrityError:
        raise LicenseError(
            LicenseErrorCode.DOMAIN_TAKEN, "This domain is already in use.", "subscription.domain"
        ) from None


# --- usage -------------------------------------------------------------------------------------


def report_usage(
    subscription: Subscription, users: int, at: datetime | None = None, now: datetime | None = None
) -> UsageDay:
    """Record ``users`` user accounts at ``at`` (default now): the day's peak can only rise.
    Reports for a period more than ``USAGE_LATE_DAYS`` after its end are refused."""
    now = now or timezone.now()
    at = at or now
    if not isinstance(users, int) or not 0 <= users <= MAX_USERS:
        raise _invalid(f"users must be 0 to {MAX_USERS}.", "users")
    if at > now + timedelta(minutes=5):
        raise _invalid("A report cannot be from the future.", "at")
    late = timedelta(days=get_settings().usage_late_days)
    if at < subscription.current_period_start and now > subscription.current_period_start + late:
        raise LicenseError(
            LicenseErrorCode.PERIOD_CLOSED, "That period is closed to usage reports.", "at"
        )
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise LicenseError(
            LicenseErrorCode.LICENSE_NOT_ACTIVE, "The subscription is cancelled.", "subscription"
        )
    day = at.astimezone(UTC).date() if timezone.is_aware(at) else at.date()
    with transaction.atomic():
        _check_period_open(subscription, at)
        row, created = UsageDay.objects.get_or_create(
            subscription=subscription, day=day, defaults={"peak_users": users, "updated_at": now}
        )
        if not created:
            UsageDay.objects.filter(pk=row.pk).update(
                peak_users=Greatest(F("peak_users"), users), updated_at=now
            )
            row.refresh_from_db()
    return row


def _check_period_open(subscription: Subscription, at: datetime) -> None:
    """Refuse a report for a period whose post-paid bill is final (the period is closed), and
    hold a bill still accruing until this report is written, so the bill's peak includes it
    (``subscription_billing.finalize_arrears`` skips a held bill until the next run)."""
    bill = (
        SubscriptionBill.objects.select_for_update()
        .filter(
            subscription=subscription,
            kind=BillKind.IN_ARREARS,
            period_start__lte=at,
            period_end__gt=at,
        )
        .first()
    )
    if bill is not None and bill.status != BillStatus.ACCRUING:
        raise LicenseError(
            LicenseErrorCode.PERIOD_CLOSED, "That period is closed to usage reports.", "at"
        )


def peak(subscription: Subscription, start: datetime, end: datetime) -> int:
    """The most user accounts on any day (UTC) of ``[start, end)``."""
    found = UsageDay.objects.filter(
        subscription=subscription,
        day__gte=start.astimezone(UTC).date(),
        day__lt=end.astimezone(UTC).date(),
    ).aggregate(peak=Max("peak_users"))["peak"]
    return int(found or 0)


def estimate(subscription: Subscription, terms: PlanTerms, plan_price: Money) -> Money:
    """What the current period's bill is so far: pre-paid, the plan price (nothing in a free
    first period); post-paid, the per-user price times the peak so far."""
    currency = plan_price.currency
    if subscription.status == SubscriptionStatus.TRIALING:
        return Money(Decimal("0"), currency)
    if subscription.mode == PaymentMode.PREPAID:
        return plan_price
    users = peak(subscription, subscription.current_period_start, subscription.current_period_end)
    per_user = terms.per_user_price or Decimal("0")
    return Money(quantize(per_user * users, currency), currency)
