"""Django settings of `make demo-saleor`: Saleor's own settings (read from the environment the
script exports: DATABASE_URL, CACHE_URL, CELERY_BROKER_URL, RSA_PRIVATE_KEY, PUBLIC_URL, ...)
plus the license plugin's. For a demo on this machine only: DEBUG, console email, a fixed
KEY_SECRET kept in the demo's data folder. Never deploy these."""

import os

from saleor.settings import *  # noqa: F403

DEBUG = True
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
SALEOR_LICENSE = {
    "KEY_SECRET": os.environ["DEMO_KEY_SECRET"],
    "RENEWAL_URL": os.environ.get("PUBLIC_URL", "http://localhost:8000")
    + "/plugins/global/saleor_license_plugin/portal/#/renew?token={token}",
}
