"""Provisioning a subscription's instance (issue 11): the request the plugin emits once, its
signature, and the outcome the merchant's system (or staff) reports.

Provisioning is the merchant's system, not ours. When a paid ``SUBSCRIBE`` line starts a
subscription, :func:`create_request` records one :class:`ProvisioningRequest` per subscription
(unique), whose ``request_id`` the merchant's system dedupes on; ``fulfillment.provisioning``
hands it over (a Celery task or a signed HTTPS webhook) or leaves it to staff (manual mode).

When staff change the instance's domain, :func:`domain_change_payload` is what the merchant's
system is told (``subscription.domain_changed``, signed the same way), once per change.

The request carries the license key's **hint**, never the key: building an instance needs the
plan, the domain, the data location and the administrator, not the key. An instance that must
activate gets its key from the merchant's system through staff's ``licenseKeyReveal``, which is
recorded in the license's history, instead of the key travelling in every request and every
retry (and landing in the merchant's request logs).

Signatures (the webhook's ``X-License-Signature`` header, the Celery task's ``signature``
argument): ``t=<unix seconds>,v1=<hex HMAC-SHA256>`` over ``"<t>." + body``, keyed with
``PROVISIONING_SECRET``, where ``body`` is the exact bytes sent (the webhook's raw body; for
Celery, :func:`canonical_body` of the ``request`` argument). :func:`verify` is the reference
check for the receiving side: recompute, compare in constant time, refuse old timestamps.

The instance's initial password is sealed (Fernet, a key derived from ``KEY_SECRET``) only
until its e-mails are sent, and never logged or put into an error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from django.db import IntegrityError, transaction
from django.utils import timezone

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.keys import _derive
from saleor_license_plugin.licensing.plan_changes import Action as Changes
from saleor_license_plugin.licensing.plan_changes import record, state
from saleor_license_plugin.models import (
    LicenseEvent,
    ProvisioningRequest,
    ProvisioningStatus,
    Subscription,
)

SIGNATURE_HEADER = "X-License-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_TYPE = "subscription.provision"
DOMAIN_CHANGED_TYPE = "subscription.domain_changed"
SIGNATURE_TOLERANCE = timedelta(minutes=5)
MAX_PASSWORD = 256
MAX_USERNAME = 128
MAX_URL = 500
MAX_REASON = 255


class Action:
    REQUESTED = "provisioning_requested"
    PROVISIONED = "provisioned"
    FAILED = "provisioning_failed"
    CREDENTIALS_SENT = "credentials_emailed"


def global_id(type_name: str, pk: int) -> str:
    """The API's (Relay) id of a row, as the merchant's system sees it in our API."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


# --- the request ---------------------------------------------------------------------------


def create_request(
    subscription: Subscription,
    *,
    orderer_email: str,
    now: datetime | None = None,
) -> tuple[ProvisioningRequest, bool]:
    """The subscription's one provisioning request, and whether this call created it; the
    mode is the configured one when it is created (a request does not change mode later)."""
    now = now or timezone.now()
    existing = ProvisioningRequest.objects.filter(subscription=subscription).first()
    if existing is not None:
        return existing, False
    mode = get_settings().provisioning_mode
    try:
        with transaction.atomic():
            request = ProvisioningRequest.objects.create(
                subscription=subscription,
                request_id=f"prov_{secrets.token_hex(16)}",
                mode=mode,
                status=ProvisioningStatus.MANUAL
                if mode == "manual"
                else ProvisioningStatus.PENDING,
                orderer_email=orderer_email,
                created_at=now,
            )
            record(
                subscription,
                Action.REQUESTED,
                actor="system",
                before=None,
                note=f"provisioning requested ({mode})",
                idempotency_key=f"subscription:{subscription.pk}:{Action.REQUESTED}",
                now=now,
            )
            return request, True
    except IntegrityError:  # a concurrent run created it
        return ProvisioningRequest.objects.get(subscription=subscription), False


