"""The plugin's periodic Celery tasks run as Saleor's workers run them: bound to Saleor's Celery
app, whose task class (RestrictWriterDBTask) refuses, under Saleor's test settings, any use of
the writer database outside ``allow_writer``; in production it logs each one. Every task must
read what it reads (the Dashboard's settings included) inside the host's context, and apply
the settings the merchant set in the Dashboard."""

import pytest
from django.conf import settings as django_settings

try:  # Saleor 3.21+: the guard; 3.20 has none, and the tasks must simply run there
    from saleor.core.tasks import RestrictWriterDBTask
except ImportError:
    RestrictWriterDBTask = None

from saleor_license_plugin.fulfillment import provisioning, tasks

PERIODIC = [
    tasks.expire_due_task,
    tasks.reconcile_task,
    tasks.send_renewal_reminders_task,
    tasks.auto_renew_task,
    tasks.bill_subscriptions_task,
    provisioning.provisioning_sweep_task,
]


@pytest.mark.parametrize("task", PERIODIC, ids=lambda task: task.name)
def test_each_periodic_task_runs_under_saleors_writer_guard(license_plugin, task):
    if RestrictWriterDBTask is not None:
        assert isinstance(task, RestrictWriterDBTask)
        assert django_settings.CELERY_RESTRICT_WRITER_METHOD.endswith("restrict_writer")
    result = task.apply()
    assert result.successful(), result.traceback
