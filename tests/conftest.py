import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.cache import caches

from saleor_license_plugin.licensing.catalog import AddOnKind, AddOnTerms, EditionTerms, Term
from saleor_license_plugin.licensing.entitlements import reset_signer_cache
from saleor_license_plugin.licensing.lifecycle import Owner

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GENEROUS = {
    "verify_ip": "1000/60",
    "verify_key": "1000/60",
    "activate_ip": "1000/60",
    "activate_key": "1000/60",
}

# The Saleor tier has its own rootdir and settings (tests/saleor/pytest.ini): `make test-saleor`.
collect_ignore = ["saleor"]


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


@pytest.fixture(autouse=True)
def _fresh_signer():
    reset_signer_cache()
    yield
    reset_signer_cache()


@pytest.fixture
def now():
    return NOW


@pytest.fixture
def pro8():
    return EditionTerms(edition="Professional", rank=2, capacity=8, maintenance_rate=Decimal("0.2"))


@pytest.fixture
def pro16():
    return EditionTerms(
        edition="Professional", rank=2, capacity=16, maintenance_rate=Decimal("0.2")
    )


@pytest.fixture
def std8():
    return EditionTerms(edition="Standard", rank=1, capacity=8)


@pytest.fixture
def annual8():
    return EditionTerms(
        edition="Cloud", rank=1, capacity=8, term=Term.ANNUAL, maintenance_price=Decimal("50")
    )


@pytest.fixture
def extensions():
    return AddOnTerms(code="extensions", kind=AddOnKind.QUANTITY, units=10)


@pytest.fixture
def hot_standby():
    return AddOnTerms(code="hot_standby", kind=AddOnKind.FLAT)


@pytest.fixture
def alice():
    return Owner(user_id="user:alice", email="alice@example.com")


@pytest.fixture
def bob():
    return Owner(user_id="user:bob", email="bob@example.com")