def payload(request: ProvisioningRequest) -> dict[str, Any]:
    """What the merchant's system is told: plain JSON, no key (its hint), no secret."""
    subscription = request.subscription
    license = subscription.license
    return {
        "type": EVENT_TYPE,
        "request_id": request.request_id,
        "subscription_id": global_id("Subscription", subscription.pk),
        "license_id": global_id("License", license.pk),
        "license_key_hint": license.key_hint,
        "order_id": license.origin_order_id,
        "plan": {
            "name": subscription.plan,
            "variant_id": subscription.plan_variant,
            "period": subscription.period,
            "payment_mode": subscription.mode,
            "user_capacity": license.capacity,
        },
        "instance": {
            "type": subscription.instance_type,
            "data_location": subscription.data_location,
            "domain": subscription.domain,
            "admin_username": subscription.admin_username,
        },
        "customer": {
            "company": subscription.company,
            "contact_name": subscription.contact_name,
            "email": subscription.email,
            "phone": subscription.phone,
        },
        "send_credentials_to_customer": subscription.send_credentials_to_customer,
        "created_at": request.created_at.isoformat(),
    }


def change_id(request: ProvisioningRequest, event: LicenseEvent) -> str:
    """A domain change's id for the merchant's system to dedupe on (its ``Idempotency-Key``):
    the instance's request id and the change's history entry."""
    return f"{request.request_id}:domain:{event.pk}"


def domain_changes(request: ProvisioningRequest) -> list[LicenseEvent]:
    """The instance's domain changes by staff (``subscriptionDomainChange``), in order."""
    return list(
        LicenseEvent.objects.filter(
            license_id=request.subscription.license_id, action=Changes.DOMAIN_CHANGED
        ).order_by("pk")
    )


def domain_change_payload(request: ProvisioningRequest, event: LicenseEvent) -> dict[str, Any]:
    """What the merchant's system is told when staff change an instance's domain: which
    instance (its provisioning request), the old and the new domain. No key, no secret."""
    subscription = request.subscription
    license = subscription.license
    return {
        "type": DOMAIN_CHANGED_TYPE,
        "request_id": change_id(request, event),
        "provisioning_request_id": request.request_id,
        "subscription_id": global_id("Subscription", subscription.pk),
        "license_id": global_id("License", license.pk),
        "license_key_hint": license.key_hint,
        "instance": {
            "type": subscription.instance_type,
            "data_location": subscription.data_location,
            "old_domain": (event.before or {}).get("domain", ""),
            "domain": (event.after or {}).get("domain", ""),
        },
        "changed_at": event.created_at.isoformat(),
    }


def canonical_body(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int) -> str:
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(body: bytes, header: str, secret: str, now: datetime | None = None) -> bool:
    """The receiving side's check: the signature over the raw body is ours and fresh."""
    now = now or timezone.now()
    fields = dict(part.split("=", 1) for part in str(header).split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now.timestamp() - timestamp) > SIGNATURE_TOLERANCE.total_seconds():
        return False
    return hmac.compare_digest(_mac(secret, timestamp, body), fields.get("v1", ""))


def mark_requested(request_pk: int, *, now: datetime | None = None) -> None:
    """The merchant's system took the request (task sent, webhook answered 2xx)."""
    ProvisioningRequest.objects.filter(pk=request_pk, status=ProvisioningStatus.PENDING).update(
        status=ProvisioningStatus.REQUESTED, requested_at=now or timezone.now(), last_error=""
    )


def note_attempt(request_pk: int, error: str = "") -> None:
    """Count a delivery attempt; ``error`` says what went wrong in words without secrets
    (an HTTP status, an exception's type)."""
    from django.db.models import F

    ProvisioningRequest.objects.filter(pk=request_pk).update(
        attempts=F("attempts") + 1, last_error=error[:255]
    )


# --- the outcome ---------------------------------------------------------------------------


def _fernet() -> Fernet:
    key = _derive(get_settings().key_secret, b"instance-credentials")
    return Fernet(base64.urlsafe_b64encode(key))


