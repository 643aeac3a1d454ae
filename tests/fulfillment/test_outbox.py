"""Every message exactly once, or visibly not at all (issue 9: 50 concurrent runs of the
fulfillment task sent the keys 18 and 7 times)."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connection

from saleor_license_plugin.fulfillment import outbox
from saleor_license_plugin.fulfillment.tasks import fulfill_order
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import License, OutboxMessage, OutboxStatus
from tests.fulfillment.payloads import LineInput, order

ALICE = Principal("user:alice", "alice@example.com")


def run_concurrently(count, target):
    barrier = threading.Barrier(count)
    errors = []

    def worker():
        try:
            barrier.wait()
            target()
        except Exception as exc:  # reported below; a thread must not swallow it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_runs_of_the_task_email_the_keys_once(settings, now):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    payload = order("o-concurrent", ALICE, [LineInput("pro-8", LineAction.NEW, quantity=2)], now)
    run_concurrently(50, lambda: fulfill_order.apply(args=[payload.to_dict()], throw=True))
    assert len(mail.outbox) == 1
    assert License.objects.filter(origin_order_id="o-concurrent").count() == 2
    row = OutboxMessage.objects.get()
    assert (row.status, row.recipient) == (OutboxStatus.SENT, "alice@example.com")


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_one_message_send_it_once(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []

    def send():
        outbox.send_once(
            "test:once",
            kind="test",
            recipient="a@example.com",
            build=lambda: EmailMessage("s", "b", to=["a@example.com"]),
        )

    run_concurrently(30, send)
    assert len(mail.outbox) == 1


class Refusing(EmailMessage):
    def send(self, fail_silently=False):
        raise ConnectionRefusedError("smtp.example.com refused user:secret")


@pytest.mark.django_db
def test_a_refused_message_is_recorded_without_its_text_and_retried_later(settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    sent = outbox.send_once(
        "test:refused", kind="test", recipient="a@example.com", build=lambda: Refusing("s", "b")
    )
    assert sent is False
    row = OutboxMessage.objects.get(key="test:refused")
    assert (row.status, row.last_error) == (OutboxStatus.FAILED, "ConnectionRefusedError")
    assert "secret" not in caplog.text and "test:refused" in caplog.text
    assert [m.key for m in outbox.due_for_retry()] == ["test:refused"]
    good = lambda: EmailMessage("s", "b", to=["a@example.com"])  # noqa: E731
    assert outbox.send_once("test:refused", kind="test", recipient="a@example.com", build=good)
    assert len(mail.outbox) == 1 and outbox.due_for_retry() == []


@pytest.mark.django_db
def test_a_claim_whose_worker_died_is_taken_over_after_the_lease(settings, now):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    assert outbox.claim("test:lease", kind="test", recipient="a@example.com", now=now)
    # The claimer died. Within the lease nobody else sends; after it, one run does.
    build = lambda: EmailMessage("s", "b", to=["a@example.com"])  # noqa: E731
    soon = now + timedelta(minutes=1)
    later = now + outbox.LEASE + timedelta(seconds=1)
    assert not outbox.send_once("test:lease", kind="test", recipient="x", build=build, now=soon)
    assert [m.key for m in outbox.due_for_retry(later)] == ["test:lease"]
    assert outbox.send_once("test:lease", kind="test", recipient="x", build=build, now=later)
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get(key="test:lease").attempts == 2
