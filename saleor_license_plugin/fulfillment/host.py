"""What the tasks need from whoever hosts them, found by dotted path so this package never
imports Saleor: inside Saleor, ``saleor_host.orders.SaleorTaskHost`` (database writer access
as Saleor's Celery guard requires, results into order-line private metadata); elsewhere a
host that does nothing extra. ``SALEOR_LICENSE["TASK_HOST"]`` names another."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

from django.apps import apps
from django.utils.module_loading import import_string

from saleor_license_plugin.conf import (
    LicenseSettings,
    from_django_settings,
    get_settings,
    using,
)

logger = logging.getLogger(__name__)
SALEOR_TASK_HOST = "saleor_license_plugin.saleor_host.orders.SaleorTaskHost"


class TaskHost(Protocol):
    def context(self) -> AbstractContextManager[Any]: ...

    def write_order_results(self, order_id: str, results: dict[str, dict[str, Any]]) -> None: ...

    def order_source(self) -> Any:
        """The host's orders for the reconciliation (``reconcile.OrderSource``), or None."""
        ...

    def catalog(self) -> Any:
        """The catalog renewal prices are quoted from outside a request, or None."""
        ...

    def catalog_for_channel(self, channel: str) -> Any:
        """The catalog of one channel (by slug; subscription bills are priced there), or None."""
        ...

    # A paid line that could not be applied (``failures.py``):
    can_refund: bool

    def refund_line(self, order_id: str, line_id: str) -> None:
        """Refund one order line through the order's payment; raise if it cannot be."""
        ...

    def note_on_order(self, order_id: str, text: str) -> None:
        """Tell staff where they look at the order (inside Saleor: an order note)."""
        ...

    def charge_renewal(self, request: Any) -> Any:
        """Place and charge one auto-renewal order (``autorenew.RenewalRequest`` ->
        ``autorenew.ChargeResult``)."""
        ...

    def charge_bill(self, request: Any) -> Any:
        """Place and charge one subscription bill off-session, as ``charge_renewal`` does
        (``subscription_billing.BillRequest`` -> ``autorenew.ChargeResult``)."""
        ...

    # Invoices (``invoicing.py``):
    def license_settings(self) -> LicenseSettings:
        """The settings the plugin's hooks see (inside Saleor: the Dashboard's over Django's)."""
        ...

    def order_facts(self, order_id: str) -> Any:
        """The order as an invoice needs it (``licensing.invoices.OrderFacts``), or None."""
        ...

    def attach_invoice(self, order_id: str, invoice: Any, url: str) -> None:
        """Show the invoice on the order where staff look (inside Saleor: its invoices)."""
        ...

    def public_api_url(self) -> str:
        """Where the plugin's API is reached from outside, when PUBLIC_API_URL is not set."""
        ...


class PlainHost:
    def context(self) -> AbstractContextManager[Any]:
        return nullcontext()

    def write_order_results(self, order_id: str, results: dict[str, dict[str, Any]]) -> None:
        return None

    def order_source(self) -> Any:
        return None  # no orders here (the standalone server): nothing to reconcile

    def catalog(self) -> Any:
        return None

    def catalog_for_channel(self, channel: str) -> Any:
        return self.catalog()  # one catalog here

    can_refund = False  # no payments here

    def refund_line(self, order_id: str, line_id: str) -> None:
        raise NotImplementedError("this host takes no payments")

    def note_on_order(self, order_id: str, text: str) -> None:
        logger.warning("Order %s: %s", order_id, text)

    def charge_renewal(self, request: Any) -> Any:
        from saleor_license_plugin.fulfillment.autorenew import ChargeResult

        return ChargeResult("declined", message="this host takes no payments")

    def charge_bill(self, request: Any) -> Any:
        from saleor_license_plugin.fulfillment.autorenew import ChargeResult

        return ChargeResult("declined", message="this host takes no payments")

    def license_settings(self) -> LicenseSettings:
        return from_django_settings()

    def order_facts(self, order_id: str) -> Any:
        return None  # no orders here

    def attach_invoice(self, order_id: str, invoice: Any, url: str) -> None:
        return None

    def public_api_url(self) -> str:
        return ""


def task_host() -> TaskHost:
    path = get_settings().task_host
    if not path and apps.is_installed("saleor.core"):
        path = SALEOR_TASK_HOST
    return import_string(path)() if path else PlainHost()


@contextmanager
def in_host(host: TaskHost) -> Iterator[TaskHost]:
    """Where every task runs: the host's context (inside Saleor: the writer database allowed)
    and the settings the plugin's hooks see (inside Saleor: the Dashboard's over Django's).
    Without the second, a Celery worker would read Django's settings alone, and a schedule,
    staff address or refund switch set in the Dashboard would do nothing in the tasks."""
    with host.context(), using(host.license_settings()):
        yield host
