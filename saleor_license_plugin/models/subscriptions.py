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
