"""Automatic renewals: one row per license and expiry (the period being renewed)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from saleor_license_plugin.models.licenses import License


class RenewalStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"  # due, or declined and waiting for the next attempt
    CHARGING = "charging", "Charging"  # an attempt holds the row
    PAID = "paid", "Paid"  # an order paid for this period
    ACTION_REQUIRED = "action_required", "Action required"  # 3-D Secure: the customer pays
    FAILED = "failed", "Failed"  # retries exhausted: the license expires as usual


class AutoRenewal(models.Model):
    """Renewing ``license`` past ``expires_at``. Unique per license and expiry, taken under a
    row lock for each attempt: nothing is charged twice for one period, whatever the retries,
    crashes or concurrent schedulers. ``reference`` names the attempt's checkout and payment,
    so an attempt interrupted mid-charge resumes with the same provider idempotency key."""

    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="auto_renewals")
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=RenewalStatus.choices, default=RenewalStatus.SCHEDULED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    reference = models.CharField(max_length=128, blank=True, default="")
    order_id = models.CharField(max_length=128, blank=True, default="")
    last_outcome = models.CharField(max_length=255, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "saleor_license_plugin"
        constraints = [
            models.UniqueConstraint(fields=("license", "expires_at"), name="slp_renew_once")
        ]

    def __str__(self) -> str:
        return f"renewal of license {self.license_id} past {self.expires_at:%Y-%m-%d}"
