"""Subscription billing: every period of a subscription is billed exactly once.

At the end of a subscription's period (``close_periods``) the period rolls over and its bill
row is created, unique per (subscription, period start):

- **pre-paid**, auto-renew on: a bill ``in_advance`` for the coming period at the plan price,
  due at once;
- **post-paid**: a bill ``in_arrears`` for the period just ended, ``accruing`` while late usage
  reports for that period are still accepted (``USAGE_LATE_DAYS``); then ``finalize_arrears``
  fixes it at the per-user price times the period's peak and closes the period: a usage report
  for it is refused from then on;
- a **trialing** subscription (postponed billing: the free first period) becomes active and is
  billed as above from its second period on (its free period's usage is never billed);
- auto-renew off (the customer or partner cancelled): the subscription ends at its period end
  (a post-paid one is still billed for its last period).

Rolling over moves the subscription's entitlement with it: the license's term becomes the new
period's end (one ``period_started`` event). The period keeps running while a bill is unpaid:
the subscription is **past due**, ``SUBSCRIPTION_GRACE_DAYS`` after the bill was issued it is
**suspended** (its license too, so verification and entitlements say so), and
``SUBSCRIPTION_CANCEL_DAYS`` later **cancelled** (license revoked, unpaid bills written off).
A payment that arrives later (``settle``) reactivates a past-due or suspended subscription.

Periods are calendar months (or years) counted from the subscription's start in UTC, clamped
to the month's last day and never drifting (Jan 31, Feb 28, Mar 31, Apr 30, ...).

Charging the bills is the fulfillment layer's (``fulfillment.subscription_billing``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate

from saleor_license_plugin.conf import LicenseSettings, get_settings
from saleor_license_plugin.licensing import lifecycle, plan_changes
from saleor_license_plugin.licensing.catalog import PaymentMode, PlanPeriod, PlanTerms
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Catalog, StaticCatalog
from saleor_license_plugin.licensing.pricing import quantize
from saleor_license_plugin.licensing.subscriptions import add_months
from saleor_license_plugin.models import (
    OPEN_BILL_STATUSES,
    BillKind,
    BillStatus,
    License,
    LicenseEvent,
    LicenseStatus,
    Subscription,
    SubscriptionBill,
    SubscriptionStatus,
    UsageDay,
)

logger = logging.getLogger(__name__)
ACTOR = "system:subscription-billing"
LIVE = (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
# License events of billing (append-only history, like every change).
PERIOD_STARTED = "period_started"
BILL_PAID = "bill_paid"
PAGE_SIZE = 500


def update_rows(model: type[models.Model], rows: list[Any], fields: list[str]) -> None:
    """Write ``fields`` of many rows in one ``UPDATE … FROM (VALUES …)`` statement: Django's
    ``bulk_update`` builds a ``CASE WHEN`` per row and field, which costs seconds of Python
    per page of 500 (benchmarks/subscription_billing.py)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns: list[models.Field[Any, Any]] = []
    for name in fields:
        column = model._meta.get_field(name)
        assert isinstance(column, models.Field) and column.column  # a concrete column
        columns.append(column)
    names = ", ".join(["id"] + [f"c{index}" for index in range(len(columns))])
    row_sql = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    params: list[Any] = []
    for row in rows:
        params.append(row.pk)
        params += [
            column.get_db_prep_save(getattr(row, column.attname), connection) for column in columns
        ]
    assignments = ", ".join(
        f"{quote(str(column.column))} = v.c{index}::{column.db_type(connection)}"
        for index, column in enumerate(columns)
    )
    table = quote(model._meta.db_table)
    # Identifiers come from the model's meta, every value is a bound parameter.
    values = ", ".join([row_sql] * len(rows))
    pk = quote(model._meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v({names}) "  # noqa: S608
    sql += f"WHERE {table}.{pk} = v.id::bigint"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- periods -----------------------------------------------------------------------------------


def months_per_period(period: PlanPeriod | str) -> int:
    return 1 if PlanPeriod(period) is PlanPeriod.MONTHLY else 12


def next_period_end(anchor: datetime, period: PlanPeriod | str, after: datetime) -> datetime:
    """The first period boundary after ``after``, counting whole periods from ``anchor`` (the
    subscription's start) in UTC: a start on Jan 31 ends periods on Feb 28/29, Mar 31, Apr 30,
    never drifting to the 28th."""
    anchor, after = anchor.astimezone(UTC), after.astimezone(UTC)
    step = months_per_period(period)
    elapsed = (after.year - anchor.year) * 12 + (after.month - anchor.month)
    count = max(step, (elapsed // step) * step)
    while count > step and add_months(anchor, count - step) > after:
        count -= step
    while add_months(anchor, count) <= after:
        count += step
    return add_months(anchor, count)


def arrears_amount(terms: PlanTerms, users: int, currency: str) -> Decimal:
    return quantize((terms.per_user_price or Decimal("0")) * users, currency)


# --- closing periods ---------------------------------------------------------------------------


@dataclass
class CloseReport:
    rolled: int = 0  # periods rolled over
    bills: int = 0  # bill rows created
    converted: int = 0  # trials that became paid subscriptions
    cancelled: int = 0  # ended at the period's end (auto-renew off)
    unpriced: int = 0  # pre-paid plans the catalog no longer prices: left for the next run
    pages: int = 0


# Where bills are priced: one catalog, or the catalog of a channel (by slug: the channel the
# subscription was bought in, kept on its license; "" when unknown).
Catalogs = Catalog | Callable[[str], Catalog | None] | None


def _catalog(catalogs: Catalogs, subscription: Subscription) -> Catalog | None:
    if catalogs is None or hasattr(catalogs, "get"):
        return catalogs  # type: ignore[return-value]
    return catalogs(subscription.license.auto_renew_channel)


def _plan(
    catalogs: Catalogs, subscription: Subscription, variant: str = ""
) -> tuple[PlanTerms, Decimal] | None:
    """The terms and price (one pre-paid period) of the subscription's plan (or ``variant``)
    in the subscription's channel and currency, or None when the catalog no longer sells it
    that way."""
    catalog = _catalog(catalogs, subscription)
    variant = variant or subscription.plan_variant
    item = catalog.get(variant) if catalog is not None else None
    if item is None or not isinstance(item.terms, PlanTerms):
        return None
    if item.price.currency != subscription.license.currency:
        return None
    return item.terms, item.price.amount


def close_periods(catalog: Catalogs, *, now: datetime, page_size: int = PAGE_SIZE) -> CloseReport:
    """Roll over every live subscription whose period has ended and create its bill, a page at
    a time. Each page is one transaction over rows locked ``FOR UPDATE SKIP LOCKED``: a
    concurrent run takes other rows, and a row it committed no longer matches (its period
    moved), so every period closes once; the unique bill row is the last word."""
    report = CloseReport()
    cursor = 0
    while True:
        with transaction.atomic():
            page = list(
                Subscription.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("license__deployment")
                .filter(status__in=LIVE, current_period_end__lte=now, pk__gt=cursor)
                .order_by("pk")[:page_size]
            )
            if not page:
                break
            report.pages += 1
            cursor = page[-1].pk
            _close_page(page, catalog, now, report)
    if report.unpriced:
        logger.error(
            "Subscription billing: %d pre-paid subscription(s) not billed: their plan is not in "
            "the catalog in their currency",
            report.unpriced,
        )
    return report


def _close_page(
    page: list[Subscription], catalog: Catalogs, now: datetime, report: CloseReport
) -> None:
    bills: list[SubscriptionBill] = []
    rolled: list[Subscription] = []
    ended: list[Subscription] = []
    for subscription in page:
        trialing = subscription.status == SubscriptionStatus.TRIALING
        period_plan = subscription.plan_variant  # what the ended period is billed at
        if subscription.cancel_at_period_end or subscription.pending_plan_variant:
            if not _apply_plan_changes(subscription, catalog, now):
                report.unpriced += 1  # a scheduled plan, and no catalog to read it from
                continue
        prepaid = subscription.mode == PaymentMode.PREPAID
        start, end = subscription.current_period_start, subscription.current_period_end
        currency = subscription.license.currency
        cancelled = subscription.status == SubscriptionStatus.CANCELLED
        if cancelled or not subscription.auto_renew:
            # Cancelled at the period's end (or pre-paid without auto-renew): no next period;
            # the entitlement runs to this period's end and expires. A post-paid subscription
            # still owes this period, in arrears (a free trial period owes nothing).
            if not prepaid and not trialing:
                bills.append(
                    _bill(subscription, start, end, BillKind.IN_ARREARS, currency, now, period_plan)
                )
            subscription.status = SubscriptionStatus.CANCELLED
            ended.append(subscription)
            continue
        new_end = next_period_end(subscription.created_at, subscription.period, end)
        if prepaid:
            plan = _plan(catalog, subscription)
            if plan is None:
                report.unpriced += 1
                continue
            bill = _bill(subscription, end, new_end, BillKind.IN_ADVANCE, currency, now)
            _issue(bill, plan[1], now)
            bills.append(bill)
        elif not trialing:
            bills.append(
                _bill(subscription, start, end, BillKind.IN_ARREARS, currency, now, period_plan)
            )
        if trialing:
            subscription.status = SubscriptionStatus.ACTIVE
            report.converted += 1
        subscription.current_period_start = end
        subscription.current_period_end = new_end
        rolled.append(subscription)
    SubscriptionBill.objects.bulk_create(bills, ignore_conflicts=True)
    update_rows(
        Subscription, rolled + ended, ["status", "current_period_start", "current_period_end"]
    )
    _extend_licenses(rolled, now)
    report.bills += len(bills)
    report.rolled += len(rolled)
    report.cancelled += len(ended)


def _apply_plan_changes(subscription: Subscription, catalog: Catalogs, now: datetime) -> bool:
    """What the customer scheduled for this period's end (``plan_changes``): a cancellation,
    or a downgrade to the plan the next period is billed at. False when a scheduled plan
    cannot be read (no catalog): the subscription waits for the next run."""
    plans = _catalog(catalog, subscription)
    if plans is None and not subscription.cancel_at_period_end:
        return False
    outcome = plan_changes.apply_period_end(subscription.pk, plans or StaticCatalog(()), now=now)
    if outcome is not None or subscription.pending_plan_variant:
        subscription.refresh_from_db(
            fields=["status", "plan", "plan_variant", "pending_plan", "pending_plan_variant"]
        )
        subscription.license.refresh_from_db()
    return True


def _bill(
    subscription: Subscription,
    start: datetime,
    end: datetime,
    kind: str,
    currency: str,
    now: datetime,
    plan_variant: str = "",
) -> SubscriptionBill:
    return SubscriptionBill(
        subscription=subscription,
        period_start=start,
        period_end=end,
        kind=kind,
        plan_variant=plan_variant or subscription.plan_variant,
        currency=currency,
        status=BillStatus.ACCRUING,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )


def _issue(bill: SubscriptionBill, amount: Decimal, now: datetime) -> None:
    """The amount is final: due now, or paid already when there is nothing to pay."""
    bill.amount = quantize(amount, bill.currency)
    bill.issued_at = now
    bill.next_attempt_at = now
    bill.updated_at = now
    if bill.amount > 0:
        bill.status = BillStatus.DUE
    else:
        bill.status = BillStatus.PAID
        bill.paid_at = now
        bill.last_outcome = "nothing to pay"


def _extend_licenses(rolled: list[Subscription], now: datetime) -> None:
    """Each subscription's entitlement follows its period: the term is the new period's end
    (a license that lapsed waiting for this run is active again), one event each."""
    licenses, events = [], []
    for subscription in rolled:
        license = subscription.license
        before = license.snapshot()
        license.term_expires_at = subscription.current_period_end
        if license.status == LicenseStatus.EXPIRED:
            license.status = LicenseStatus.ACTIVE
        license.revision += 1
        licenses.append(license)
        events.append(
            LicenseEvent(
                license=license,
                action=PERIOD_STARTED,
                actor=ACTOR,
                before=before,
                after=license.snapshot(),
                note=f"period until {subscription.current_period_end:%Y-%m-%d}",
                created_at=now,
            )
        )
    update_rows(License, licenses, ["term_expires_at", "status", "revision"])
    LicenseEvent.objects.bulk_create(events)


def _end_license(subscription: Subscription, reason: str, now: datetime) -> None:
    try:
        lifecycle.revoke_license(
            subscription.license_id,
            reason=reason,
            idempotency_key=f"subscription:{subscription.pk}:cancel",
            actor=ACTOR,
            now=now,
        )
    except LicenseError as exc:
        if exc.code is not LicenseErrorCode.LICENSE_REVOKED:
            raise


# --- post-paid: closing the period at its peak ---------------------------------------------------


@dataclass
class FinalizeReport:
    issued: int = 0
    free: int = 0  # no users, nothing to pay
    unpriced: int = 0
    pages: int = 0


def _peak_of_bill() -> Subquery:
    """The most users on any day (UTC) of the bill's period, as ``subscriptions.peak``."""
    days = (
        UsageDay.objects.filter(
            subscription=OuterRef("subscription_id"),
            day__gte=OuterRef("first_day"),
            day__lt=OuterRef("end_day"),
        )
        .order_by()
        .values("subscription")
        .annotate(peak=Max("peak_users"))
        .values("peak")
    )
    return Subquery(days)


def finalize_arrears(
    catalog: Catalogs,
    *,
    now: datetime,
    conf: LicenseSettings | None = None,
    page_size: int = PAGE_SIZE,
) -> FinalizeReport:
    """Post-paid bills whose late-report window has passed: the amount is the per-user price
    times the period's peak, and the period is closed (``report_usage`` refuses it now). The
    bill row is locked while the peak is read, and a usage report for the period locks it
    too, so no accepted report is left out of the bill."""
    conf = conf or get_settings()
    closes_before = now - timedelta(days=conf.usage_late_days)
    report = FinalizeReport()
    cursor = 0
    while True:
        with transaction.atomic():
            page = list(
                SubscriptionBill.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("subscription__license")
                .filter(status=BillStatus.ACCRUING, period_end__lte=closes_before, pk__gt=cursor)
                .annotate(
                    first_day=TruncDate("period_start", tzinfo=UTC),
                    end_day=TruncDate("period_end", tzinfo=UTC),
                )
                .annotate(peak=_peak_of_bill())
                .order_by("pk")[:page_size]
            )
            if not page:
                break
            report.pages += 1
            cursor = page[-1].pk
            ready = []
            for bill in page:
                plan = _plan(catalog, bill.subscription, bill.plan_variant)
                if plan is None:
                    report.unpriced += 1
                    continue
                bill.users = int(bill.peak or 0)
                _issue(bill, arrears_amount(plan[0], bill.users, bill.currency), now)
                report.free += bill.status == BillStatus.PAID
                ready.append(bill)
            update_rows(
                SubscriptionBill,
                ready,
                [
                    "users",
                    "amount",
                    "status",
                    "issued_at",
                    "next_attempt_at",
                    "paid_at",
                    "last_outcome",
                    "updated_at",
                ],
            )
            report.issued += len(ready)
    if report.unpriced:
        logger.error(
            "Subscription billing: %d post-paid bill(s) not issued: their plan is not in the "
            "catalog in their currency",
            report.unpriced,
        )
    return report


# --- payments ----------------------------------------------------------------------------------


def settle(
    bill_id: int,
    *,
    order_id: str,
    now: datetime,
    order_line: lifecycle.OrderLineRef | None = None,
    actor: str = ACTOR,
) -> bool:
    """A bill was paid (off-session charge, a paid Saleor order, or staff recording a bank
    transfer): mark it paid, once, and reactivate a past-due or suspended subscription that
    owes nothing else. True if this call recorded the payment."""
    with transaction.atomic():
        bill = (
            SubscriptionBill.objects.select_for_update()
            .select_related("subscription__license")
            .filter(pk=bill_id)
            .first()
        )
        if bill is None:
            raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such bill.", "bill")
        if bill.status == BillStatus.PAID:
            return False
        if bill.status == BillStatus.ACCRUING:
            raise LicenseError(
                LicenseErrorCode.INVALID_TRANSITION, "This bill is not final yet.", "bill"
            )
        bill.status = BillStatus.PAID
        bill.paid_at = now
        bill.order_id = order_id[:128]
        bill.updated_at = now
        bill.save(update_fields=["status", "paid_at", "order_id", "updated_at"])
        subscription = Subscription.objects.select_for_update().get(pk=bill.subscription_id)
        license = bill.subscription.license
        lifecycle.record_event(
            license,
            BILL_PAID,
            actor=actor,
            before=None,
            note=f"bill {bill.pk} ({bill.amount} {bill.currency}) paid by {order_id}",
            now=now,
            order_line=order_line,
            idempotency_key=f"subscription-bill:{bill.pk}:paid",
        )
        owes = (
            SubscriptionBill.objects.filter(
                subscription=subscription, status__in=OPEN_BILL_STATUSES
            )
            .exclude(pk=bill.pk)
            .exists()
        )
        if not owes and subscription.status in (
            SubscriptionStatus.PAST_DUE,
            SubscriptionStatus.SUSPENDED,
        ):
            _reactivate(subscription, bill, now)
        return True


def _reactivate(subscription: Subscription, bill: SubscriptionBill, now: datetime) -> None:
    """Active again. A suspended subscription's periods stopped rolling: if its period ended
    meanwhile, it restarts now and runs to the next period boundary (the time it was
    suspended is never billed), and its license's term with it."""
    was_suspended = subscription.status == SubscriptionStatus.SUSPENDED
    subscription.status = SubscriptionStatus.ACTIVE
    fields = ["status"]
    if was_suspended and subscription.current_period_end <= now:
        subscription.current_period_start = now
        subscription.current_period_end = next_period_end(
            subscription.created_at, subscription.period, now
        )
        fields += ["current_period_start", "current_period_end"]
        License.objects.filter(pk=subscription.license_id).update(
            term_expires_at=subscription.current_period_end
        )
    subscription.save(update_fields=fields)
    if was_suspended:
        lifecycle.reinstate_license(
            subscription.license_id,
            reason=f"bill {bill.pk} paid",
            idempotency_key=f"subscription-bill:{bill.pk}:reinstate",
            actor=ACTOR,
            now=now,
        )


def mark_past_due(subscription_ids: list[int]) -> int:
    """Subscriptions with a bill that could not be collected: past due (the grace runs)."""
    return Subscription.objects.filter(
        pk__in=subscription_ids,
        status__in=(SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING),
    ).update(status=SubscriptionStatus.PAST_DUE)


# --- grace -------------------------------------------------------------------------------------


@dataclass
class GraceReport:
    suspended: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    # subscription id -> the oldest unpaid bill the change was keyed on (staff are told once
    # per bill and outcome: ``fulfillment.subscription_billing``)
    bills: dict[int, int] = field(default_factory=dict)


# Called inside the transaction of each suspension or cancellation with (subscription id,
# the oldest unpaid bill's id, "suspended" or "cancelled"): what must follow the change commits
# with it (the fulfillment layer claims its staff email there).
GraceHook = Callable[[int, int, str], None]


def apply_grace(
    *, now: datetime, conf: LicenseSettings | None = None, on_change: GraceHook | None = None
) -> GraceReport:
    """Past due longer than ``SUBSCRIPTION_GRACE_DAYS`` (from the oldest unpaid bill's issue)
    → suspended, license suspended; ``SUBSCRIPTION_CANCEL_DAYS`` later → cancelled, license
    revoked, unpaid bills written off. Each change is keyed on the bill, so it happens once."""
    conf = conf or get_settings()
    grace = timedelta(days=conf.subscription_grace_days)
    cancel = grace + timedelta(days=conf.subscription_cancel_days)
    open_bills = SubscriptionBill.objects.filter(
        subscription=OuterRef("pk"), status__in=OPEN_BILL_STATUSES, issued_at__isnull=False
    )
    oldest = (
        open_bills.order_by()
        .values("subscription")
        .annotate(first=Min("issued_at"))
        .values("first")
    )
    oldest_bill = open_bills.order_by("issued_at", "pk").values("pk")[:1]
    late = (
        Subscription.objects.filter(
            status__in=(SubscriptionStatus.PAST_DUE, SubscriptionStatus.SUSPENDED)
        )
        .annotate(owed_since=Subquery(oldest))
        .filter(
            Q(status=SubscriptionStatus.PAST_DUE, owed_since__lte=now - grace)
            | Q(status=SubscriptionStatus.SUSPENDED, owed_since__lte=now - cancel)
        )
        .values_list("pk", flat=True)
    )
    report = GraceReport()
    for subscription_id in list(late):
        with transaction.atomic():
            subscription = (
                Subscription.objects.select_for_update()
                .annotate(owed_since=Subquery(oldest), owed_bill=Subquery(oldest_bill))
                .get(pk=subscription_id)
            )
            owed_since = subscription.owed_since
            if owed_since is None:
                continue  # paid in the meantime
            if owed_since <= now - cancel:
                _cancel_unpaid(subscription, now)
                report.cancelled.append(subscription.pk)
                outcome = "cancelled"
            elif subscription.status == SubscriptionStatus.PAST_DUE and owed_since <= now - grace:
                _suspend_unpaid(subscription, owed_since, now)
                report.suspended.append(subscription.pk)
                outcome = "suspended"
            else:
                continue
            report.bills[subscription.pk] = subscription.owed_bill
            if on_change is not None:
                on_change(subscription.pk, subscription.owed_bill, outcome)
    if report.suspended or report.cancelled:
        logger.info(
            "Subscription billing: %d suspended, %d cancelled for non-payment",
            len(report.suspended),
            len(report.cancelled),
        )
    return report


def _suspend_unpaid(subscription: Subscription, owed_since: datetime, now: datetime) -> None:
    subscription.status = SubscriptionStatus.SUSPENDED
    subscription.save(update_fields=["status"])
    try:
        lifecycle.suspend_license(
            subscription.license_id,
            reason=f"subscription unpaid since {owed_since:%Y-%m-%d}",
            idempotency_key=f"subscription:{subscription.pk}:suspend:{owed_since.isoformat()}",
            actor=ACTOR,
            now=now,
        )
    except LicenseError as exc:  # already suspended or revoked by staff: the state stands
        if exc.code not in (LicenseErrorCode.INVALID_TRANSITION, LicenseErrorCode.LICENSE_REVOKED):
            raise


def _cancel_unpaid(subscription: Subscription, now: datetime) -> None:
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.save(update_fields=["status"])
    SubscriptionBill.objects.filter(
        subscription=subscription, status__in=OPEN_BILL_STATUSES
    ).update(status=BillStatus.WRITTEN_OFF, updated_at=now)
    _end_license(subscription, "cancelled for non-payment", now)