def seal_password(password: str) -> str:
    return _fernet().encrypt(password.encode()).decode()


def unseal_password(sealed: str) -> str | None:
    """The password, or None if it was wiped or the key secret changed since."""
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


def _locked(subscription_id: int) -> ProvisioningRequest:
    found = (
        ProvisioningRequest.objects.select_for_update(of=("self",))
        .select_related("subscription", "subscription__license")
        .filter(subscription_id=subscription_id)
        .first()
    )
    if found is None:
        raise LicenseError(
            LicenseErrorCode.INVALID_TRANSITION,
            "This subscription has no provisioning request.",
            "id",
        )
    return found


def _clean_login(login_url: Any, username: Any, password: Any) -> tuple[str, str, str]:
    url = str(login_url or "").strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("https", "http") or not parts.hostname:
        raise LicenseError(
            LicenseErrorCode.INVALID, "loginUrl must be the instance's http(s) URL.", "loginUrl"
        )
    name = str(username or "").strip()
    if not name or len(name) > MAX_USERNAME or not name.isprintable():
        raise LicenseError(
            LicenseErrorCode.INVALID, f"username: 1 to {MAX_USERNAME} characters.", "username"
        )
    secret = str(password or "")
    if not secret or len(secret) > MAX_PASSWORD:
        # The message never repeats what was sent.
        raise LicenseError(
            LicenseErrorCode.INVALID, f"password: 1 to {MAX_PASSWORD} characters.", "password"
        )
    return url, name, secret


def record_ready(
    subscription_id: int,
    *,
    login_url: Any,
    username: Any,
    password: Any,
    actor: str,
    now: datetime | None = None,
) -> ProvisioningRequest:
    """The instance is ready: keep its login for the credentials e-mails (the password
    sealed, until they are sent). Once: a ready instance is not reported ready again."""
    url, name, secret = _clean_login(login_url, username, password)
    now = now or timezone.now()
    with transaction.atomic():
        request = _unfinished(subscription_id)
        request.status = ProvisioningStatus.READY
        request.completed_at = now
        request.login_url = url
        request.username = name
        request.credentials_sealed = seal_password(secret)
        request.failure_reason = ""
        return _finished(
            request, Action.PROVISIONED, f"instance ready at {urlsplit(url).hostname}", actor, now
        )


def record_failed(
    subscription_id: int, *, reason: Any, actor: str, now: datetime | None = None
) -> ProvisioningRequest:
    """The merchant's system could not build the instance; staff are told by the record
    (and may report it ready later, once fixed)."""
    why = str(reason or "").strip()
    if not why or len(why) > MAX_REASON or not why.isprintable():
        raise LicenseError(
            LicenseErrorCode.REQUIRED,
            f"Give the reason (at most {MAX_REASON} characters).",
            "reason",
        )
    now = now or timezone.now()
    with transaction.atomic():
        request = _unfinished(subscription_id)
        request.status = ProvisioningStatus.FAILED
        request.completed_at = now
        request.failure_reason = why
        return _finished(request, Action.FAILED, why, actor, now)


def _unfinished(subscription_id: int) -> ProvisioningRequest:
    """The subscription's provisioning request, locked; ``INVALID_TRANSITION`` once ready."""
    request = _locked(subscription_id)
    if request.status == ProvisioningStatus.READY:
        raise LicenseError(
            LicenseErrorCode.INVALID_TRANSITION, "The instance was reported ready.", "id"
        )
    return request


def _finished(
    request: ProvisioningRequest, action: str, note: str, actor: str, now: datetime
) -> ProvisioningRequest:
    """Save the request's outcome and record it on the subscription's history."""
    request.save()
    subscription = request.subscription
    record(subscription, action, actor=actor, before=state(subscription), note=note, now=now)
    return request


def wipe_credentials(request_pk: int) -> None:
    ProvisioningRequest.objects.filter(pk=request_pk).update(credentials_sealed="")
