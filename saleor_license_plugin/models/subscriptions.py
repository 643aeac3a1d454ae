"""Cloud and SaaS subscriptions: the plan, how it is paid, the instance, and daily peak usage."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from saleor_license_plugin.models.licenses import License


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", "Trialing"  # postponed billing: the free first period
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    SUSPENDED = "suspended", "Suspended"
    CANCELLED = "cancelled", "Cancelled"


class Subscription(models.Model):
    """A plan bought for one instance. Its entitlement is ``license`` (kind subscription): the
    instance verifies and activates with that key like any device, and the license's term is
    the current period's end."""

    license = models.OneToOneField(License, on_delete=models.PROTECT, related_name="subscription")
    plan_variant = models.CharField(max_length=200)
    plan = models.CharField(max_length=255)
    mode = models.CharField(max_length=16)  # prepaid | postpaid
    period = models.CharField(max_length=16)  # monthly | yearly
    instance_type = models.CharField(max_length=16)  # cloud | saas
    status = models.CharField(max_length=16, choices=SubscriptionStatus.choices)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField(db_index=True)
    auto_renew = models.BooleanField(default=True)  # pre-paid: renew each period
    # The instance, as ordered (seed 004): where its data lives, its domain, the customer.
    data_location = models.CharField(max_length=64, blank=True, default="")
    domain = models.CharField(max_length=253)
    admin_username = models.CharField(max_length=64, default="Admin")
    company = models.CharField(max_length=255, blank=True, default="")
    contact_name = models.CharField(max_length=255, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=64, blank=True, default="")
    send_credentials_to_customer = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Plan changes (licensing/plan_changes.py): a downgrade waits for the period's end, and so
    # does a cancellation, which the customer may take back until then.
    pending_plan_variant = models.CharField(max_length=200, blank=True, default="")
    pending_plan = models.CharField(max_length=255, blank=True, default="")
    cancel_at_period_end = models.BooleanField(default=False)

    class Meta:
        app_label = "saleor_license_plugin"
        constraints = [
            # A domain belongs to one live subscription ("enter it carefully").
            models.UniqueConstraint(
                fields=("domain",),
                condition=~Q(status="cancelled"),
                name="slp_subscription_domain",
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan} for {self.domain} ({self.status})"


class UsageDay(models.Model):
    """The most user accounts reported on one day (UTC): later reports only raise it."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField()
    peak_users = models.PositiveIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "saleor_license_plugin"
        constraints = [
            models.UniqueConstraint(fields=("subscription", "day"), name="slp_usage_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.peak_users} users"


class BillKind(models.TextChoices):
    IN_ADVANCE = "in_advance", "In advance"  # pre-paid: the plan price for the coming period
    IN_ARREARS = "in_arrears", "In arrears"  # post-paid: per-user price x the period's peak


class BillStatus(models.TextChoices):
    ACCRUING = "accruing", "Accruing"  # post-paid period ended; late usage reports still count
    DUE = "due", "Due"  # amount final: to be charged (now, or at ``next_attempt_at``)
    CHARGING = "charging", "Charging"  # an attempt holds the row
    UNPAID = "unpaid", "Unpaid"  # no card, retries spent or the card needs the customer
    PAID = "paid", "Paid"
    WRITTEN_OFF = "written_off", "Written off"  # the subscription was cancelled for non-payment


OPEN_BILL_STATUSES = (BillStatus.DUE, BillStatus.CHARGING, BillStatus.UNPAID)


class SubscriptionBill(models.Model):
    """One period's bill: unique per subscription and period, so a period is billed once
    whatever the retries, crashes or concurrent schedulers. Pre-paid bills cover the coming
    period (``in_advance``), post-paid ones the period just ended (``in_arrears``, at its peak
    users). ``reference`` names the attempt's checkout and payment, so an attempt interrupted
    mid-charge resumes with the same provider idempotency key."""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="bills")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=BillKind.choices)
    plan_variant = models.CharField(max_length=200, blank=True, default="")  # the period's plan
    users = models.PositiveIntegerField(null=True, blank=True)  # post-paid: the period's peak
    amount = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=BillStatus.choices, db_index=True)
    issued_at = models.DateTimeField(null=True, blank=True)  # amount final: the grace runs
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    reference = models.CharField(max_length=128, blank=True, default="")
    order_id = models.CharField(max_length=128, blank=True, default="")
    last_outcome = models.CharField(max_length=255, blank=True, default="")
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "saleor_license_plugin"
        constraints = [
            models.UniqueConstraint(
                fields=("subscription", "period_start"), name="slp_bill_once_per_period"
            )
        ]
        indexes = [models.Index(fields=("status", "next_attempt_at"), name="slp_bill_due")]

    def __str__(self) -> str:
        start = f"{self.period_start:%Y-%m-%d}"
        return f"bill {self.pk} of subscription {self.subscription_id} from {start}"


class ProvisioningStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # recorded, not yet handed to the merchant's system
    REQUESTED = "requested", "Requested"  # handed over (task sent, webhook answered 2xx)
    MANUAL = "manual", "Waiting for staff"  # PROVISIONING_MODE manual: staff enter the result
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ProvisioningRequest(models.Model):
    """The one provisioning request of a subscription (the merchant's system builds the
    instance), and its outcome. ``request_id`` is the idempotency key the merchant's system
    dedupes on. The instance's initial password is kept only sealed (Fernet under a key derived
    from KEY_SECRET), and only until every credentials e-mail went out."""

    subscription = models.OneToOneField(
        Subscription, on_delete=models.CASCADE, related_name="provisioning"
    )
    request_id = models.CharField(max_length=64, unique=True)
    mode = models.CharField(max_length=16)  # celery | webhook | manual, when it was requested
    status = models.CharField(max_length=16, choices=ProvisioningStatus.choices)
    orderer_email = models.EmailField(blank=True, default="")  # the partner or buyer who ordered
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    requested_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    login_url = models.URLField(max_length=500, blank=True, default="")
    username = models.CharField(max_length=128, blank=True, default="")
    credentials_sealed = models.TextField(blank=True, default="")  # wiped once sent
    failure_reason = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        app_label = "saleor_license_plugin"
        indexes = [models.Index(fields=("status", "created_at"), name="slp_provisioning_status")]

    def __str__(self) -> str:
        return f"provisioning {self.request_id} ({self.status})"
