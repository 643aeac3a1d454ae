"""Renewal reminders: one claim row per license, expiry and step; customers' opt-outs."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from saleor_license_plugin.models.licenses import License


class ReminderClaim(models.Model):
    """This reminder step of this expiry of this license was claimed for sending.

    The unique row is inserted before the email (``ON CONFLICT DO NOTHING``), so two beat
    schedulers or overlapping sweeps remind once. ``batch`` names the email (one per customer
    and sweep) that carries it: the outbox key, so a sweep that died before sending is finished
    by the next one. A renewal moves the expiry, and so starts a new cycle of steps.
    """

    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16)  # "term" or "maintenance"
    expires_at = models.DateTimeField()
    step = models.SmallIntegerField()  # days from the expiry
    batch = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "saleor_license_plugin"
        constraints = [
            models.UniqueConstraint(
                fields=("license", "kind", "expires_at", "step"), name="slp_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.step:+d}d of license {self.license_id}"


class CustomerPreference(models.Model):
    """What a customer (by the host's user id) chose: no renewal reminders."""

    owner_id = models.CharField(max_length=128, unique=True)
    reminders_opted_out = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "saleor_license_plugin"

    def __str__(self) -> str:
        return f"{self.owner_id}: reminders {'off' if self.reminders_opted_out else 'on'}"
