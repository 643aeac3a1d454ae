"""Typed errors with stable codes.

Every refusal in the domain raises :class:`LicenseError` with a :class:`LicenseErrorCode`. The
GraphQL layer turns them into ``errors { field code message }``; Saleor's hooks into its
``ValidationError``. Messages never contain a key, a secret or another customer's data.
"""

from __future__ import annotations

from enum import StrEnum


class LicenseErrorCode(StrEnum):
    # input
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    MALFORMED_KEY = "MALFORMED_KEY"
    INVALID_YEARS = "INVALID_YEARS"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_CATALOG_METADATA = "INVALID_CATALOG_METADATA"
    NOT_A_LICENSE_PRODUCT = "NOT_A_LICENSE_PRODUCT"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    # lookup: one code for "unknown" and "not yours", so there is no existence oracle
    NOT_FOUND = "NOT_FOUND"
    # state
    LICENSE_NOT_ACTIVE = "LICENSE_NOT_ACTIVE"
    LICENSE_REVOKED = "LICENSE_REVOKED"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    DOWNGRADE_NOT_ALLOWED = "DOWNGRADE_NOT_ALLOWED"
    NOT_AN_UPGRADE = "NOT_AN_UPGRADE"
    NOT_RENEWABLE = "NOT_RENEWABLE"
    ADD_ON_ALREADY_ACTIVE = "ADD_ON_ALREADY_ACTIVE"
    # deployments
    DEPLOYMENT_REQUIRED = "DEPLOYMENT_REQUIRED"
    DEPLOYMENT_NOT_OWNED = "DEPLOYMENT_NOT_OWNED"
    DEPLOYMENT_BINDING_LOCKED = "DEPLOYMENT_BINDING_LOCKED"
    # checkout lines (re-validated at checkoutComplete)
    LICENSE_LINE_WITHOUT_INTENT = "LICENSE_LINE_WITHOUT_INTENT"
    LINE_TAMPERED = "LINE_TAMPERED"
    QUANTITY_CHANGED = "QUANTITY_CHANGED"
    STALE_QUOTE = "STALE_QUOTE"
    TERMS_NOT_ACCEPTED = "TERMS_NOT_ACCEPTED"
    REFERENCE_REQUIRED = "REFERENCE_REQUIRED"
    CHANGE_PENDING = "CHANGE_PENDING"  # an unpaid order already holds this change
    BILLING_CONTACT_NOT_FOUND = "BILLING_CONTACT_NOT_FOUND"  # checkout metadata names another's
    # renewals
    LINK_EXPIRED = "LINK_EXPIRED"
    NOTHING_TO_RENEW = "NOTHING_TO_RENEW"
    AUTO_RENEW_NEEDS_CARD = "AUTO_RENEW_NEEDS_CARD"  # a card saved for off-session payments
    # subscriptions
    DOMAIN_TAKEN = "DOMAIN_TAKEN"
    PERIOD_CLOSED = "PERIOD_CLOSED"
    SAME_PLAN = "SAME_PLAN"  # a plan change to the plan the subscription has
    PLAN_MISMATCH = "PLAN_MISMATCH"  # another period, instance type or payment mode
    NOT_A_DOWNGRADE = "NOT_A_DOWNGRADE"  # scheduled for the period's end, but it costs more
    # partners: a trial or NFR quota is used up
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    # a voucher meant for partners of other levels (voucher metadata license.partner_levels)
    PARTNER_LEVEL_REQUIRED = "PARTNER_LEVEL_REQUIRED"
    # idempotency
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    # access
    PERMISSION_DENIED = "PERMISSION_DENIED"
    RATE_LIMITED = "RATE_LIMITED"
    ACTIVATION_LIMIT_REACHED = "ACTIVATION_LIMIT_REACHED"
    # device activation and the API (issue 3)
    DEACTIVATION_LIMIT_REACHED = "DEACTIVATION_LIMIT_REACHED"
    DEPLOYMENT_MISMATCH = "DEPLOYMENT_MISMATCH"
    INVALID_ID = "INVALID_ID"
    INVALID_FINGERPRINT = "INVALID_FINGERPRINT"
    # staff actions from the Dashboard
    EMAIL_FAILED = "EMAIL_FAILED"


class LicenseError(Exception):
    """A refusal the caller can act on: a stable ``code``, the offending ``field``, a message."""

    def __init__(self, code: LicenseErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value!r}, {self.message!r}, field={self.field!r})"


class MalformedKey(LicenseError):
    def __init__(self, message: str) -> None:
        super().__init__(LicenseErrorCode.MALFORMED_KEY, message, field="key")


class CatalogError(LicenseError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(LicenseErrorCode.INVALID_CATALOG_METADATA, message, field=field)
