"""Hand provisioning requests to the merchant's system, exactly once, and e-mail the instance's
credentials once each (issue 11; the domain side is ``licensing.provisioning``).

- ``celery``: a task named ``PROVISIONING_TASK`` is sent to the host's broker with keyword
  arguments ``request`` (the plain JSON payload) and ``signature`` (over
  :func:`~saleor_license_plugin.licensing.provisioning.canonical_body` of ``request``).
- ``webhook``: ``POST PROVISIONING_URL`` with the JSON body, ``X-License-Signature`` over the
  raw body and a timestamp, and ``Idempotency-Key: <request_id>``. Any answer but 2xx, or no
  answer, is retried by the Celery task :func:`deliver_provisioning` with exponential backoff
  (and, should its message be lost, by the sweep).
- ``manual``: nothing is sent; staff report the result through the API.

Each hand-over is one outbox row (``provisioning:<request_id>``): concurrent or redelivered
runs send it once; only a worker dying between the merchant's 2xx and recording it makes a
later run send it again, with the same ``Idempotency-Key`` for the merchant to drop.

A staff domain change (``subscriptionDomainChange``) is sent the same way, in the mode the
instance was requested in, as a ``subscription.domain_changed`` request
(:func:`~saleor_license_plugin.licensing.provisioning.domain_change_payload`): each change once
(outbox key ``…:domain:<change>``), oldest first, retried by
:func:`deliver_domain_changes` and then by the sweep for ``DOMAIN_SWEEP_WINDOW``.

Credentials e-mails go to the partner or buyer who ordered (always) and to the customer's
contact when the order asked for it, each once (outbox keys ``…:credentials:orderer`` and
``…:credentials:customer``). The sealed password is wiped as soon as every one was sent, and
by the sweep after ``CREDENTIALS_TTL_HOURS`` whatever happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import requests
from celery import current_app, shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.fulfillment import outbox
from saleor_license_plugin.fulfillment.host import in_host, task_host
from saleor_license_plugin.fulfillment.orders import LineResult, OrderPayload
from saleor_license_plugin.licensing import plan_changes, provisioning
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import (
    LicenseEvent,
    ProvisioningRequest,
    ProvisioningStatus,
    Subscription,
)

logger = logging.getLogger(__name__)

KIND = "provisioning_request"
DOMAIN_KIND = "provisioning_domain_change"
CREDENTIALS_KIND = "instance_credentials"
TIMEOUT = (5, 15)  # seconds to connect, to read the answer
MAX_RETRIES = 10
BACKOFF_BASE, BACKOFF_MAX = 10, 3600  # seconds: 10, 20, 40, ... at most an hour apart
SWEEP_AFTER = timedelta(minutes=30)  # a pending request this old lost its task message
DOMAIN_SWEEP_WINDOW = timedelta(days=7)  # the sweep retries a domain change this long


class DeliveryRefused(Exception):
    """The merchant's endpoint answered, but not 2xx (the status only: never the body)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def message_key(request: ProvisioningRequest) -> str:
    return f"provisioning:{request.request_id}"


def backoff(retries: int) -> int:
    return int(min(BACKOFF_BASE * 2**retries, BACKOFF_MAX))


# --- requests ------------------------------------------------------------------------------


def request_for_order(
    order: OrderPayload, results: list[LineResult], now: datetime | None = None
) -> list[ProvisioningRequest]:
    """After a paid order is applied: one provisioning request per subscription its SUBSCRIBE
    lines started (once, however often the order is fulfilled), handed over at once."""
    created = []
    ids = [
        pk
        for result in results
        if result.action == LineAction.SUBSCRIBE and not result.error
        for pk in result.licenses
    ]
    for subscription in Subscription.objects.filter(license_id__in=ids).select_related("license"):
        request, new = provisioning.create_request(subscription, orderer_email=order.email, now=now)
        if new:
            created.append(request)
            dispatch(request)
    return created


