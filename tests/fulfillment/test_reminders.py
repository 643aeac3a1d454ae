"""Renewal reminders: on the merchant's schedule, exactly once per license, expiry and step
(also with two sweeps at once), one email per customer, opt-out, and a renewed license starts
a new cycle."""

import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection

from saleor_license_plugin.fulfillment.host import PlainHost
from saleor_license_plugin.fulfillment.reminders import send_reminders, set_opt_out
from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.renewals import (
    ExpiryKind,
    due_step,
    read_link_token,
    read_unsubscribe_token,
)
from saleor_license_plugin.models import ReminderClaim
from tests.factories import CATALOG, issue


class CatalogHost(PlainHost):
    def catalog(self):
        return CATALOG


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "RENEWAL_URL": "https://shop.example/renew?token={token}",
        "PUBLIC_API_URL": "https://shop.example/plugins/global/saleor_license_plugin/",
    }
    mail.outbox = []


def test_the_step_due_is_the_latest_reached(now):
    schedule = (-60, -30, -7, 0, 7)
    expiry = now + timedelta(days=45)
    assert due_step(expiry, now, schedule) == -60
    assert due_step(expiry, now - timedelta(days=20), schedule) is None
    assert due_step(expiry, expiry - timedelta(days=3), schedule) == -7
    assert due_step(expiry, expiry + timedelta(days=8), schedule) == 7


@pytest.mark.django_db
def test_one_email_per_customer_lists_everything_due_once(alice, bob, now):
    a1 = issue("cloud-8", alice, now - timedelta(days=340))  # term ends in 25 days
    a2 = issue("pro-8", alice, now - timedelta(days=360), maintenance_years=1)  # maint. in 5
    issue("pro-8", alice, now)  # perpetual, maintenance-less: nothing to remind
    issue("cloud-8", bob, now - timedelta(days=100))  # 265 days left: not yet
    report = send_reminders(CatalogHost(), now=now)
    assert report.claimed == 2 and report.emails_sent == 1
    [message] = mail.outbox
    assert message.to == [alice.email]
    assert a1.key_hint in message.body and a2.key_hint in message.body
    assert "120.00 EUR" in message.body  # a year of the cloud edition, from the catalog
    html = message.alternatives[0][0]
    assert a1.key_hint in html and "Renew in one step" in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    renewal_link = next(line for line in message.body.splitlines() if "renew?token=" in line)
    link = read_link_token(renewal_link.split("token=")[1], max_age_days=30)
    assert link.owner_id == alice.user_id
    assert set(link.items) == {(a1.pk, ExpiryKind.TERM), (a2.pk, ExpiryKind.MAINTENANCE)}

    again = send_reminders(CatalogHost(), now=now + timedelta(hours=1))
    assert again.claimed == 0 and len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_end_customer_without_an_account_is_left_to_its_partner(now):
    """Its renewal link would be nobody's to use: the partner renews it from the report; once
    the customer links its account, it is reminded like any owner."""
    from saleor_license_plugin.licensing import partners

    partner, _ = partners.set_partner("user:partner", {"email": "sales@partner.example"})
    acme = partners.create_customer(partner, {"company": "Acme", "email": "it@acme.example"})
    issue("cloud-8", partners.owner_for(acme), now - timedelta(days=340))
    assert send_reminders(CatalogHost(), now=now).claimed == 0
    partners.link_account(acme, "user:carol", actor="staff", now=now)
    assert send_reminders(CatalogHost(), now=now).emails_sent == 1
    [message] = mail.outbox
    assert message.to == ["it@acme.example"]


