"""The plugin's tables (one Django app, label ``saleor_license_plugin``).

``licenses``: licenses, deployments, device activations, the append-only event log and the
signing key. ``holds``: unpaid changes.
``outbox``: messages sent exactly once. ``payments``: what the payment gateways
record to act exactly once (processed notifications, refund attempts).
"""

from saleor_license_plugin.models.holds import HoldState, PendingChange
from saleor_license_plugin.models.licenses import (
    Activation,
    AppendOnlyError,
    AppendOnlyQuerySet,
    Deployment,
    License,
    LicenseEvent,
    LicenseKind,
    LicenseStatus,
    SigningKey,
    new_deployment_id,
)
from saleor_license_plugin.models.outbox import OutboxMessage, OutboxStatus
from saleor_license_plugin.models.payments import (
    ProcessedNotification,
    RefundAttempt,
    RefundAttemptStatus,
)

__all__ = [
    "Activation",
    "AppendOnlyError",
    "AppendOnlyQuerySet",
    "Deployment",
    "HoldState",
    "License",
    "LicenseEvent",
    "LicenseKind",
    "LicenseStatus",
    "OutboxMessage",
    "OutboxStatus",
    "PendingChange",
    "ProcessedNotification",
    "RefundAttempt",
    "RefundAttemptStatus",
    "SigningKey",
    "new_deployment_id",
]
