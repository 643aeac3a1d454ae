"""Provisioning requests (issue 11): a paid SUBSCRIBE line asks the merchant's system for the
instance exactly once, signed: a webhook against a real HTTP server on 127.0.0.1 (retried with
backoff through Celery while it answers 500), a Celery task sent to a real Redis broker, or
nothing but a record for staff (manual)."""

import base64
import hashlib
import hmac
import json
import os
from datetime import timedelta

import pytest
import redis
from celery import Celery
from celery._state import get_current_app
from django.conf import settings as django_settings
from django.core import mail

from saleor_license_plugin.fulfillment import provisioning as delivery
from saleor_license_plugin.fulfillment.host import PlainHost
from saleor_license_plugin.fulfillment.orders import apply_order
from saleor_license_plugin.fulfillment.pipeline import fulfill
from saleor_license_plugin.licensing import provisioning
from saleor_license_plugin.licensing.keys import normalize
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import (
    LicenseEvent,
    ProvisioningRequest,
    ProvisioningStatus,
    Subscription,
)
from tests.fulfillment.payloads import LineInput, order
from tests.payments.httpservers import ScriptedServer

pytestmark = pytest.mark.django_db
PARTNER = Principal("user:partner", "sales@partner.example")
SECRET = "provisioning-secret-for-tests-0123456789"
DETAILS = {
    "mode": "prepaid",
    "domain": "pbx.acme.example",
    "data_location": "eu-west",
    "admin_username": "Admin",
    "company": "Acme GmbH",
    "contact_name": "Ada",
    "email": "ada@acme.example",
    "send_credentials_to_customer": True,
}


def broker_url():
    base = django_settings.REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/{int(os.environ.get('CELERY_TEST_REDIS_DB', '9'))}"


@pytest.fixture
def broker():
    """A Celery app on a Redis broker of this test run's own; tasks run eagerly (a retry
    runs again at once, as Celery runs an eager task's retries), messages sent by name
    (``send_task``) really go to Redis."""
    client = redis.Redis.from_url(broker_url())
    client.flushdb()
    previous = get_current_app()
    app = Celery("provisioning-tests", broker=broker_url())
    app.conf.task_always_eager = True
    app.set_current()
    yield client
    previous.set_current()
    client.flushdb()


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []


@pytest.fixture
def server():
    running = ScriptedServer().start()
    yield running
    running.stop()


def configure(settings, **values):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, **values}


def paid(order_id="o-1", now=None):
    from django.utils import timezone

    line = [LineInput("plan-m", LineAction.SUBSCRIBE, subscription=DETAILS)]
    return order(order_id, PARTNER, line, now or timezone.now())


def expected_signature(header, body):
    fields = dict(part.split("=", 1) for part in header.split(","))
    signed = f"{fields['t']}.".encode() + body
    return hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest() == fields["v1"]


