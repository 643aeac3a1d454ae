"""Django settings of the Saleor benchmark's server (``benchmarks/saleor_bench.py``).

Saleor's own production settings (``saleor.settings``: every built-in plugin plus the ones
discovered through entry points, Redis cache from ``CACHE_URL``, ``DEBUG`` from the
environment), with two additions for the benchmark only:

- ``SALEOR_LICENSE``: a fixed key secret and raised rate limits (the counters stay on: they
  are the production code path);
- a first middleware that counts SQL statements of a request when it carries
  ``X-Bench-Count`` (``benchmarks.saleor_sql``); timed requests never carry it.
"""

import json
import os

from saleor.settings import *  # noqa: F403
from saleor.settings import MIDDLEWARE

SALEOR_LICENSE = {
    "KEY_SECRET": os.environ.get("LICENSE_KEY_SECRET", "saleor-bench-key-secret"),
    "RATE_LIMITS": json.loads(os.environ.get("LICENSE_RATE_LIMITS", "{}")) or None,
}
if SALEOR_LICENSE["RATE_LIMITS"] is None:
    del SALEOR_LICENSE["RATE_LIMITS"]

MIDDLEWARE = ["benchmarks.saleor_sql.count_queries", *MIDDLEWARE]
