"""Rate-limited requests must not open a Redis connection each (issue 16): under ASGI, Django
builds a new cache object per request, so anything cached per cache object leaks.

The server runs in a subprocess with a Redis database of its own, so the connections it holds
are the Redis clients whose ``db`` is that database."""

import pytest
import redis

from tests.server.live import Client, serve, server_env

DB = 11
REQUESTS = 2000


def clients_on(url: str, db: int) -> int:
    admin = redis.Redis.from_url(url, db=0)
    try:
        return sum(1 for client in admin.client_list() if int(client["db"]) == db)
    finally:
        admin.close()


@pytest.mark.slow
@pytest.mark.parametrize("interface", ["asgi", "wsgi"])
def test_rate_limited_requests_leave_redis_clients_flat(interface, settings, tmp_path):
    url = settings.REDIS_URL.rsplit("/", 1)[0] + f"/{DB}"
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
            before = clients_on(url, DB)
            statuses = {client.post_json("/activation/", body) for _ in range(REQUESTS)}
            after = clients_on(url, DB)
        finally:
            client.close()
    # Each request went through the rate limit (an unknown or malformed key still counts).
    assert statuses <= {400, 404}, statuses
    assert before >= 1
    assert after - before <= 3, f"{after - before} Redis clients more after {REQUESTS} requests"
