"""Partners (the resellers a merchant sells through) and the end customers each one manages.

A partner is a user (Saleor's global id inside Saleor, an API token's user id standalone) that
staff marked as one, with a level the merchant prices by and quotas for the trial and
not-for-resale licenses it may create. An end customer belongs to one partner; the licenses
and deployments a partner buys for it point at it (``License.customer``) and are managed by the
partner (``License.reseller_id`` is the partner's user id).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from saleor_license_plugin.models.licenses import new_public_id

# The owner id of a customer's licenses while the customer has no account of its own:
# ``customer:C-7KQ2MXW9``. No principal ever has such a user id (Saleor's are global ids,
# API tokens refuse the prefix).
CUSTOMER_OWNER_PREFIX = "customer:"


def new_customer_id() -> str:
    return new_public_id("C-")  # like deployments: public, typed by humans, not a secret


class Partner(models.Model):
    user_id = models.CharField(max_length=128, unique=True)
    email = models.EmailField(blank=True, default="")
    company = models.CharField(max_length=255, blank=True, default="")
    # The merchant's code for what the partner pays and may create, e.g. "gold".
    level = models.CharField(max_length=32, blank=True, default="", db_index=True)
    # None: the level's quota (settings PARTNER_LEVELS).
    trial_quota = models.PositiveIntegerField(null=True, blank=True)
    nfr_quota = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("company", "pk")

    def __str__(self) -> str:
        return f"{self.company or self.user_id} ({self.level or 'no level'})"


class EndCustomer(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=new_customer_id)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="customers")
    company = models.CharField(max_length=255)
    contact_name = models.CharField(max_length=255, blank=True, default="")
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=64, blank=True, default="")
    domain = models.CharField(max_length=255, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    # The customer's own account, once linked: its licenses are then owned by that user.
    user_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("company", "pk")
        indexes = [models.Index(fields=("partner", "company"))]
        constraints = [
            models.UniqueConstraint(
                fields=("partner", "user_id"),
                condition=~models.Q(user_id=""),
                name="one_customer_record_per_account_and_partner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.company} ({self.public_id})"

    @property
    def owner_id(self) -> str:
        """Who owns the customer's licenses and deployments: its account, else the record."""
        return self.user_id or CUSTOMER_OWNER_PREFIX + self.public_id

    def as_end_customer(self) -> dict[str, str]:
        """The shape of ``License.end_customer`` (what an order named before records existed)."""
        found = {
            "company": self.company,
            "name": self.contact_name,
            "email": self.email,
            "phone": self.phone,
        }
        return {key: value for key, value in found.items() if value}
