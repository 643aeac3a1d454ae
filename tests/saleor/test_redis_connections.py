"""Issue 16 through Saleor's plugin route: under ASGI each request gets its own Django cache
object (and connection pool); the rate limits must still use one Redis client per process.
Requests go through Django's ASGI handler (AsyncClient), each in a context of its own, as
uvicorn serves Saleor."""

import asyncio
import json
import uuid

import redis
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.test import AsyncClient

from saleor_license_plugin.licensing import ratelimit

from license_fixtures import PLUGIN_ID

REQUESTS = 200


def test_rate_limited_requests_through_saleors_route_share_one_redis_client(
    license_plugin, channel_USD, settings
):
    name = f"slp-saleor-leak-{uuid.uuid4().hex[:8]}"
    url = f"redis://127.0.0.1:6379/4?client_name={name}"
    settings.CACHES = {
        **settings.CACHES,
        "license-rate-limits": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": name,  # counters of this run alone
        },
    }
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "RATE_LIMIT_CACHE": "license-rate-limits",
    }
    path = f"/plugins/global/{PLUGIN_ID}/activation/"
    body = json.dumps({"key": "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-A", "fingerprint": "device-1"})
    cache_objects = set()

    async def requests():
        statuses = set()
        for _ in range(REQUESTS):
            # A task per request, as uvicorn runs them: each a context of its own.
            request = AsyncClient().post(path, body, content_type="application/json")
            response = await asyncio.create_task(request)
            statuses.add(response.status_code)
        return statuses

    def named_clients():
        admin = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        try:
            return sum(1 for client in admin.client_list() if client.get("name") == name)
        finally:
            admin.close()

    original = ratelimit._increment

    def counting(keys):
        cache_objects.add(id(caches[settings.SALEOR_LICENSE["RATE_LIMIT_CACHE"]]))
        return original(keys)

    ratelimit._increment = counting
    try:
        statuses = async_to_sync(requests)()
    finally:
        ratelimit._increment = original
    # Every request was counted, in one counter across contexts: the default activate_ip
    # limit (120 an hour) refuses the later ones.
    assert statuses == {400, 429}, statuses
    assert len(cache_objects) > 1  # the contexts had cache objects of their own
    assert named_clients() <= 3, named_clients()
