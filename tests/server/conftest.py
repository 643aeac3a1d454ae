from tests.api.conftest import ratelimit_cache  # noqa: F401  (same isolated rate-limit cache)
