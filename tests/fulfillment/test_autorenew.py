"""Auto-renew: due licenses are charged once per period, declined cards are retried on the
schedule then given up, a card that needs the customer gets a pay link (issue 10). The charge
itself is the host's (inside Saleor: a checkout completed off-session on the saved card, run in
tests/saleor against localstripe); here a host with scripted outcomes stands in for it."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection

from saleor_license_plugin.fulfillment.autorenew import ChargeResult, run_auto_renewals
from saleor_license_plugin.fulfillment.host import PlainHost
from saleor_license_plugin.fulfillment.orders import apply_order
from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import AutoRenewal, License, LicenseEvent, RenewalStatus
from tests.factories import issue
from tests.fulfillment.payloads import LineInput, order

ALICE = Principal("user:alice", "alice@example.com")
STRIPE = "saleor_license_plugin.payments.stripe"


class Charging(PlainHost):
    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.requests = []
        self.lock = threading.Lock()

    def charge_renewal(self, request):
        with self.lock:
            self.requests.append(request)
            outcome = self.outcomes.pop(0) if self.outcomes else "paid"
        return ChargeResult(outcome, order_id=f"o-{len(self.requests)}", message=outcome)


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ADMINS = [("Ops", "ops@shop.example")]
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "RENEWAL_URL": "https://shop.example/renew?token={token}",
    }
    mail.outbox = []


def renewing(alice, now, days_left=5, **kw):
    license = issue("cloud-8", alice, now - timedelta(days=365 - days_left), **kw)
    return lifecycle.set_auto_renew(license.pk, enabled=True, gateway=STRIPE, channel="main")


@pytest.mark.django_db
def test_a_paid_line_with_auto_renew_turns_it_on(now):
    line = [LineInput("cloud-8", LineAction.NEW, auto_renew=True)]
    paid = order("ar", ALICE, line, now, payment_gateway=STRIPE, channel="main")
    [result] = apply_order(paid, now=now)
    license = License.objects.get(pk=result.licenses[0])
    assert (license.auto_renew, license.auto_renew_gateway) == (True, STRIPE)
    unpaid_card = order("ar2", ALICE, line, now)  # paid without a saved card
    [result] = apply_order(unpaid_card, now=now)
    assert License.objects.get(pk=result.licenses[0]).auto_renew is False


@pytest.mark.django_db
def test_auto_renew_needs_something_that_expires(now):
    perpetual = LineInput("pro-8", LineAction.NEW, auto_renew=True)
    with pytest.raises(LicenseError) as info:
        order("x", ALICE, [perpetual], now)
    assert info.value.field == "autoRenew"


@pytest.mark.django_db
def test_due_licenses_are_charged_once_per_period_one_order_per_customer(alice, now):
    first, second = renewing(alice, now), renewing(alice, now, days_left=6)
    renewing(alice, now, days_left=30)  # not due yet
    host = Charging("paid")
    report = run_auto_renewals(host, now=now)
    assert report.paid == ["o-1"] and len(host.requests) == 1
    assert {item.license_id for item in host.requests[0].items} == {first.pk, second.pk}
    assert run_auto_renewals(host, now=now + timedelta(hours=1)).due == 0
    assert set(AutoRenewal.objects.values_list("status", flat=True)) == {RenewalStatus.PAID}
    assert LicenseEvent.objects.filter(action="auto_renewed").count() == 2


@pytest.mark.django_db
def test_a_declined_card_is_retried_then_given_up(alice, now):
    license = renewing(alice, now)
    host = Charging("declined", "declined", "declined", "declined")
    when = now
    for retry_after in (1, 3, 7):
        run_auto_renewals(host, now=when)
        row = AutoRenewal.objects.get()
        assert row.status == RenewalStatus.SCHEDULED
        assert row.next_attempt_at == when + timedelta(days=retry_after)
        assert run_auto_renewals(host, now=when + timedelta(hours=1)).due == 0  # waits
        when += timedelta(days=retry_after)
    report = run_auto_renewals(host, now=when)
    assert report.failed == 1 and len(host.requests) == 4
    assert AutoRenewal.objects.get().status == RenewalStatus.FAILED
    assert license.events.filter(action="auto_renew_failed").exists()
    assert [m.to for m in mail.outbox] == [["ops@shop.example"]]


@pytest.mark.django_db
def test_a_card_that_needs_the_customer_gets_a_pay_link(alice, now):
    renewing(alice, now)
    run_auto_renewals(Charging("action_required"), now=now)
    [message] = mail.outbox
    assert message.to == [alice.email] and "renew?token=" in message.body
    assert AutoRenewal.objects.get().status == RenewalStatus.ACTION_REQUIRED
    assert run_auto_renewals(Charging(), now=now + timedelta(days=1)).due == 0


@pytest.mark.django_db
def test_turning_it_on_needs_a_saved_card(alice, now):
    license = issue("cloud-8", alice, now)
    with pytest.raises(LicenseError) as info:
        lifecycle.set_auto_renew(license.pk, enabled=True)
    assert info.value.code is LicenseErrorCode.AUTO_RENEW_NEEDS_CARD


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_charge_once(alice, now):
    renewing(alice, now)
    host = Charging()
    errors = []

    def run():
        try:
            run_auto_renewals(host, now=now)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(host.requests) == 1


@pytest.mark.django_db
def test_an_attempt_whose_worker_died_resumes_with_the_same_reference(alice, now):
    renewing(alice, now)

    class Dies(Charging):
        def charge_renewal(self, request):
            self.requests.append(request)
            raise SystemExit  # the worker is killed mid-charge

    dying = Dies()
    with pytest.raises(SystemExit):
        run_auto_renewals(dying, now=now)
    assert AutoRenewal.objects.get().status == RenewalStatus.CHARGING
    host = Charging("paid")
    assert run_auto_renewals(host, now=now + timedelta(minutes=5)).due == 0  # still leased
    run_auto_renewals(host, now=now + timedelta(hours=1))
    assert host.requests[0].reference == dying.requests[0].reference
    assert AutoRenewal.objects.get().status == RenewalStatus.PAID
