"""Durable records that make provider traffic idempotent across processes and restarts."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ProcessedNotification(models.Model):
    """A provider notification (Stripe event, MultiSafepay notification) already handled.

    The row is written in the same transaction that applies the notification, so a failure
    leaves no row and the provider's retry is processed; a replay finds the row and is ignored.
    """

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    reference = models.CharField(max_length=255, blank=True, default="")
    action = models.CharField(max_length=16, blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        app_label = "saleor_license_plugin"
        constraints = [
            models.UniqueConstraint(fields=("provider", "event_id"), name="slp_notification_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class RefundAttemptStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # sent, outcome unknown (timeout): retry with the same key
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # refused by the provider: the next attempt gets a new key


class RefundAttempt(models.Model):
    """One refund of one amount of one payment, with the idempotency key sent for it."""

    provider = models.CharField(max_length=32)
    payment_id = models.CharField(max_length=64)
    reference = models.CharField(max_length=255)  # PaymentIntent id / MultiSafepay order id
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    sequence = models.PositiveIntegerField(default=0)
    idempotency_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(
        max_length=16, choices=RefundAttemptStatus.choices, default=RefundAttemptStatus.PENDING
    )
    provider_refund_id = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "saleor_license_plugin"
        constraints = [
            models.UniqueConstraint(
                fields=("provider", "payment_id", "amount_minor", "sequence"),
                name="slp_refund_attempt_sequence",
            )
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.status})"
