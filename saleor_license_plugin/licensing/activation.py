"""Device activation: a device takes a seat of a license and receives a signed entitlement.

Rules, each one transaction on the locked license:

- The license must be active and within its term (``LICENSE_NOT_ACTIVE`` / ``LICENSE_REVOKED``).
- A device is named by its fingerprint; only a domain-separated SHA-256 of it is stored and put
  into the entitlement (claim ``device``), so a document cannot be moved to another device::

      device = sha256(b"saleor-license-plugin/device/v1\\x00" + fingerprint.encode()).hexdigest()

- At most ``License.max_activations`` live devices (``ACTIVATION_LIMIT_REACHED``). The same
  device activating again is a refresh: no new seat, no event, a freshly signed document.
- Deployment: only a deployment of the license's owner or partner can be named; anyone else's
  is answered as an unknown one (``NOT_FOUND``, "No such deployment."), before anything else,
  so a key tells nothing about other customers' deployments. A bound license activates only
  for its own deployment (``DEPLOYMENT_MISMATCH`` when the caller names another of the owner's).
  An unbound license named with a deployment is bound to it on first activation; like every
  binding, that one is permanent.
- Deactivation frees a seat. An unknown key and a key the device holds no seat on get the
  same answer (:func:`no_seat`). At most ``DEACTIVATION_LIMIT`` deactivations per license in
  ``DEACTIVATION_WINDOW_DAYS`` (``DEACTIVATION_LIMIT_REACHED``), so one key cannot hop between
  many devices.

Events: ``activated`` and ``deactivated``, written to the license's history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing import access, lifecycle
from saleor_license_plugin.licensing.entitlements import claims_for, get_signer
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.lifecycle import Action
from saleor_license_plugin.models import (
    Activation,
    Deployment,
    License,
    LicenseEvent,
    LicenseStatus,
)

DEVICE_DOMAIN = b"saleor-license-plugin/device/v1\x00"
MAX_FINGERPRINT_LENGTH = 512
NO_SEAT = "No device with this fingerprint is activated on this key."
# A refresh writes last_seen_at at most this often, so hourly polling stays cheap.
SEEN_RESOLUTION = timedelta(minutes=10)


@dataclass(frozen=True)
class Entitlement:
    license: License
    document: dict[str, Any]
    device: str  # the fingerprint hash carried by the document
    etag: str
    created: bool  # this call took a new seat


def device_hash(fingerprint: Any) -> str:
    """The stored, signed form of a device fingerprint; ``INVALID_FINGERPRINT`` if unusable."""
    if not isinstance(fingerprint, str):
        raise LicenseError(
            LicenseErrorCode.INVALID_FINGERPRINT, "The fingerprint must be text.", "fingerprint"
        )
    text = fingerprint.strip()
    if not 8 <= len(text) <= MAX_FINGERPRINT_LENGTH or not text.isprintable():
        raise LicenseError(
            LicenseErrorCode.INVALID_FINGERPRINT,
            f"The fingerprint must be 8 to {MAX_FINGERPRINT_LENGTH} printable characters.",
            "fingerprint",
        )
    return hashlib.sha256(DEVICE_DOMAIN + text.encode()).hexdigest()


def no_seat() -> LicenseError:
    """Deactivation's one answer for an unknown key and for a device without a seat on it."""
    return LicenseError(LicenseErrorCode.NOT_FOUND, NO_SEAT)


def effective_status(status: str, term_expires_at: datetime | None, now: datetime) -> str:
    """The status a device sees: an active license past its term is expired already."""
    if status == LicenseStatus.ACTIVE and term_expires_at is not None and term_expires_at <= now:
        return LicenseStatus.EXPIRED
    return status


