"""Unpaid changes held per license, so two orders cannot buy the same change twice.

A checkout being completed takes a hold on each change it makes to an existing license whose
outcome depends on the license as it is now: an upgrade (the second upgrade to the same target
would not be an upgrade any more) and a flat-rate service (on or off). Renewals and quantity
expansions add up and need none. The hold passes from the checkout to its order when the order
is created, is released when the order is cancelled or refunded, and settles when the order is
paid and applied. A checkout's hold lapses after ``CHECKOUT_HOLD``, so an abandoned completion
blocks nobody for long; an order's hold lasts until the order is paid or cancelled.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from saleor_license_plugin.licensing.catalog import AddOnKind, AddOnTerms
from saleor_license_plugin.licensing.checkout_lines import LineIntent
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Catalog
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import HoldState, PendingChange

CHECKOUT_HOLD = timedelta(minutes=30)


def scope_of(intent: LineIntent, catalog: Catalog) -> str | None:
    """The kind of change a line makes that another unpaid line may not make too."""
    if intent.license_id is None:
        return None
    if intent.line_action is LineAction.NEW:
        return "convert"  # a trial becomes a paid license once
    if intent.line_action in (LineAction.UPGRADE, LineAction.PLAN_UPGRADE):
        return "upgrade"  # one unpaid upgrade per license (a subscription's plan too)
    if intent.line_action is LineAction.EXPANSION:
        item = catalog.get(intent.variant_id)
        if item is not None and isinstance(item.terms, AddOnTerms):
            if item.terms.kind is AddOnKind.FLAT:
                return f"service:{item.terms.code}"
    return None


def pending() -> LicenseError:
    return LicenseError(
        LicenseErrorCode.CHANGE_PENDING,
        "An unpaid order already makes this change to the license; pay or cancel it first.",
        "lines",
    )


def take(license_id: int, scope: str, holder: str, now: datetime) -> None:
    """Hold ``scope`` of the license for ``holder``; ``CHANGE_PENDING`` if someone else does.
    Taking it again for the same holder extends it."""
    with transaction.atomic():
        PendingChange.objects.filter(
            license_id=license_id, scope=scope, state=HoldState.OPEN, expires_at__lte=now
        ).update(state=HoldState.RELEASED)
        current = (
            PendingChange.objects.select_for_update()
            .filter(license_id=license_id, scope=scope, state=HoldState.OPEN)
            .first()
        )
        if current is not None:
            if current.holder != holder:
                raise pending()
            current.expires_at = now + CHECKOUT_HOLD
            current.save(update_fields=["expires_at"])
            return
        try:
            with transaction.atomic():
                PendingChange.objects.create(
                    license_id=license_id,
                    scope=scope,
                    holder=holder,
                    expires_at=now + CHECKOUT_HOLD,
                    created_at=now,
                )
        except IntegrityError:  # a concurrent completion took it first
            raise pending() from None


def pass_to_order(checkout_holder: str, order_holder: str) -> int:
    """The order created from the checkout holds its changes until paid or cancelled."""
    return PendingChange.objects.filter(holder=checkout_holder, state=HoldState.OPEN).update(
        holder=order_holder, expires_at=None
    )


def settle(order_holder: str) -> int:
    return PendingChange.objects.filter(holder=order_holder, state=HoldState.OPEN).update(
        state=HoldState.APPLIED
    )


def release(order_holder: str) -> int:
    return PendingChange.objects.filter(holder=order_holder, state=HoldState.OPEN).update(
        state=HoldState.RELEASED
    )


def checkout_holder(token: object) -> str:
    return f"checkout:{token}"


def order_holder(order_id: object) -> str:
    return f"order:{order_id}"