def test_the_webhook_is_signed_retried_on_500_and_taken_once(
    settings, broker, server, django_capture_on_commit_callbacks
):
    configure(
        settings,
        PROVISIONING_MODE="webhook",
        PROVISIONING_URL=server.url + "/provision",
        PROVISIONING_SECRET=SECRET,
    )
    server.fail(500, count=2)
    payload = paid()
    with django_capture_on_commit_callbacks(execute=True):
        fulfill(payload, PlainHost())
    request = ProvisioningRequest.objects.get()
    assert len(server.requests) == 3  # 500, 500, 200
    bodies = {body for _, _, _, body in server.requests}
    for method, path, headers, body in server.requests:
        assert (method, path) == ("POST", "/provision")
        assert expected_signature(headers["x-license-signature"], body)
        assert provisioning.verify(body, headers["x-license-signature"], SECRET)
        assert not provisioning.verify(body + b" ", headers["x-license-signature"], SECRET)
        assert headers["idempotency-key"] == request.request_id
    assert len(bodies) == 1  # the same request each time
    data = json.loads(bodies.pop())
    subscription = Subscription.objects.get()
    key = normalize(subscription.license.display_key())
    grouped = subscription.license.display_key()
    assert key not in json.dumps(data) and grouped not in json.dumps(data)
    assert data["license_key_hint"] == subscription.license.key_hint
    assert data["instance"] == {
        "type": "cloud",
        "data_location": "eu-west",
        "domain": "pbx.acme.example",
        "admin_username": "Admin",
    }
    assert data["customer"]["email"] == "ada@acme.example" and data["plan"]["name"] == "Cloud PBX"
    assert base64.b64decode(data["subscription_id"]) == f"Subscription:{subscription.pk}".encode()
    request.refresh_from_db()
    assert request.status == ProvisioningStatus.REQUESTED and request.attempts == 3

    # Redelivered fulfillment, the sweep, a stray retry: nothing is sent again.
    with django_capture_on_commit_callbacks(execute=True):
        fulfill(payload, PlainHost())
    delivery.post_webhook(request.pk)
    delivery.sweep(now=request.created_at + timedelta(hours=1))
    assert len(server.requests) == 3
    assert ProvisioningRequest.objects.count() == 1
    assert LicenseEvent.objects.filter(action="provisioning_requested").count() == 1


def test_a_webhook_that_never_takes_it_fails_visibly(
    settings, broker, server, django_capture_on_commit_callbacks
):
    configure(
        settings,
        PROVISIONING_MODE="webhook",
        PROVISIONING_URL=server.url + "/provision",
        PROVISIONING_SECRET=SECRET,
    )
    server.fail(503, count=1000)
    with django_capture_on_commit_callbacks(execute=True):
        fulfill(paid(), PlainHost())
    request = ProvisioningRequest.objects.get()
    assert len(server.requests) == delivery.MAX_RETRIES + 1
    assert request.status == ProvisioningStatus.FAILED and request.last_error == "HTTP 503"
    assert delivery.backoff(0) == 10 and delivery.backoff(20) == delivery.BACKOFF_MAX


def test_the_celery_mode_sends_the_merchants_task_once(
    settings, broker, django_capture_on_commit_callbacks
):
    configure(
        settings,
        PROVISIONING_MODE="celery",
        PROVISIONING_TASK="merchant.provision_instance",
        PROVISIONING_SECRET=SECRET,
    )
    get_current_app().conf.task_always_eager = False  # send_task always goes to the broker
    payload = paid()
    with django_capture_on_commit_callbacks(execute=True):
        fulfill(payload, PlainHost())
    with django_capture_on_commit_callbacks(execute=True):
        fulfill(payload, PlainHost())  # redelivered
    request = ProvisioningRequest.objects.get()
    delivery.send_celery(request.pk)
    messages = broker.lrange("celery", 0, -1)
    assert len(messages) == 1
    message = json.loads(messages[0])
    assert message["headers"]["task"] == "merchant.provision_instance"
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert args == [] and kwargs["request"]["request_id"] == request.request_id
    body = provisioning.canonical_body(kwargs["request"])
    assert expected_signature(kwargs["signature"], body)
    request.refresh_from_db()
    assert request.status == ProvisioningStatus.REQUESTED


def test_manual_mode_records_the_request_for_staff(settings, django_capture_on_commit_callbacks):
    payload = paid()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        fulfill(payload, PlainHost())
        fulfill(payload, PlainHost())
    request = ProvisioningRequest.objects.get()
    assert request.status == ProvisioningStatus.MANUAL and request.mode == "manual"
    assert request.orderer_email == "sales@partner.example"
    assert callbacks == []  # nothing to hand over
    # The order ID and key went out at once, with the keys email (before provisioning).
    [keys] = [m for m in mail.outbox if "o-1" in m.subject]
    assert keys.to == ["sales@partner.example"] and "o-1" in keys.body


