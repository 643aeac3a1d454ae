"""Messages sent exactly once: a claim row per message, taken before sending."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutboxStatus(models.TextChoices):
    CLAIMED = "claimed", "Claimed"  # a worker is sending it (or died while sending)
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # the mail server refused it; a later run may try again


class OutboxMessage(models.Model):
    """One message with a key that names it for good (``order:42:keys``).

    The unique key is claimed before the message is handed to the mail server, so concurrent
    runs (Celery redelivery, two beat schedulers) send it once; only a worker that dies between
    handing the message over and recording ``sent`` can make a later run send it again, after
    the claim's lease has run out.
    """

    key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=32)
    recipient = models.CharField(max_length=254, blank=True, default="")
    status = models.CharField(max_length=16, choices=OutboxStatus.choices)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        app_label = "saleor_license_plugin"
        indexes = [models.Index(fields=("status", "claimed_at"), name="slp_outbox_status")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
