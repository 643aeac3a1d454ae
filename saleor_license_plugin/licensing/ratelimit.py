"""Fixed-window rate limits through Django's cache (Redis in production, so they hold across
web nodes).

A limit is ``"<count>/<seconds>"``. Each window has one counter, created with its expiry and
incremented atomically: on Redis in one MULTI/EXEC round trip, on other caches with
``cache.add`` (only the first caller creates it) and ``cache.incr``.
Identities become cache keys only as an HMAC under a key derived from ``KEY_SECRET``
(:func:`keys.pseudonym`): a key digest is already opaque, and a client address must not be
recoverable from a cache dump by hashing the whole address space.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, cast

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing import keys
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode

PREFIX = "slp:rl:"


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str | None) -> Limit | None:
        """``"60/60"`` → 60 per minute; ``None`` or ``""`` → no limit."""
        if not text:
            return None
        count, _, seconds = str(text).partition("/")
        limit = cls(int(count), int(seconds or 60))
        if limit.count < 1 or limit.seconds < 1:
            raise ValueError(f"Rate limit {text!r} must be '<count>/<seconds>', both positive.")
        return limit


class RateLimited(LicenseError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            LicenseErrorCode.RATE_LIMITED,
            f"Too many requests; try again in {retry_after} seconds.",
        )
        self.retry_after = retry_after


def configured_limit(scope: str) -> Limit | None:
    return Limit.parse(get_settings().rate_limits.get(scope))


def hit(scope: str, identity: str, limit: Limit | None, now: float | None = None) -> None:
    """Count one request of ``identity`` in ``scope``; raise :class:`RateLimited` when over."""
    hit_many([(scope, identity, limit)], now=now)


def hit_many(checks: list[tuple[str, str, Limit | None]], now: float | None = None) -> None:
    """Count one request against each ``(scope, identity, limit)`` (one cache round trip on
    Redis); raise :class:`RateLimited` with the longest wait if any is over."""
    now = time.time() if now is None else now
    limited = [(scope, identity, limit) for scope, identity, limit in checks if limit is not None]
    if not limited:
        return
    secret = get_settings().key_secret
    counters = []
    for scope, identity, limit in limited:
        window = int(now // limit.seconds)
        ident = keys.pseudonym(identity, secret)[:32]
        counters.append((f"{PREFIX}{scope}:{ident}:{window}", limit, window))
    counts = _increment([(key, limit.seconds + 1) for key, limit, _ in counters])
    waits = [
        max(1, int((window + 1) * limit.seconds - now))
        for (_, limit, window), count in zip(counters, counts, strict=True)
        if count > limit.count
    ]
    if waits:
        raise RateLimited(max(waits))


def _increment(keys: list[tuple[str, int]]) -> list[int]:
    """Bump each counter, creating it with its timeout; the new values."""
    cache = caches[get_settings().rate_limit_cache]
    if isinstance(cache, RedisCache):
        # One round trip, atomic in MULTI/EXEC: each counter is created with its expiry and
        # bumped together (so none can outlive its window). Django's Redis serializer stores
        # ints as plain integers, so the cache API reads the same values.
        client = _redis_client(cache)
        with client.pipeline(transaction=True) as pipe:
            for key, timeout in keys:
                full_key = cache.make_and_validate_key(key)
                pipe.set(full_key, 0, ex=timeout, nx=True)
                pipe.incr(full_key)
            return [int(value) for value in pipe.execute()[1::2]]
    return [_increment_generic(cache, key, timeout) for key, timeout in keys]


# One redis-py client, with its own connection pool, per process and cache configuration.
# Django's RedisCache is no place to keep it: under ASGI every request gets a new cache object
# with a new pool, so a client cached per cache object (or per pool) holds one Redis connection
# per request forever (issue 16). The key is the cache's configuration, so there are as many
# clients as configured Redis caches; redis-py clients are thread-safe, and a pool notices a
# fork (prefork Celery, gunicorn) and opens fresh connections in the child.
_clients: dict[tuple[str, ...], Any] = {}
_clients_lock = threading.Lock()


def _redis_client(cache: RedisCache) -> Any:
    backend = cast(Any, cache)._cache
    # Writes go to the first server (Django's own rule for ``write=True``).
    key = (backend._servers[0], repr(sorted(backend._pool_options.items())))
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                pool = backend._pool_class.from_url(backend._servers[0], **backend._pool_options)
                client = _clients[key] = backend._client(connection_pool=pool)
    return client


def _increment_generic(cache: Any, key: str, timeout: int) -> int:
    # add() creates the window's counter once; incr() bumps it. If the counter expired between
    # the two calls, start it again: at worst one request counts in a new window.
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:
        cache.add(key, 1, timeout=timeout)
        return 1
