"""The client address the per-IP limits count, under the server command docs/api.md documents,
run for real (uvicorn in a subprocess, tests/server/live.py).

uvicorn trusts ``X-Forwarded-For`` from 127.0.0.1 unless told not to (``--proxy-headers`` is
on by default): a client on loopback, or behind a local proxy that passes the header on, could
then name any address and get a fresh per-IP counter with each request (issue 9).

Each server counts in its own process memory (no ``REDIS_URL``), so nothing else running on
this machine shares its counters."""

import pytest

from saleor_license_plugin.licensing.keys import format_key, generate
from tests.server.live import Client, documented_options, serve, server_env

pytestmark = pytest.mark.slow

# An unknown (well-formed) key: every request counts against the per-IP limit, then 404.
BODY = {"key": format_key(generate()), "fingerprint": "device-0001"}
LIMITS = '{"activate_ip": "3/600", "activate_key": "1000/600"}'


def statuses(port: int, forwarded: list[str]) -> list[int]:
    client = Client(port)
    try:
        return [
            client.post_json("/activation/", BODY, {"X-Forwarded-For": value})
            for value in forwarded
        ]
    finally:
        client.close()


def test_the_documented_command_does_not_trust_proxy_headers():
    assert "--no-proxy-headers" in documented_options()


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_loopback_clients_share_one_counter_whatever_they_forward(interface, tmp_path):
    env = server_env(tmp_path, "", LICENSE_RATE_LIMITS=LIMITS)
    with serve(interface, env) as port:
        answers = statuses(port, [f"198.51.100.{i}" for i in range(6)])
    assert answers[:3] == [404, 404, 404]
    assert answers[3:] == [429, 429, 429], answers


def test_behind_one_proxy_the_address_it_appended_is_the_client(tmp_path):
    """LICENSE_TRUSTED_PROXY_HOPS=1: the last X-Forwarded-For entry (the one the proxy added)
    names the client; whatever the client put in front of it does not matter."""
    env = server_env(tmp_path, "", LICENSE_RATE_LIMITS=LIMITS, LICENSE_TRUSTED_PROXY_HOPS="1")
    with serve("wsgi", env) as port:
        spoofed = statuses(port, [f"10.0.0.{i}, 203.0.113.7" for i in range(4)])
        other = statuses(port, ["203.0.113.8", "10.9.9.9, 203.0.113.8"])
    assert spoofed == [404, 404, 404, 429]
    assert other == [404, 404]