@pytest.mark.django_db
def test_the_next_step_and_a_renewal_start_again(alice, now):
    license = issue("cloud-8", alice, now - timedelta(days=340))  # 25 days left
    send_reminders(PlainHost(), now=now)
    send_reminders(PlainHost(), now=now + timedelta(days=19))  # 6 days left: the -7 step
    assert [c.step for c in ReminderClaim.objects.order_by("pk")] == [-30, -7]
    lifecycle.renew_license(license.pk, years=1, now=now + timedelta(days=20))
    send_reminders(PlainHost(), now=now + timedelta(days=21))  # 369 days left: nothing
    assert len(mail.outbox) == 2
    send_reminders(PlainHost(), now=now + timedelta(days=345))  # next cycle's -30
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_revoked_suspended_and_opted_out_licenses_are_skipped(alice, bob, now):
    revoked = issue("cloud-8", alice, now - timedelta(days=340))
    lifecycle.revoke_license(revoked.pk)
    suspended = issue("cloud-8", alice, now - timedelta(days=340))
    lifecycle.suspend_license(suspended.pk)
    issue("cloud-8", bob, now - timedelta(days=340))
    set_opt_out(bob.user_id, True)
    assert send_reminders(PlainHost(), now=now).claimed == 0
    set_opt_out(bob.user_id, False)
    assert send_reminders(PlainHost(), now=now).claimed == 1


@pytest.mark.django_db
def test_the_unsubscribe_link_names_the_customer(alice, now):
    issue("cloud-8", alice, now - timedelta(days=340))
    send_reminders(PlainHost(), now=now)
    line = next(line for line in mail.outbox[0].body.splitlines() if "unsubscribe" in line)
    assert read_unsubscribe_token(line.split("token=")[1]) == alice.user_id


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_remind_once(alice, now):
    for _ in range(30):
        issue("cloud-8", alice, now - timedelta(days=340))
    errors = []

    def sweep():
        try:
            send_reminders(PlainHost(), now=now, page_size=7)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ReminderClaim.objects.count() == 30
    # Each sweep emails the customer the claims it won: every license once, none twice.
    hints = [hint for m in mail.outbox for hint in re.findall(r"key ending (\w+)", m.body)]
    assert len(hints) == 30 and len(set(hints)) == 30
    assert len(mail.outbox) <= 3


@pytest.mark.django_db
def test_a_sweep_that_died_after_claiming_is_finished_by_the_next(alice, now, monkeypatch):
    issue("cloud-8", alice, now - timedelta(days=340))
    from saleor_license_plugin.fulfillment import reminders

    monkeypatch.setattr(reminders, "_send_batch", lambda batch, run: False)  # dies before mail
    send_reminders(PlainHost(), now=now)
    monkeypatch.undo()
    assert mail.outbox == [] and ReminderClaim.objects.count() == 1
    report = send_reminders(PlainHost(), now=now + timedelta(minutes=5))
    assert report.claimed == 0 and report.recovered == 1 and len(mail.outbox) == 1


class DashboardHost(CatalogHost):
    """A host whose plugin settings differ from Django's, as Saleor's do when the merchant
    sets the reminder schedule in the Dashboard."""

    def license_settings(self):
        from dataclasses import replace

        from saleor_license_plugin.conf import from_django_settings

        return replace(from_django_settings(), reminder_schedule=(-30,))


@pytest.mark.django_db
def test_the_reminder_task_follows_the_dashboards_schedule_not_djangos(alice, now, settings):
    """Celery runs the task with Django's settings only; the Dashboard's must apply there too
    (they did only inside requests: a schedule set in the Dashboard did nothing)."""
    from django.utils import timezone

    from saleor_license_plugin.fulfillment.tasks import send_renewal_reminders_task

    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "REMINDER_SCHEDULE": [-7],
        "TASK_HOST": "tests.fulfillment.test_reminders.DashboardHost",
    }
    issue("cloud-8", alice, timezone.now() - timedelta(days=365 - 20))  # term ends in 20 days
    report = send_renewal_reminders_task()
    assert report["claimed"] == 1 and len(mail.outbox) == 1  # Django's -7 would send nothing


@pytest.mark.django_db
def test_a_schedule_of_one_step_before_expiry_reminds_until_the_expiry(alice, now, settings):
    """[-30] made the sweep's window a single instant: nothing was ever reminded."""
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "REMINDER_SCHEDULE": [-30]}
    issue("cloud-8", alice, now - timedelta(days=345))  # 20 days left
    issue("cloud-8", alice, now - timedelta(days=366))  # expired yesterday: no step after it
    report = send_reminders(CatalogHost(), now=now)
    assert report.claimed == 1 and len(mail.outbox) == 1
    assert send_reminders(CatalogHost(), now=now + timedelta(days=1)).claimed == 0  # once
