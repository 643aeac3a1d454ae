"""Settings for the plugin's own tests: real PostgreSQL and Redis on localhost."""

import json
import os

import dj_database_url

SECRET_KEY = "tests-only-not-secret"
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "saleor_license_plugin",
    "saleor_license_plugin.server",  # API tokens of the standalone server (tests/server)
]
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/saleor_license_plugin"),
        conn_max_age=0,
    )
}
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SALEOR_LICENSE = {"KEY_SECRET": "tests-only-key-secret"}
# A Celery worker a test starts (tests/celery_app.py) runs with the settings that test set.
SALEOR_LICENSE.update(json.loads(os.environ.get("SALEOR_LICENSE_TEST_OVERRIDES", "{}")))

# Email templates (renewal reminders) from the apps' templates/ folders; a project overrides
# one by putting a file of the same name in a DIRS folder.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
    }
]
