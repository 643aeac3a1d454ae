"""Changes to a license that an order holds until it is paid."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from saleor_license_plugin.models.licenses import License


class HoldState(models.TextChoices):
    OPEN = "open", "Open"  # a checkout being completed, or an unpaid order, holds the change
    APPLIED = "applied", "Applied"  # paid and applied
    RELEASED = "released", "Released"  # cancelled, or the checkout's hold lapsed


class PendingChange(models.Model):
    """One unpaid change of one kind (``scope``) to a license: at most one open at a time.

    Two unpaid orders upgrading the same key would both be paid and the second refused at
    fulfillment (the money taken for nothing). The unique open hold makes the second
    ``checkoutComplete`` fail with ``CHANGE_PENDING`` instead.
    """

    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="holds")
    scope = models.CharField(max_length=64)  # "upgrade", "service:<add-on code>"
    holder = models.CharField(max_length=128)  # "checkout:<token>", then "order:<id>"
    state = models.CharField(max_length=16, choices=HoldState.choices, default=HoldState.OPEN)
    expires_at = models.DateTimeField(null=True, blank=True)  # checkouts only; orders hold on
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "saleor_license_plugin"
        constraints = [
            models.UniqueConstraint(
                fields=("license", "scope"),
                condition=Q(state="open"),
                name="slp_one_open_change_per_scope",
            )
        ]
        indexes = [models.Index(fields=("holder", "state"), name="slp_hold_holder")]

    def __str__(self) -> str:
        return f"{self.scope} of license {self.license_id} by {self.holder} ({self.state})"
