"""A real Celery worker on Redis: killing it in the middle of a multi-line order loses nothing
and duplicates nothing, because the task is acked late and every unit is idempotent."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import License, LicenseEvent
from tests.fulfillment.payloads import LineInput, order

ROOT = Path(__file__).resolve().parents[2]
BUYER = Principal("user:worker-test", "")  # no email: this test is about licenses
VISIBILITY = 4  # seconds; tests/celery_app.py reads it from VISIBILITY_TIMEOUT
LINES, UNITS = 20, 30  # 600 licenses: seconds of work to kill the worker in the middle of


def broker_url():
    base = settings.REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/{int(os.environ.get('CELERY_TEST_REDIS_DB', '9'))}"


def start_worker(tmp_path, name):
    db = connection.settings_dict
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker_url(),
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PYTHONPATH": str(ROOT),
        "VISIBILITY_TIMEOUT": str(VISIBILITY),
    }
    log = open(tmp_path / f"{name}.log", "w")  # closed when the test process exits
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.celery_app",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def restore_unacked(producer):
    """What kombu's Redis transport does on its own every ~100 s (a check every 10 s, acting on
    every tenth): put messages unacked past the visibility timeout back on the queue."""
    with producer.connection_for_write() as conn:
        conn.default_channel.qos.restore_visible(num=100)


def wait_for(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_order_loses_and_duplicates_nothing(tmp_path, now):
    producer = Celery("producer", broker=broker_url())
    producer.conf.broker_transport_options = {"visibility_timeout": VISIBILITY}
    redis.Redis.from_url(broker_url()).flushdb()
    lines = [LineInput("pro-8", LineAction.NEW, quantity=UNITS) for _ in range(LINES)]
    payload = order("worker-order", BUYER, lines, now)
    expected = LINES * UNITS

    first = start_worker(tmp_path, "first")
    try:
        producer.send_task("saleor_license_plugin.fulfill_order", args=(payload.to_dict(),))
        wait_for(lambda: License.objects.count() >= 20, 60, "the first worker to start issuing")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    done_when_killed = License.objects.count()
    assert 0 < done_when_killed < expected, "kill landed outside the order: make it bigger"

    second = start_worker(tmp_path, "second")
    try:
        time.sleep(VISIBILITY + 0.5)
        restore_unacked(producer)
        wait_for(lambda: License.objects.count() >= expected, 120, "the second worker to finish")
        time.sleep(1.5)  # a duplicate, if any, would land now
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)

    assert License.objects.count() == expected
    keys = LicenseEvent.objects.filter(action="issued").values_list("idempotency_key", flat=True)
    assert len(keys) == expected == len(set(keys))
    units = {(lic.origin_order_line_id) for lic in License.objects.all()}
    assert len(units) == LINES
    assert "saleor_license_plugin.fulfill_order" in (tmp_path / "second.log").read_text()
