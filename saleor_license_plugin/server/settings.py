"""Settings of the standalone server, from the environment.

| variable | default | meaning |
|---|---|---|
| ``SECRET_KEY`` | required | Django's secret |
| ``LICENSE_KEY_SECRET`` | required | ``SALEOR_LICENSE["KEY_SECRET"]``; never change it |
| ``LICENSE_SIGNING_KEY`` | generated, kept in the DB | Ed25519 private key (PEM or base64 seed) |
| ``DATABASE_URL`` | SQLite in ``LICENSE_DATA_DIR`` | e.g. ``postgres://user@host:5432/licenses`` |
| ``REDIS_URL`` | local memory | the cache (rate limits): Redis when several processes serve |
| ``LICENSE_CATALOG`` | the packaged demo catalog | catalog JSON file |
| ``LICENSE_DATA_DIR`` | ``./.demo`` | where the SQLite file lives |
| ``LICENSE_RATE_LIMITS`` | the plugin's defaults | JSON object, e.g. ``{"verify_ip": "600/60"}`` |
| ``LICENSE_ANONYMOUS_VERIFICATION`` | ``off`` | ``off`` or ``minimal`` |
| ``LICENSE_TRUSTED_PROXY_HOPS`` | ``0`` | proxies in front that append to ``X-Forwarded-For`` |
| ``CONN_MAX_AGE`` | ``0`` | seconds to keep DB connections (WSGI servers with a thread pool) |
| ``LICENSE_TOKEN_CACHE_SECONDS`` | ``10`` | how long a resolved API token is remembered |
| ``ALLOWED_HOSTS`` | ``127.0.0.1,localhost`` | comma-separated |
| ``DEBUG`` | off | ``1`` to turn on |
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable.")
    return value


SECRET_KEY = _required("SECRET_KEY")
DEBUG = os.environ.get("DEBUG") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = ["saleor_license_plugin", "saleor_license_plugin.server"]
# No sessions, no cookies, no CSRF middleware: every caller authenticates per request.
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
ROOT_URLCONF = "saleor_license_plugin.server.urls"
WSGI_APPLICATION = "saleor_license_plugin.server.wsgi.application"

DATA_DIR = Path(os.environ.get("LICENSE_DATA_DIR", ".demo")).resolve()
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'licenses.sqlite3'}",
        # Keep 0 under ASGI (a thread per request); a WSGI server with a fixed thread pool
        # (uvicorn --interface wsgi, gunicorn gthread) may reuse connections: CONN_MAX_AGE=60.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "license-server",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SALEOR_LICENSE: dict[str, object] = {
    "KEY_SECRET": _required("LICENSE_KEY_SECRET"),
    "SIGNING_KEY": os.environ.get("LICENSE_SIGNING_KEY") or None,
    "CATALOG_FILE": os.environ.get("LICENSE_CATALOG") or None,
    "ANONYMOUS_VERIFICATION": os.environ.get("LICENSE_ANONYMOUS_VERIFICATION", "off"),
    # Run uvicorn with --no-proxy-headers (docs/api.md, "Client addresses and proxies").
    "TRUSTED_PROXY_HOPS": int(os.environ.get("LICENSE_TRUSTED_PROXY_HOPS") or 0),
}
if os.environ.get("LICENSE_RATE_LIMITS"):
    SALEOR_LICENSE["RATE_LIMITS"] = json.loads(os.environ["LICENSE_RATE_LIMITS"])

# Seconds a resolved API token is remembered per process (0: look it up on every request).
LICENSE_TOKEN_CACHE_SECONDS = int(os.environ.get("LICENSE_TOKEN_CACHE_SECONDS", "10"))

# The benchmark's baseline view (benchmarks/run.py); never set in production.
LICENSE_BENCHMARK = os.environ.get("LICENSE_BENCHMARK") == "1"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Email templates (renewal reminders) from the apps' templates/ folders; a project overrides
# one by putting a file of the same name in a DIRS folder.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
    }
]
