"""Rate limits in real Redis: per client and per key digest, on verification, lookups and
activation; windows roll over; counters never name the key."""

import hashlib

import pytest

from saleor_license_plugin.licensing import keys, ratelimit
from saleor_license_plugin.licensing.keys import format_key, normalize
from tests.api.conftest import set_limits
from tests.api.helpers import ALICE, BOB, gql, issue

pytestmark = pytest.mark.django_db

VERIFY = """mutation($key: String!){ verifyLicenseKey(key: $key){ errors { code message } } }"""


def verify(key, ip="10.0.0.1", principal=ALICE):
    return gql(VERIFY, {"key": key}, principal=principal, ip=ip).codes("verifyLicenseKey")


def test_verification_is_limited_per_key_across_clients(settings):
    set_limits(settings, verify_key="3/60")
    _, key = issue("pro-8", ALICE)
    _, other = issue("pro-8", ALICE)
    assert [verify(key, ip=f"10.0.0.{i}") for i in range(3)] == [[], [], []]
    assert verify(key, ip="10.9.9.9") == ["RATE_LIMITED"]
    assert verify(key.lower().replace("-", " ")) == ["RATE_LIMITED"]  # same key, other spelling
    assert verify(other) == []


def test_verification_is_limited_per_client_across_keys(settings):
    set_limits(settings, verify_ip="3/60")
    keys_ = [issue("std-4", ALICE)[1] for _ in range(4)]
    assert [verify(k) for k in keys_[:3]] == [[], [], []]
    assert verify(keys_[3]) == ["RATE_LIMITED"]
    assert verify(keys_[3], ip="10.0.0.2") == []


def test_unknown_and_foreign_keys_count_like_any_other(settings):
    set_limits(settings, verify_key="2/60")
    unknown = format_key(keys.generate())
    assert verify(unknown, principal=BOB) == ["NOT_FOUND"]
    assert verify(unknown, principal=BOB) == ["NOT_FOUND"]
    assert verify(unknown, principal=BOB) == ["RATE_LIMITED"]


def test_license_by_key_query_shares_the_verification_limit(settings):
    set_limits(settings, verify_key="1/60")
    _, key = issue("pro-8", ALICE)
    query = "query($key: String){ license(key: $key){ keyHint } }"
    assert gql(query, {"key": key}, principal=ALICE).data["license"]
    assert gql(query, {"key": key}, principal=ALICE).codes() == ["RATE_LIMITED"]


def test_rate_limited_message_says_when_to_retry(settings):
    set_limits(settings, verify_ip="1/60")
    _, key = issue("pro-8", ALICE)
    verify(key)
    reply = gql(VERIFY, {"key": key}, principal=ALICE)
    message = reply.data["verifyLicenseKey"]["errors"][0]["message"]
    assert message.startswith("Too many requests; try again in ")


def test_counters_live_in_redis_and_never_name_the_key(settings, ratelimit_cache):
    set_limits(settings, verify_key="5/60")
    _, key = issue("pro-8", ALICE)
    verify(key)
    client = ratelimit_cache._cache.get_client(write=True)
    stored = [k.decode() for k in client.scan_iter(f"{ratelimit_cache.key_prefix}:*")]
    assert len(stored) == 2  # one per-client counter, one per-key counter
    canonical = normalize(key)
    digest = keys.digest(canonical, b"tests-only-key-secret")
    assert not any(canonical in k or digest in k or "10.0.0.1" in k for k in stored)
    assert all(0 < client.ttl(k) <= 61 for k in stored)


def test_client_address_counters_are_keyed_with_the_secret(settings, ratelimit_cache):
    """A counter's name must not be a plain hash of the address: the IPv4 space is hashed in
    seconds. It is an HMAC under a key derived from KEY_SECRET."""
    client = ratelimit_cache._cache.get_client(write=True)
    limit = ratelimit.Limit(5, 60)

    def counter_names() -> set[str]:
        return {k.decode() for k in client.scan_iter(f"{ratelimit_cache.key_prefix}:*")}

    ratelimit.hit("verify_ip", "10.0.0.1", limit, now=1_700_000_040.0)
    (first,) = counter_names()
    plain = hashlib.sha256(b"10.0.0.1").hexdigest()
    assert plain[:32] not in first and plain not in first
    assert "10.0.0.1" not in first

    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "KEY_SECRET": "another-secret"}
    ratelimit.hit("verify_ip", "10.0.0.1", limit, now=1_700_000_041.0)
    (second,) = counter_names() - {first}
    assert second != first


def test_windows_roll_over():
    limit = ratelimit.Limit(2, 60)
    start = 1_700_000_040.0  # 0 seconds into a window
    ratelimit.hit("test", "client", limit, now=start)
    ratelimit.hit("test", "client", limit, now=start + 30)
    with pytest.raises(ratelimit.RateLimited) as info:
        ratelimit.hit("test", "client", limit, now=start + 59)
    assert info.value.retry_after == 1
    ratelimit.hit("test", "client", limit, now=start + 60)  # a new window


@pytest.mark.parametrize(
    "text, expected",
    [("10/60", ratelimit.Limit(10, 60)), ("5", ratelimit.Limit(5, 60)), ("", None), (None, None)],
)
def test_limit_parsing(text, expected):
    assert ratelimit.Limit.parse(text) == expected


@pytest.mark.parametrize("text", ["0/60", "10/0", "ten/60", "-1/5"])
def test_bad_limits_are_configuration_errors(text):
    with pytest.raises(ValueError):
        ratelimit.Limit.parse(text)


def test_a_disabled_limit_does_not_count(settings):
    set_limits(settings, verify_key=None, verify_ip="")
    _, key = issue("pro-8", ALICE)
    assert all(verify(key) == [] for _ in range(30))


def test_limits_work_on_caches_other_than_redis(settings):
    settings.CACHES = {
        **settings.CACHES,
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl"},
    }
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "RATE_LIMIT_CACHE": "local"}
    limit = ratelimit.Limit(2, 60)
    ratelimit.hit("local", "client", limit, now=1_700_000_040.0)
    ratelimit.hit("local", "client", limit, now=1_700_000_041.0)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.hit("local", "client", limit, now=1_700_000_042.0)


def test_a_new_cache_object_per_request_reuses_one_redis_client(settings, ratelimit_cache):
    """Django keeps cache objects per thread and, under ASGI, per request context: each new one
    has its own connection pool. Counting must still go through one client per process, or
    every request leaks a Redis connection (issue 16). Each thread here is a new context.
    (The Redis server's own client count is checked against a real server process in
    tests/server/test_redis_connections.py; here other processes may share the server.)"""
    import threading

    from django.core.cache import caches

    set_limits(settings, verify_ip="100000/60")
    limit = ratelimit.Limit(100000, 60)
    ratelimit.hit("leak", "client", limit)
    seen = set()

    def one_request() -> None:
        seen.add(id(caches["ratelimit"]))
        ratelimit.hit("leak", "client", limit)

    for _ in range(200):
        thread = threading.Thread(target=one_request)
        thread.start()
        thread.join()
    assert len(seen) > 1  # the contexts really had cache objects of their own
    [client] = [c for key, c in ratelimit._clients.items() if settings.REDIS_URL in key[0]]
    pool = client.connection_pool
    assert pool._created_connections <= 2, pool._created_connections
