"""Rate-limited requests must not open a Redis connection each (issue 16): under ASGI, Django
builds a new cache object per request, so anything cached per cache object leaks.

The server runs in a subprocess whose Redis URL names its connections (``client_name``), so
the connections it holds are the Redis clients with that name, whatever else uses the server."""

import uuid

import pytest
import redis

from tests.server.live import Client, serve, server_env

DB = 11
REQUESTS = 2000


def clients_named(url: str, name: str) -> int:
    admin = redis.Redis.from_url(url.split("?", 1)[0], db=0)
    try:
        return sum(1 for client in admin.client_list() if client.get("name") == name)
    finally:
        admin.close()


@pytest.mark.slow
@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_rate_limited_requests_leave_redis_clients_flat(interface, settings, tmp_path):
    name = f"slp-leak-test-{uuid.uuid4().hex[:8]}"
    url = settings.REDIS_URL.rsplit("/", 1)[0] + f"/{DB}?client_name={name}"
    env = server_env(
        tmp_path,
        url,
        LICENSE_RATE_LIMITS='{"activate_ip": "1000000/60", "activate_key": "1000000/60"}',
    )
    with serve(interface, env) as port:
        client = Client(port)
        body = {"key": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", "fingerprint": "device-1"}
        try:
            # Warm up: the first requests open the pools a process legitimately keeps.
            for _ in range(50):
                client.post_json("/activation/", body)
            before = clients_named(url, name)
            statuses = {client.post_json("/activation/", body) for _ in range(REQUESTS)}
            after = clients_named(url, name)
        finally:
            client.close()
    # Each request went through the rate limit (an unknown or malformed key still counts).
    assert statuses <= {400, 404}, statuses
    assert before >= 1
    assert after - before <= 3, f"{after - before} Redis clients more after {REQUESTS} requests"
