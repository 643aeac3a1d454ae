"""License, Deployment, Activation, LicenseEvent, SigningKey.

References to Saleor objects (users, orders, order lines, variants) are plain strings (Saleor's
global ids or tokens), so this app needs nothing from Saleor and survives a Saleor data reset.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import models
from django.utils import timezone

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing import keys


class LicenseStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    REVOKED = "revoked", "Revoked"
    EXPIRED = "expired", "Expired"


class LicenseKind(models.TextChoices):
    STANDARD = "standard", "Standard"
    NOT_FOR_RESALE = "nfr", "Not for resale"
    TRIAL = "trial", "Trial"
    SUBSCRIPTION = "subscription", "Subscription"  # a cloud/SaaS plan's entitlement


def new_public_id(prefix: str) -> str:
    # 40 bits, Crockford base32: public, typed by humans, not a secret.
    return prefix + "".join(secrets.choice(keys.ALPHABET) for _ in range(8))


def new_deployment_id() -> str:
    return new_public_id("D-")


class Deployment(models.Model):
    """A place a license runs: a PBX, a server, a cloud tenant."""

    public_id = models.CharField(max_length=32, unique=True, default=new_deployment_id)
    name = models.CharField(max_length=255)
    owner_id = models.CharField(max_length=128, db_index=True)
    # The partner managing it for the owner (a Partner's user_id), if any.
    reseller_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    # The partner's end customer it belongs to (owner_id is then the customer's).
    customer = models.ForeignKey(
        "EndCustomer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deployments",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})"


class License(models.Model):
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    key_sealed = models.TextField(editable=False)
    key_hint = models.CharField(max_length=8, editable=False)

    kind = models.CharField(
        max_length=16, choices=LicenseKind.choices, default=LicenseKind.STANDARD
    )
    status = models.CharField(
        max_length=20, choices=LicenseStatus.choices, default=LicenseStatus.ACTIVE, db_index=True
    )
    product_code = models.CharField(max_length=128, blank=True, default="")  # variant SKU / id
    edition = models.CharField(max_length=64)
    edition_rank = models.IntegerField(default=0)
    capacity = models.PositiveIntegerField(default=0)
    capacity_unit = models.CharField(max_length=32, default="simultaneous_calls")
    # {"extensions": {"quantity": 10, "kind": "quantity", "expires": "2027-01-01T00:00:00+00:00"}}
    add_ons = models.JSONField(default=dict, blank=True)
    term_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)  # null: perpetual
    maintenance_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    pending_payment_until = models.DateTimeField(null=True, blank=True)
    max_activations = models.PositiveIntegerField(default=1)
    revision = models.PositiveIntegerField(default=1)

    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.PROTECT, related_name="licenses"
    )
    owner_id = models.CharField(max_length=128, db_index=True)
    owner_email = models.EmailField(blank=True, default="")
    # The partner managing the license for its owner (a Partner's user_id), if any: it sees,
    # verifies, renews, upgrades, expands and transfers the license (licensing/access.py).
    reseller_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    # The partner's end customer the license belongs to (owner_id is then the customer's).
    customer = models.ForeignKey(
        "EndCustomer", null=True, blank=True, on_delete=models.PROTECT, related_name="licenses"
    )
    # Who a reseller named in checkout metadata (license.end_customer_*) before end-customer
    # records existed; a license with a customer shows the record instead.
    end_customer = models.JSONField(default=dict, blank=True)  # company, contact, email, phone

    origin_order_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    origin_order_line_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    # Auto-renew: renewed before it expires on the card saved with the gateway that took the
    # first payment, in that channel (see fulfillment/autorenew.py).
    auto_renew = models.BooleanField(default=False, db_index=True)
    auto_renew_gateway = models.CharField(max_length=128, blank=True, default="")
    auto_renew_channel = models.CharField(max_length=128, blank=True, default="")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=("owner_id", "status"))]

    def __str__(self) -> str:
        return f"{self.edition} x{self.capacity} (…{self.key_hint})"

    @property
    def is_perpetual(self) -> bool:
        return self.term_expires_at is None

    def display_key(self) -> str:
        """The full key, grouped. Show it only to the owner, their partner or staff."""
        return keys.format_key(keys.unseal(self.key_sealed, get_settings().key_secret))

    def set_key(self, canonical: str) -> None:
        secret = get_settings().key_secret
        self.key_digest = keys.digest(canonical, secret)
        self.key_sealed = keys.seal(canonical, secret)
        self.key_hint = keys.hint(canonical)

    def snapshot(self) -> dict[str, Any]:
        """The state an event records before and after a change."""
        return {
            "status": self.status,
            "edition": self.edition,
            "capacity": self.capacity,
            "add_ons": self.add_ons,
            "term_expires_at": _iso(self.term_expires_at),
            "maintenance_expires_at": _iso(self.maintenance_expires_at),
            "deployment": self.deployment.public_id if self.deployment else None,
            "revision": self.revision,
            "auto_renew": self.auto_renew,
            "owner_id": self.owner_id,
            "partner_id": self.reseller_id,
            "customer_id": self.customer_id,
        }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


class Activation(models.Model):
    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="activations")
    fingerprint = models.CharField(max_length=128)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("license", "fingerprint"),
                condition=models.Q(deactivated_at__isnull=True),
                name="one_live_activation_per_device",
            )
        ]

    def __str__(self) -> str:
        return f"{self.fingerprint[:12]}… on {self.license_id}"


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("License events are append-only.")

    def delete(self) -> Any:
        raise AppendOnlyError("License events are append-only.")


class LicenseEvent(models.Model):
    """Append-only history of every change to a license."""

    license = models.ForeignKey(License, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=32)
    actor = models.CharField(max_length=128, blank=True, default="")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # Indexed: withdrawals and the reconciliation look events up by order and order line.
    order_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    order_line_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    # "<order line>:<action>[:<unit>]": the same paid line never applies twice.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # SHA-256 of the request an idempotency key was first used with: a reuse of the key with
    # another request is refused (IDEMPOTENCY_CONFLICT), as Stripe does.
    request_digest = models.CharField(max_length=64, blank=True, default="")
    note = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{self.action} #{self.license_id} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("License events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("License events are append-only.")


class SigningKey(models.Model):
    """An Ed25519 key generated on first use when none is configured; sealed at rest."""

    kid = models.CharField(max_length=32, unique=True)
    private_key_sealed = models.TextField()
    public_key = models.CharField(max_length=64)  # base64url, raw 32 bytes
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("active",), condition=models.Q(active=True), name="one_active_signing_key"
            )
        ]

    def __str__(self) -> str:
        return self.kid
