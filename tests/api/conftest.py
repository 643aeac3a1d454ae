# Every test counts in a Redis key space of its own (tests/conftest.py: ratelimit_cache).


def set_limits(settings, **limits):
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "RATE_LIMITS": {**settings.SALEOR_LICENSE["RATE_LIMITS"], **limits},
    }
