import uuid

import pytest
from django.core.cache import caches

GENEROUS = {
    "verify_ip": "1000/60",
    "verify_key": "1000/60",
    "activate_ip": "1000/60",
    "activate_key": "1000/60",
}


@pytest.fixture(autouse=True)
def ratelimit_cache(settings):
    """Rate limits count in real Redis, under a key prefix of this test alone, removed after."""
    prefix = f"slp-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": prefix,
        },
    }
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "RATE_LIMIT_CACHE": "ratelimit",
        "RATE_LIMITS": GENEROUS,
    }
    cache = caches["ratelimit"]
    yield cache
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def set_limits(settings, **limits):
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "RATE_LIMITS": {**settings.SALEOR_LICENSE["RATE_LIMITS"], **limits},
    }
