"""Real local payment providers and the provider-side helpers, shared by the payment tests
(``tests/payments``) and the Saleor tier (``tests/saleor``). Plain code, no fixtures.

* :func:`run_localstripe`: localstripe (a stateful fake Stripe from PyPI) in a subprocess, from
  its own virtualenv (``$LOCALSTRIPE``, set by the Makefile to ``.venv-localstripe``), so its
  aiohttp never enters the environment under test.
* :func:`card_payment_method` / :func:`authenticate_intent`: what Stripe.js does in the
  customer's browser (create a PaymentMethod, pass or fail 3-D Secure).
* :func:`stripe_event` / :func:`stripe_signature`: a webhook delivery as Stripe signs it.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

STRIPE_KEY = "sk_test_slp_never_log_me_4242"
WEBHOOK_SECRET = "whsec_slp_never_log_me_too"
MSP_KEY = "msp_api_key_never_log_me_0001"
SECRETS = (STRIPE_KEY, WEBHOOK_SECRET, MSP_KEY)

CARD_OK = "4242424242424242"
CARD_3DS = "4000002760003184"  # requires authentication


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerDidNotStart(RuntimeError):
    pass


REPO_LOCALSTRIPE = Path(__file__).resolve().parents[2] / ".venv-localstripe" / "bin" / "localstripe"


def localstripe_command() -> list[str]:
    """How to start localstripe: ``$LOCALSTRIPE`` (an executable), else the repository's
    ``.venv-localstripe`` (``make localstripe``), else ``python -m localstripe`` if importable."""
    if executable := os.environ.get("LOCALSTRIPE"):
        if not os.access(executable, os.X_OK):
            raise ServerDidNotStart(f"LOCALSTRIPE={executable} is not an executable")
        return [executable]
    if os.access(REPO_LOCALSTRIPE, os.X_OK):
        return [str(REPO_LOCALSTRIPE)]
    if importlib.util.find_spec("localstripe") is not None:
        return [sys.executable, "-m", "localstripe"]
    raise ServerDidNotStart(
        "localstripe not found: run `make localstripe` (builds .venv-localstripe) "
        "or set LOCALSTRIPE=/path/to/localstripe"
    )


@contextmanager
def run_localstripe(workdir: Path, startup_seconds: float = 30) -> Iterator[str]:
    """Start localstripe on a free port, yield its base URL, stop it afterwards."""
    port = free_port()
    log = Path(workdir) / "localstripe.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*localstripe_command(), "--port", str(port), "--from-scratch"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if proc.poll() is not None:
                raise ServerDidNotStart(f"localstripe exited: {log.read_text()[-2000:]}")
            try:
                requests.get(url + "/v1/customers", auth=(STRIPE_KEY, ""), timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise ServerDidNotStart(
                        f"localstripe did not start within {startup_seconds} s"
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def card_payment_method(localstripe: str, number: str = CARD_OK) -> str:
    """A PaymentMethod, as Stripe.js would create it in the customer's browser."""
    response = requests.post(
        f"{localstripe}/v1/payment_methods",
        data={
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
        auth=(STRIPE_KEY, ""),
        timeout=5,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def authenticate_intent(
    localstripe: str, intent_id: str, client_secret: str, success: bool
) -> None:
    """The customer passing (or failing) 3-D Secure: localstripe's stand-in for Stripe.js."""
    response = requests.post(
        f"{localstripe}/v1/payment_intents/{intent_id}/_authenticate",
        data={"client_secret": client_secret, "success": str(success).lower()},
        auth=(STRIPE_KEY, ""),
        timeout=5,
    )
    response.raise_for_status()


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
