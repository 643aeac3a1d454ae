"""The Celery app a real worker runs in the fulfillment tests (``celery -A tests.celery_app``).

The worker process uses the test database and a Redis broker passed in the environment by the
test. A short visibility timeout lets a message whose worker was killed be delivered again
within seconds instead of Redis's default hour.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from celery import Celery  # noqa: E402

app = Celery("saleor_license_plugin_tests")
app.conf.update(
    broker_url=os.environ["CELERY_BROKER_URL"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_transport_options={"visibility_timeout": int(os.environ.get("VISIBILITY_TIMEOUT", "4"))},
    worker_hijack_root_logger=False,
)
app.set_default()

import saleor_license_plugin.tasks  # noqa: E402,F401  (registers the shared tasks)
