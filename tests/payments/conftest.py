"""Fixtures for the payment tests: a real localstripe process, a fake MultiSafepay server."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from saleor_license_plugin.payments.multisafepay.client import (
    MultiSafepayClient,
    MultiSafepayConfig,
)
from saleor_license_plugin.payments.outcome import ExpectedPayment, WebhookOutcome
from saleor_license_plugin.payments.stripe.stripe_api import StripeConfig

from .fake_multisafepay import FakeMultiSafepay
from .httpservers import ScriptedServer

STRIPE_KEY = "sk_test_slp_never_log_me_4242"
WEBHOOK_SECRET = "whsec_slp_never_log_me_too"
MSP_KEY = "msp_api_key_never_log_me_0001"
SECRETS = (STRIPE_KEY, WEBHOOK_SECRET, MSP_KEY)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe (a stateful fake Stripe from PyPI) in a subprocess for the session."""
    port = _free_port()
    log = Path(tmp_path_factory.mktemp("localstripe")) / "localstripe.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"localstripe exited: {log.read_text()[-2000:]}")
            try:
                requests.get(url + "/v1/customers", auth=(STRIPE_KEY, ""), timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail("localstripe did not start within 30 s")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def stripe_config(localstripe: str) -> StripeConfig:
    return StripeConfig(
        secret_api_key=STRIPE_KEY,
        public_api_key="pk_test_slp",
        webhook_secret=WEBHOOK_SECRET,
        api_base=localstripe,
        read_timeout=10,
    )


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture
def msp() -> Iterator[FakeMultiSafepay]:
    server = FakeMultiSafepay(MSP_KEY)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def msp_client(msp: FakeMultiSafepay) -> MultiSafepayClient:
    return MultiSafepayClient(
        MultiSafepayConfig(api_key=MSP_KEY, base_url=msp.base_url, read_timeout=0.5)
    )


class Payments:
    """The shop's side, as plain values: what a lookup returns and what was applied."""

    def __init__(self) -> None:
        self.known: dict[str, ExpectedPayment] = {}
        self.applied: list[WebhookOutcome] = []

    def add(self, reference: str, amount: str, currency: str, payment_id: str = "1") -> None:
        self.known[reference] = ExpectedPayment(reference, Decimal(amount), currency, payment_id)

    def lookup(self, reference: str) -> ExpectedPayment | None:
        return self.known.get(reference)

    def apply(self, outcome: WebhookOutcome) -> None:
        self.applied.append(outcome)


@pytest.fixture
def payments() -> Payments:
    return Payments()


def stripe_signature(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def stripe_event(event_id: str, event_type: str, obj: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    ).encode()
