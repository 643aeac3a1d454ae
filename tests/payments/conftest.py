"""Fixtures for the payment tests: a real localstripe process, a fake MultiSafepay server."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from saleor_license_plugin.payments.multisafepay.client import (
    MultiSafepayClient,
    MultiSafepayConfig,
)
from saleor_license_plugin.payments.outcome import ExpectedPayment, WebhookOutcome
from saleor_license_plugin.payments.stripe.stripe_api import StripeConfig
from tests.payments.fake_multisafepay import FakeMultiSafepay
from tests.payments.httpservers import ScriptedServer
from tests.payments.servers import (  # noqa: F401  (re-exported for the tests)
    MSP_KEY,
    SECRETS,
    STRIPE_KEY,
    WEBHOOK_SECRET,
    ServerDidNotStart,
    run_localstripe,
    stripe_event,
    stripe_signature,
)


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe (a stateful fake Stripe from PyPI) in a subprocess for the session."""
    try:
        with run_localstripe(tmp_path_factory.mktemp("localstripe")) as url:
            yield url
    except ServerDidNotStart as exc:
        pytest.fail(str(exc))


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
