"""The email with the keys, sent once per order through Django's mail framework.

Why Django's mail and not Saleor's ``manager.notify``: Saleor's notification events are a closed
set (``NotifyEventType``) rendered by its email plugins' own templates, and a plugin cannot add a
"license keys" event that those plugins would know how to render. Saleor configures Django's
mail from ``EMAIL_URL``, so ``send_mail`` uses the shop's SMTP settings as they are.

Sent exactly once per order through the outbox (:mod:`.outbox`): concurrent runs of the task
claim the message, and only the claim's holder sends it. A ``keys_emailed`` event in the
license history records the delivery (and, for orders emailed before the outbox existed, still
stops a second mail).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from saleor_license_plugin.fulfillment import outbox
from saleor_license_plugin.fulfillment.orders import LineResult, OrderPayload
from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.lifecycle import Action
from saleor_license_plugin.models import License, LicenseEvent

logger = logging.getLogger(__name__)
EMAILED = "keys_emailed"
KIND = "license_keys"


CUSTOMER = "customer"  # the second recipient of an order: the end customer a partner named


def message_key(order_id: str, to: str = "") -> str:
    return f"order:{order_id}:keys" + (f":{to}" if to else "")


def _emailed_key(order_id: str, to: str = "") -> str:
    return f"{order_id}:{EMAILED}" + (f":{to}" if to else "")


def _body(order_id: str, licenses: list[License]) -> str:
    lines = [f"Thank you for your order {order_id}.", ""]
    for license in licenses:
        expiry = license.term_expires_at or license.maintenance_expires_at
        until = f", until {expiry:%Y-%m-%d}" if expiry else ""
        lines.append(f"{license.edition} {license.capacity} {license.capacity_unit}{until}")
        lines.append(f"  License key: {license.display_key()}")
        if license.deployment:
            lines.append(
                f"  Deployment: {license.deployment.name} ({license.deployment.public_id})"
            )
        lines.append("")
    lines.append("Your devices pick up the change at their next activation refresh.")
    return "\n".join(lines)


def recipients(order: OrderPayload) -> list[tuple[str, str]]:
    """``(to, address)`` per keys email of the order: the buyer (``to`` empty) unless the
    order sends the keys to its end customer only, and the end customer if it says so."""
    found = []
    if order.keys_to != CUSTOMER and order.email:
        found.append(("", order.email))
    if order.keys_to != "partner" and order.customer_email:
        found.append((CUSTOMER, order.customer_email))
    return found


def send_keys_once(order: OrderPayload, results: list[LineResult]) -> bool:
    """Email the order's keys to each recipient once; True if this call sent any."""
    ids = [pk for result in results for pk in result.licenses]
    if not ids:
        return False
    licenses = list(License.objects.filter(pk__in=ids).select_related("deployment").order_by("pk"))
    sent = False
    for to, address in recipients(order):
        if LicenseEvent.objects.filter(idempotency_key=_emailed_key(order.order_id, to)).exists():
            continue  # emailed (possibly before the outbox existed)
        sent = _send(order.order_id, address, licenses, to) or sent
    return sent


def resend_keys(key: str, recipient: str) -> bool:
    """Send a keys email that failed, or whose worker died, again (the reconciliation)."""
    order_id, _, to = key.removeprefix("order:").partition(":keys")
    licenses = list(
        License.objects.filter(origin_order_id=order_id).select_related("deployment").order_by("pk")
    )
    if not licenses or not recipient:
        return False
    return _send(order_id, recipient, licenses, to.removeprefix(":"))


RESEND_KIND = "license_keys_resend"


def resend_license_key(license: License, *, actor: str, now: datetime | None = None) -> str:
    """Staff's "resend keys": this license's key to its owner's e-mail, through the outbox
    (each resend its own message, not retried automatically: staff see a failure and may
    click again), recorded as a ``keys_resent`` event. Returns the recipient."""
    if not license.owner_email:
        raise LicenseError(
            LicenseErrorCode.REQUIRED, "The license has no owner e-mail address.", "ownerEmail"
        )
    now = now or timezone.now()
    order_id = license.origin_order_id or "-"
    key = f"license:{license.pk}:keys:{now.isoformat()}:{secrets.token_hex(4)}"

    def build() -> EmailMessage:
        return EmailMessage(
            subject=f"Your license key ({license.edition})",
            body=_body(order_id, [license]).replace(
                f"Thank you for your order {order_id}.", "Your license, as you asked:"
            ),
            from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
            to=[license.owner_email],
        )

    if not outbox.send_once(key, kind=RESEND_KIND, recipient=license.owner_email, build=build):
        raise LicenseError(
            LicenseErrorCode.EMAIL_FAILED, "The e-mail could not be sent; try again later."
        )
    lifecycle.record_event(
        license,
        Action.KEYS_RESENT,
        actor=actor,
        before=None,
        note=f"key sent to {license.owner_email}",
        now=now,
    )
    return license.owner_email


def _send(order_id: str, recipient: str, licenses: list[License], to: str = "") -> bool:
    def build() -> EmailMessage:
        return EmailMessage(
            subject=f"Your licenses for order {order_id}",
            body=_body(order_id, licenses),
            from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
            to=[recipient],
        )

    if not outbox.send_once(message_key(order_id, to), kind=KIND, recipient=recipient, build=build):
        return False
    try:
        with transaction.atomic():
            LicenseEvent.objects.create(
                license=licenses[0],
                action=EMAILED,
                actor=f"order:{order_id}",
                order_id=order_id,
                idempotency_key=_emailed_key(order_id, to),
                note=f"{len(licenses)} license(s) sent to the {to or 'buyer'}",
                created_at=timezone.now(),
            )
    except IntegrityError:  # recorded before (a resend after a crash)
        pass
    logger.info("Emailed %d license(s) for order %s", len(licenses), order_id)
    return True
