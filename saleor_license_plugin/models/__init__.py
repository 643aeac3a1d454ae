"""The plugin's tables (one Django app, label ``saleor_license_plugin``).

- ``licenses``: licenses, deployments, device activations, the append-only event log and the
  signing key;
- ``holds``: changes to a license that an unpaid order holds;
- ``outbox``: messages and side effects performed exactly once;
- ``reminders``: renewal reminders sent, customers' opt-outs;
- ``autorenew``: automatic renewals, one per license and period;
- ``subscriptions``: cloud/SaaS subscriptions, their daily peak usage, provisioning and
  period bills;
- ``partners``: partners (resellers) and the end customers each one manages;
- ``payments``: what the payment gateways record to act exactly once (processed
  notifications, refund attempts);
- ``invoices``: billing contacts, invoices, their number sequences and download links.
"""

from saleor_license_plugin.models.autorenew import AutoRenewal, RenewalStatus
from saleor_license_plugin.models.holds import HoldState, PendingChange
from saleor_license_plugin.models.invoices import (
    BillingContact,
    Invoice,
    InvoiceCounter,
    InvoiceLink,
)
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
from saleor_license_plugin.models.partners import (
    CUSTOMER_OWNER_PREFIX,
    EndCustomer,
    Partner,
    new_customer_id,
)
from saleor_license_plugin.models.payments import (
    ProcessedNotification,
    RefundAttempt,
    RefundAttemptStatus,
)
from saleor_license_plugin.models.reminders import CustomerPreference, ReminderClaim
from saleor_license_plugin.models.subscriptions import (
    OPEN_BILL_STATUSES,
    BillKind,
    BillStatus,
    ProvisioningRequest,
    ProvisioningStatus,
    Subscription,
    SubscriptionBill,
    SubscriptionStatus,
    UsageDay,
)

__all__ = [
    "CUSTOMER_OWNER_PREFIX",
    "OPEN_BILL_STATUSES",
    "Activation",
    "AppendOnlyError",
    "AppendOnlyQuerySet",
    "AutoRenewal",
    "BillKind",
    "BillStatus",
    "BillingContact",
    "CustomerPreference",
    "Deployment",
    "EndCustomer",
    "HoldState",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLink",
    "License",
    "LicenseEvent",
    "LicenseKind",
    "LicenseStatus",
    "OutboxMessage",
    "OutboxStatus",
    "Partner",
    "PendingChange",
    "ProcessedNotification",
    "ProvisioningRequest",
    "ProvisioningStatus",
    "RefundAttempt",
    "RefundAttemptStatus",
    "ReminderClaim",
    "RenewalStatus",
    "SigningKey",
    "Subscription",
    "SubscriptionBill",
    "SubscriptionStatus",
    "UsageDay",
    "new_customer_id",
    "new_deployment_id",
]
