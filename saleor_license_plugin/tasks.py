"""Celery autodiscovery entry point (``app.autodiscover_tasks()`` imports ``<app>.tasks``)."""

from saleor_license_plugin.fulfillment.provisioning import (
    deliver_domain_changes,
    deliver_provisioning,
    provisioning_sweep_task,
)
from saleor_license_plugin.fulfillment.tasks import (
    auto_renew_task,
    bill_subscriptions_task,
    expire_due_task,
    fulfill_order,
    invoice_order_task,
    reconcile_task,
    send_renewal_reminders_task,
    withdraw_order_task,
)

__all__ = [
    "auto_renew_task",
    "bill_subscriptions_task",
    "deliver_domain_changes",
    "deliver_provisioning",
    "expire_due_task",
    "fulfill_order",
    "invoice_order_task",
    "provisioning_sweep_task",
    "reconcile_task",
    "send_renewal_reminders_task",
    "withdraw_order_task",
]