@pytest.mark.parametrize(
    "values, message",
    [
        ({"PROVISIONING_MODE": "carrier-pigeon"}, "PROVISIONING_MODE"),
        ({"PROVISIONING_MODE": "celery", "PROVISIONING_SECRET": SECRET}, "PROVISIONING_TASK"),
        (
            {"PROVISIONING_MODE": "webhook", "PROVISIONING_URL": "https://x.example/p"},
            "PROVISIONING_SECRET",
        ),
        (
            {
                "PROVISIONING_MODE": "webhook",
                "PROVISIONING_URL": "http://provisioning.example/p",
                "PROVISIONING_SECRET": SECRET,
            },
            "PROVISIONING_URL",
        ),
    ],
)
def test_provisioning_settings_are_checked(settings, values, message):
    from saleor_license_plugin.checks import provisioning_is_configured
    from saleor_license_plugin.conf import from_django_settings

    assert provisioning_is_configured(None) == []
    configure(settings, **values)
    with pytest.raises(ValueError, match=message):
        from_django_settings()
    (error,) = provisioning_is_configured(None)  # at startup, not on the first paid order
    assert error.id == "saleor_license_plugin.E003" and message in error.msg
    assert SECRET not in error.msg


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_the_webhook_with_backoff_until_it_is_taken(
    settings, server, tmp_path, monkeypatch
):
    """The fulfillment queues the delivery; a real Celery worker (Redis broker, the test
    database) POSTs it, gets a 500, retries after the backoff and stops once it is taken."""
    import time

    from django.utils import timezone

    from tests.fulfillment.test_worker import start_worker, wait_for

    values = {
        "PROVISIONING_MODE": "webhook",
        "PROVISIONING_URL": server.url + "/provision",
        "PROVISIONING_SECRET": SECRET,
    }
    configure(settings, **values)
    monkeypatch.setenv("SALEOR_LICENSE_TEST_OVERRIDES", json.dumps(values))
    redis.Redis.from_url(broker_url()).flushdb()
    previous = get_current_app()
    producer = Celery("provisioning-producer", broker=broker_url())
    producer.set_current()
    server.fail(500, count=1)
    worker = start_worker(tmp_path, "provisioning")
    try:
        fulfill(paid("o-worker", timezone.now()), PlainHost())  # autocommit: queued at once
        request = ProvisioningRequest.objects.get()
        wait_for(
            lambda: ProvisioningRequest.objects.filter(
                pk=request.pk, status=ProvisioningStatus.REQUESTED
            ).exists(),
            90,
            "the worker to deliver after one retry",
        )
        time.sleep(1.5)  # a duplicate, if any, would land now
    finally:
        previous.set_current()
        worker.terminate()
        worker.wait(20)
        redis.Redis.from_url(broker_url()).flushdb()
    statuses = [headers["idempotency-key"] for _, _, headers, _ in server.requests]
    assert statuses == [request.request_id] * 2  # the 500, then the one that was taken
    assert all(expected_signature(h["x-license-signature"], b) for _, _, h, b in server.requests)
    request.refresh_from_db()
    assert request.attempts == 2 and request.last_error == ""
    log = (tmp_path / "provisioning.log").read_text()
    assert "saleor_license_plugin.deliver_provisioning" in log and "retry" in log.lower()


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_post_the_request_once(settings, server):
    """Two runs at once (a redelivered task beside the sweep): the outbox claim lets one POST;
    the other finds it claimed and sends nothing."""
    import threading

    from django.db import connection
    from django.utils import timezone

    configure(
        settings,
        PROVISIONING_MODE="webhook",
        PROVISIONING_URL=server.url + "/provision",
        PROVISIONING_SECRET=SECRET,
    )
    results = apply_order(paid("o-race", timezone.now()))
    subscription = Subscription.objects.get()
    request, _ = provisioning.create_request(subscription, orderer_email="a@b.example")
    assert results[0].licenses == [subscription.license_id]
    server.stall(0.5, count=2)  # the first POST is slow: the second run comes meanwhile
    outcomes = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            outcomes.append(delivery.post_webhook(request.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(server.requests) == 1
    assert sorted(outcomes) == [False, True]  # the loser: "another run is sending it"
    request.refresh_from_db()
    assert request.status == ProvisioningStatus.REQUESTED


class DashboardHost(PlainHost):
    """Inside Saleor the host's settings are the Dashboard form's over the Django settings."""

    def __init__(self, form):
        self.form = form

    def license_settings(self):
        from saleor_license_plugin import conf

        return conf.from_dashboard(self.form, conf.from_django_settings())


def test_the_fulfillment_worker_uses_the_dashboards_provisioning_mode(
    settings, broker, server, django_capture_on_commit_callbacks
):
    """The Django settings give the URL and secret but keep manual; the Dashboard says
    webhook: the Celery worker fulfilling the order (outside any request) requests the
    instance by webhook."""
    configure(settings, PROVISIONING_URL=server.url + "/provision", PROVISIONING_SECRET=SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        fulfill(paid(), DashboardHost({"provisioning_mode": "webhook"}))
    request = ProvisioningRequest.objects.get()
    assert request.mode == "webhook" and request.status == ProvisioningStatus.REQUESTED
    [(_, _, headers, body)] = server.requests
    assert expected_signature(headers["x-license-signature"], body)


# --- domain changes (subscriptionDomainChange) --------------------------------------------------

DOMAIN = """mutation($id: ID!, $domain: String!, $reason: String!) {
  subscriptionDomainChange(id: $id, domain: $domain, reason: $reason) {
    provisioningMode subscription { domain } errors { field code } } }"""


def change_domain(domain, reason="typo at ordering"):
    """What staff do: the API's mutation (which hands the change over once it commits)."""
    from saleor_license_plugin.graphql.core import to_global_id
    from tests.api.helpers import STAFF, gql

    sid = to_global_id("Subscription", Subscription.objects.get().pk)
    variables = {"id": sid, "domain": domain, "reason": reason}
    return gql(DOMAIN, variables, principal=STAFF).payload("subscriptionDomainChange")


def webhook_mode(settings, server):
    configure(
        settings,
        PROVISIONING_MODE="webhook",
        PROVISIONING_URL=server.url + "/provision",
        PROVISIONING_SECRET=SECRET,
    )


def test_a_domain_change_is_posted_to_the_webhook_signed_once_and_retried(
    settings, broker, server, django_capture_on_commit_callbacks
):
    webhook_mode(settings, server)
    with django_capture_on_commit_callbacks(execute=True):
        fulfill(paid(), PlainHost())
    request = ProvisioningRequest.objects.get()
    assert len(server.requests) == 1  # the instance's request
    server.fail(500, count=1)
    with django_capture_on_commit_callbacks(execute=True):
        changed = change_domain("pbx2.acme.example")
    assert changed["provisioningMode"] == "webhook" and changed["errors"] == []
    assert len(server.requests) == 3  # the 500, then taken on the retry
    event = LicenseEvent.objects.get(action="domain_changed")
    for method, path, headers, body in server.requests[1:]:
        assert (method, path) == ("POST", "/provision")
        assert provisioning.verify(body, headers["x-license-signature"], SECRET)
        assert headers["idempotency-key"] == f"{request.request_id}:domain:{event.pk}"
    assert server.requests[1][3] == server.requests[2][3]  # the same change each time
    data = json.loads(server.requests[2][3])
    assert data["type"] == "subscription.domain_changed"
    assert data["provisioning_request_id"] == request.request_id
    assert data["instance"]["old_domain"] == "pbx.acme.example"
    assert data["instance"]["domain"] == "pbx2.acme.example"
    key = normalize(Subscription.objects.get().license.display_key())
    assert key not in json.dumps(data) and SECRET not in json.dumps(data)

    # A second change is a second request; redelivery and the sweep send nothing again.
    with django_capture_on_commit_callbacks(execute=True):
        change_domain("pbx3.acme.example")
    assert len(server.requests) == 4
    second = json.loads(server.requests[3][3])
    assert (second["instance"]["old_domain"], second["instance"]["domain"]) == (
        "pbx2.acme.example",
        "pbx3.acme.example",
    )
    assert delivery.deliver_domain_changes.delay(request.pk).get() is True
    from django.utils import timezone

    delivery.sweep(now=timezone.now() + timedelta(hours=1))
    assert len(server.requests) == 4
    assert sent_count(delivery.DOMAIN_KIND) == 2


def sent_count(kind):
    from saleor_license_plugin.models import OutboxMessage

    return OutboxMessage.objects.filter(kind=kind, status="sent").count()


def test_domain_changes_the_webhook_refused_are_sent_by_the_sweep_in_order(
    settings, broker, server, django_capture_on_commit_callbacks
):
    """The webhook refuses past every retry: a later change never overtakes the first; once
    the endpoint takes them, the sweep sends both, oldest first, once each."""
    from django.utils import timezone

    webhook_mode(settings, server)
    with django_capture_on_commit_callbacks(execute=True):
        fulfill(paid(), PlainHost())
    server.fail(503, count=1000)
    with django_capture_on_commit_callbacks(execute=True):
        change_domain("pbx2.acme.example")
    refused = len(server.requests) - 1
    assert refused == delivery.MAX_RETRIES + 1
    with django_capture_on_commit_callbacks(execute=True):
        change_domain("pbx3.acme.example")
    later = [json.loads(body) for _, _, _, body in server.requests[1 + refused :]]
    assert {data["instance"]["domain"] for data in later} == {"pbx2.acme.example"}
    server.fail(503, count=0)
    server.requests.clear()
    counts = delivery.sweep(now=timezone.now() + timedelta(hours=1))
    assert counts["domain_changes"] == 2
    sent = [json.loads(body)["instance"]["domain"] for _, _, _, body in server.requests]
    assert sent == ["pbx2.acme.example", "pbx3.acme.example"]
    delivery.sweep(now=timezone.now() + timedelta(hours=2))
    assert len(server.requests) == 2


def test_a_domain_change_sends_the_merchants_celery_task_once(
    settings, broker, django_capture_on_commit_callbacks
):
    configure(
        settings,
        PROVISIONING_MODE="celery",
        PROVISIONING_TASK="merchant.provision_instance",
        PROVISIONING_SECRET=SECRET,
    )
    get_current_app().conf.task_always_eager = False  # send_task always goes to the broker
    with django_capture_on_commit_callbacks(execute=True):
        fulfill(paid(), PlainHost())
    broker.delete("celery")
    with django_capture_on_commit_callbacks(execute=True):
        assert change_domain("pbx2.acme.example")["provisioningMode"] == "celery"
    request = ProvisioningRequest.objects.get()
    assert delivery.send_domain_changes(request.pk) == (0, True)  # sent already
    [message] = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    assert message["headers"]["task"] == "merchant.provision_instance"
    _, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert kwargs["request"]["type"] == "subscription.domain_changed"
    assert kwargs["request"]["instance"]["domain"] == "pbx2.acme.example"
    assert expected_signature(kwargs["signature"], provisioning.canonical_body(kwargs["request"]))


def test_in_manual_mode_a_domain_change_sends_nothing_and_says_so(
    settings, django_capture_on_commit_callbacks
):
    fulfill(paid(), PlainHost())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        changed = change_domain("pbx2.acme.example")
    assert changed["provisioningMode"] == "manual"
    assert changed["subscription"] == {"domain": "pbx2.acme.example"}
    assert callbacks == [] and sent_count(delivery.DOMAIN_KIND) == 0