def dispatch(request: ProvisioningRequest) -> None:
    """Hand the request over in its mode (after the current transaction commits)."""
    if request.mode == "celery":
        transaction.on_commit(lambda: send_celery(request.pk))
    elif request.mode == "webhook":
        transaction.on_commit(lambda: deliver_provisioning.delay(request.pk))


def _load(request_pk: int) -> ProvisioningRequest | None:
    return (
        ProvisioningRequest.objects.select_related("subscription", "subscription__license")
        .filter(pk=request_pk)
        .first()
    )


def send_celery(request_pk: int) -> bool:
    """Send the merchant's Celery task once; True once it was sent (now or before)."""
    request = _load(request_pk)
    if request is None or request.status != ProvisioningStatus.PENDING:
        return True
    conf = get_settings()
    return _hand_over(
        request, conf.provisioning_task, _celery_sender(provisioning.payload(request))
    )


def _celery_sender(data: dict[str, Any]) -> Callable[[], None]:
    """Send the merchant's task ``PROVISIONING_TASK`` with ``request`` and its signature."""
    conf = get_settings()
    signature = provisioning.sign(
        provisioning.canonical_body(data),
        conf.provisioning_secret,
        int(timezone.now().timestamp()),
    )

    def send() -> None:
        current_app.send_task(
            conf.provisioning_task, kwargs={"request": data, "signature": signature}
        )

    return send


def post_webhook(request_pk: int) -> bool:
    """One delivery attempt; True once the merchant's endpoint took it (now or before)."""
    request = _load(request_pk)
    if request is None or request.status != ProvisioningStatus.PENDING:
        return True
    conf = get_settings()
    data = provisioning.payload(request)
    return _hand_over(request, conf.provisioning_url, _webhook_sender(data))


def _webhook_sender(data: dict[str, Any]) -> Callable[[], None]:
    """POST ``data`` to ``PROVISIONING_URL``, signed when sent; its ``request_id`` is the
    ``Idempotency-Key``. Anything but 2xx raises :class:`DeliveryRefused`."""
    conf = get_settings()
    body = provisioning.canonical_body(data)

    def send() -> None:
        signature = provisioning.sign(
            body, conf.provisioning_secret, int(timezone.now().timestamp())
        )
        response = requests.post(
            conf.provisioning_url,
            data=body,
            headers={
                "Content-Type": "application/json",
                provisioning.SIGNATURE_HEADER: signature,
                provisioning.IDEMPOTENCY_HEADER: data["request_id"],
                "User-Agent": "saleor-license-plugin provisioning",
            },
            timeout=TIMEOUT,
            allow_redirects=False,
        )
        if not 200 <= response.status_code < 300:
            raise DeliveryRefused(response.status_code)

    return send


def _sender(mode: str, data: dict[str, Any]) -> tuple[str, Callable[[], None]]:
    conf = get_settings()
    if mode == "celery":
        return conf.provisioning_task, _celery_sender(data)
    return conf.provisioning_url, _webhook_sender(data)


def _send_once(key: str, kind: str, recipient: str, send: Callable[[], None]) -> tuple[bool, str]:
    """Send under the outbox key ``key``: (True if this call sent it, what went wrong in words
    without secrets: an HTTP status or an exception's type)."""
    error = ""

    def attempt() -> None:
        nonlocal error
        try:
            send()
        except DeliveryRefused as exc:
            error = str(exc)
            raise
        except Exception as exc:
            error = type(exc).__name__
            raise

    sent = outbox.once(key, kind=kind, recipient=recipient[:254], action=attempt)
    return sent, error


def _hand_over(request: ProvisioningRequest, recipient: str, send: Any) -> bool:
    key = message_key(request)
    sent, error = _send_once(key, KIND, recipient, send)
    if sent:
        provisioning.note_attempt(request.pk)
        provisioning.mark_requested(request.pk)
        logger.info("Provisioning request %s handed over", request.request_id)
        return True
    if outbox.is_done(key):  # another run handed it over
        provisioning.mark_requested(request.pk)
        return True
    if error:
        provisioning.note_attempt(request.pk, error)
        logger.warning("Provisioning request %s not taken: %s", request.request_id, error)
    return False  # refused, or another run is sending it right now