def etag(license_id: int, revision: int, status: str, kid: str, device: str) -> str:
    """Changes exactly when the document's content would (not with its issued-at)."""
    raw = f"{license_id}:{revision}:{status}:{kid}:{device}".encode()
    return '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def current_etag(
    key_digest: str, device: str, now: datetime, *, deployment_id: str | None = None
) -> str | None:
    """The ETag of a live device's current document, in one indexed query; None if the device
    holds no seat on that key (or the license is not bound to ``deployment_id``).

    Devices poll this, so it is one hand-written query (the ORM's compile step cost more than
    the query itself): the unique key digest, the partial unique index on live activations.
    """
    quote = connection.ops.quote_name  # table names come from the models, never from input
    licenses, activations = quote(License._meta.db_table), quote(Activation._meta.db_table)
    deployments = quote(Deployment._meta.db_table)
    sql = (
        f"SELECT l.id, l.revision, l.status, l.term_expires_at FROM {licenses} l "  # noqa: S608
        f"JOIN {activations} a ON a.license_id = l.id "
        "WHERE l.key_digest = %s AND a.fingerprint = %s AND a.deactivated_at IS NULL"
    )
    params: list[Any] = [key_digest, device]
    if deployment_id is not None:
        bound = f" AND l.deployment_id = (SELECT id FROM {deployments} WHERE public_id = %s)"  # noqa: S608
        sql += bound
        params.append(deployment_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    license_id, revision, status, term_expires_at = row
    if isinstance(term_expires_at, str):  # SQLite returns text for raw queries
        term_expires_at = datetime.fromisoformat(term_expires_at)
    if term_expires_at is not None and timezone.is_naive(term_expires_at):
        term_expires_at = timezone.make_aware(term_expires_at, UTC)
    status = effective_status(status, term_expires_at, now)
    if status != LicenseStatus.ACTIVE:
        return None  # let the full path report why
    return etag(license_id, revision, status, get_signer().kid, device)


def _check_usable(license: License, now: datetime) -> None:
    if license.status == LicenseStatus.REVOKED:
        raise LicenseError(LicenseErrorCode.LICENSE_REVOKED, "This license was revoked.", "key")
    status = effective_status(license.status, license.term_expires_at, now)
    if status != LicenseStatus.ACTIVE:
        label = LicenseStatus(status).label.lower()
        raise LicenseError(
            LicenseErrorCode.LICENSE_NOT_ACTIVE,
            f"A license that is {label} cannot be activated.",
            "key",
        )


def _lock(license_id: int) -> License:
    return (
        License.objects.select_for_update(of=("self",))
        .select_related("deployment")
        .get(pk=license_id)
    )


def sign_for_device(license: License, device: str, now: datetime) -> tuple[dict[str, Any], str]:
    signer = get_signer()
    document = signer.sign({**claims_for(license, now), "device": device})
    tag = etag(license.pk, license.revision, license.status, signer.kid, device)
    return document, tag


def activate(
    license: License,
    fingerprint: Any,
    *,
    deployment: Deployment | None = None,
    actor: str = "device",
    now: datetime | None = None,
) -> Entitlement:
    """Take (or refresh) the device's seat and sign its entitlement."""
    now = now or timezone.now()
    device = device_hash(fingerprint)
    if deployment is not None and not access.serves(
        deployment, license.owner_id, license.reseller_id
    ):
        raise access.deployment_not_found()  # as for an unknown one: no existence oracle
    with transaction.atomic():
        locked = _lock(license.pk)
        _check_usable(locked, now)
        if deployment is not None and locked.deployment_id != deployment.pk:
            if locked.deployment_id is not None:
                raise LicenseError(
                    LicenseErrorCode.DEPLOYMENT_MISMATCH,
                    "This license is bound to another deployment.",
                    "deploymentId",
                )
            lifecycle.bind_deployment(locked.pk, deployment, actor=actor, now=now)
            locked = _lock(locked.pk)
        live = Activation.objects.filter(
            license=locked, fingerprint=device, deactivated_at__isnull=True
        ).first()
        created = live is None
        if live is not None:
            if now - live.last_seen_at >= SEEN_RESOLUTION:
                Activation.objects.filter(pk=live.pk).update(last_seen_at=now)
        else:
            seats = Activation.objects.filter(license=locked, deactivated_at__isnull=True).count()
            if seats >= locked.max_activations:
                raise LicenseError(
                    LicenseErrorCode.ACTIVATION_LIMIT_REACHED,
                    f"This license is active on {seats} of {locked.max_activations} device(s);"
                    " deactivate one first.",
                    "fingerprint",
                )
            Activation.objects.create(
                license=locked, fingerprint=device, first_seen_at=now, last_seen_at=now
            )
            _record_seat(locked, Action.ACTIVATED, device, actor=actor, now=now)
        document, tag = sign_for_device(locked, device, now)
    return Entitlement(locked, document, device, tag, created)


def _record_seat(license: License, action: str, device: str, *, actor: str, now: datetime) -> None:
    """A device took or freed a seat: an event naming the device (by its hash's prefix)."""
    lifecycle.record_event(
        license,
        action,
        actor=actor,
        before=license.snapshot(),
        note=f"device {device[:16]}",
        now=now,
    )


def deactivate(
    license: License, fingerprint: Any, *, actor: str = "device", now: datetime | None = None
) -> License:
    """Free the device's seat, within the churn budget."""
    now = now or timezone.now()
    device = device_hash(fingerprint)
    with transaction.atomic():
        locked = _lock(license.pk)
        live = Activation.objects.filter(
            license=locked, fingerprint=device, deactivated_at__isnull=True
        ).first()
        if live is None:
            raise no_seat()
        limit = get_settings().deactivation_limit
        since = now - timedelta(days=get_settings().deactivation_window_days)
        recent = LicenseEvent.objects.filter(
            license=locked, action=Action.DEACTIVATED, created_at__gte=since
        ).count()
        if recent >= limit:
            raise LicenseError(
                LicenseErrorCode.DEACTIVATION_LIMIT_REACHED,
                f"This license was deactivated {recent} times recently; contact the seller.",
                "fingerprint",
            )
        live.deactivated_at = now
        live.save(update_fields=["deactivated_at"])
        _record_seat(locked, Action.DEACTIVATED, device, actor=actor, now=now)
    return locked


def reset_activations(
    license_id: int,
    *,
    activation_ids: list[int] | None = None,
    reason: str = "",
    actor: str,
    now: datetime | None = None,
) -> tuple[License, int]:
    """Staff free one, several or all (``activation_ids`` None) live seats of a license, e.g.
    after a hardware swap. Not bound by the deactivation budget (that limits key holders, not
    staff); one ``activations_reset`` event records the devices freed. Returns the license and
    how many seats were freed; NOT_FOUND for an activation that is not a live seat of it."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            locked = _lock(license_id)
        except License.DoesNotExist:
            raise LicenseError(LicenseErrorCode.NOT_FOUND, "License not found.", "id") from None
        live = Activation.objects.select_for_update().filter(
            license=locked, deactivated_at__isnull=True
        )
        if activation_ids is not None:
            live = live.filter(pk__in=activation_ids)
        seats = list(live.order_by("pk"))
        if activation_ids is not None and len(seats) != len(set(activation_ids)):
            raise LicenseError(
                LicenseErrorCode.NOT_FOUND,
                "No such live activation on this license.",
                "activationId",
            )
        if not seats:
            return locked, 0
        Activation.objects.filter(pk__in=[seat.pk for seat in seats]).update(deactivated_at=now)
        devices = ", ".join(seat.fingerprint[:12] for seat in seats)
        note = f"{len(seats)} device(s) freed: {devices}"
        if reason:
            note = f"{reason} ({note})"
        lifecycle.record_event(
            locked,
            Action.ACTIVATIONS_RESET,
            actor=actor,
            before=locked.snapshot(),
            note=note,
            now=now,
        )
    return locked, len(seats)