@shared_task(
    bind=True,
    name="saleor_license_plugin.deliver_provisioning",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def deliver_provisioning(self: Any, request_pk: int) -> bool:
    """POST a provisioning request to the merchant's webhook until it answers 2xx."""
    with in_host(task_host()):
        taken = post_webhook(request_pk)
    if taken:
        return True
    if self.request.retries >= self.max_retries:
        ProvisioningRequest.objects.filter(pk=request_pk, status=ProvisioningStatus.PENDING).update(
            status=ProvisioningStatus.FAILED, failure_reason="the webhook never took it"
        )
        logger.error("Provisioning request %s given up after %d tries", request_pk, MAX_RETRIES)
        return False
    raise self.retry(countdown=backoff(self.request.retries))


# --- domain changes -------------------------------------------------------------------------


def domain_change_key(request: ProvisioningRequest, event: LicenseEvent) -> str:
    return f"{message_key(request)}:domain:{event.pk}"


def notify_domain_change(subscription_id: int) -> str | None:
    """After staff changed a subscription's domain: tell the merchant's system, in the mode
    its instance was requested in, once the change commits. Returns that mode (``manual``:
    nothing is sent), or None when the subscription has no provisioning request."""
    request = ProvisioningRequest.objects.filter(subscription_id=subscription_id).first()
    if request is None:
        return None
    if request.mode == "celery":
        transaction.on_commit(lambda: send_domain_changes(request.pk))
    elif request.mode == "webhook":
        transaction.on_commit(lambda: deliver_domain_changes.delay(request.pk))
    return request.mode


def send_domain_changes(request_pk: int) -> tuple[int, bool]:
    """Hand the instance's domain changes over, oldest first, each once (outbox key
    ``provisioning:<request_id>:domain:<change>``): (how many this call sent, whether all were
    taken). Stops at the first one not taken, so a later change never overtakes an earlier
    one. Manual mode: nothing to send."""
    request = _load(request_pk)
    if request is None or request.mode not in ("celery", "webhook"):
        return 0, True
    sent = 0
    for event in provisioning.domain_changes(request):
        key = domain_change_key(request, event)
        if outbox.is_done(key):
            continue
        data = provisioning.domain_change_payload(request, event)
        recipient, send = _sender(request.mode, data)
        taken, error = _send_once(key, DOMAIN_KIND, recipient, send)
        if not taken:
            if error:
                logger.warning("Domain change %s not taken: %s", data["request_id"], error)
            return sent, False  # refused, or another run is sending it right now
        sent += 1
        logger.info("Domain change %s handed over", data["request_id"])
    return sent, True


@shared_task(
    bind=True,
    name="saleor_license_plugin.deliver_domain_changes",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def deliver_domain_changes(self: Any, request_pk: int) -> bool:
    """POST an instance's domain changes to the merchant's webhook until it answers 2xx."""
    with in_host(task_host()):
        _, done = send_domain_changes(request_pk)
    if done:
        return True
    if self.request.retries >= self.max_retries:
        logger.error(
            "Domain change of provisioning request %s not taken after %d tries; the sweep "
            "tries again",
            request_pk,
            MAX_RETRIES,
        )
        return False
    raise self.retry(countdown=backoff(self.request.retries))


# --- credentials -----------------------------------------------------------------------------


def credentials_key(request: ProvisioningRequest, to: str) -> str:
    return f"{message_key(request)}:credentials:{to}"


def recipients(request: ProvisioningRequest) -> list[tuple[str, str]]:
    """``(to, address)``: the orderer always, the customer's contact if the order said so."""
    found = []
    if request.orderer_email:
        found.append(("orderer", request.orderer_email))
    subscription = request.subscription
    if subscription.send_credentials_to_customer and subscription.email:
        if subscription.email.lower() != request.orderer_email.lower():
            found.append(("customer", subscription.email))
    return found


def _body(request: ProvisioningRequest, password: str) -> str:
    subscription = request.subscription
    return "\n".join(
        [
            f"Your {subscription.plan} instance {subscription.domain} is ready.",
            "",
            f"Order: {subscription.license.origin_order_id or '-'}",
            f"Login: {request.login_url}",
            f"Username: {request.username}",
            f"Password: {password}",
            "",
            "Change the password when you first sign in.",
        ]
    )


def send_credentials(request_pk: int) -> int:
    """E-mail the instance's login to each recipient once; wipe the sealed password once all
    were sent. Returns how many e-mails this call sent."""
    request = _load(request_pk)
    if request is None or request.status != ProvisioningStatus.READY:
        return 0
    password = provisioning.unseal_password(request.credentials_sealed)
    targets = recipients(request)
    if password is None:
        return 0
    sent = 0
    for to, address in targets:

        def build(address: str = address) -> EmailMessage:
            return EmailMessage(
                subject=f"Your instance {request.subscription.domain} is ready",
                body=_body(request, password),
                from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
                to=[address],
            )

        if outbox.send_once(
            credentials_key(request, to), kind=CREDENTIALS_KIND, recipient=address, build=build
        ):
            sent += 1
    if all(outbox.is_done(credentials_key(request, to)) for to, _ in targets):
        provisioning.wipe_credentials(request.pk)
        if sent:
            plan_changes.record(
                request.subscription,
                provisioning.Action.CREDENTIALS_SENT,
                actor="system",
                before=None,
                note="login sent to " + " and ".join(to for to, _ in targets),
            )
    return sent


# --- the sweep ------------------------------------------------------------------------------


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Periodic: hand over requests whose task message was lost, send credentials e-mails that
    failed, and wipe every password older than ``CREDENTIALS_TTL_HOURS`` whatever happened."""
    now = now or timezone.now()
    counts = {"handed_over": 0, "domain_changes": 0, "emails": 0, "wiped": 0}
    stale = ProvisioningRequest.objects.filter(
        status=ProvisioningStatus.PENDING, created_at__lte=now - SWEEP_AFTER
    ).values_list("pk", "mode")[:200]
    for pk, mode in list(stale):
        if mode == "celery" and send_celery(pk):
            counts["handed_over"] += 1
        elif mode == "webhook" and post_webhook(pk):
            counts["handed_over"] += 1
    changed = LicenseEvent.objects.filter(
        action=plan_changes.Action.DOMAIN_CHANGED,
        created_at__lte=now - SWEEP_AFTER,
        created_at__gt=now - DOMAIN_SWEEP_WINDOW,
    ).values("license_id")
    told = ProvisioningRequest.objects.filter(
        mode__in=("celery", "webhook"), subscription__license_id__in=changed
    )
    for pk in list(told.values_list("pk", flat=True)[:200]):
        counts["domain_changes"] += send_domain_changes(pk)[0]
    ttl = timedelta(hours=get_settings().credentials_ttl_hours)
    counts["wiped"] = (
        ProvisioningRequest.objects.filter(completed_at__lte=now - ttl)
        .exclude(credentials_sealed="")
        .update(credentials_sealed="")
    )
    waiting = ProvisioningRequest.objects.filter(status=ProvisioningStatus.READY).exclude(
        credentials_sealed=""
    )
    for pk in list(waiting.values_list("pk", flat=True)[:200]):
        counts["emails"] += send_credentials(pk)
    return counts


@shared_task(
    name="saleor_license_plugin.provisioning_sweep", acks_late=True, reject_on_worker_lost=True
)
def provisioning_sweep_task() -> dict[str, int]:
    """Run periodically (Celery beat, e.g. every 15 minutes)."""
    with in_host(task_host()):
        return sweep()
