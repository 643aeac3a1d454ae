"""A paid order is always fulfilled, even when the event is lost (issue 18): with Saleor's
order_fully_paid hook suppressed, the reconciliation issues the keys from Saleor's own orders;
running it again changes nothing more."""

from django.core import mail
from django.core.management import call_command
from saleor.order.models import Order

from saleor_license_plugin.fulfillment.host import task_host
from saleor_license_plugin.fulfillment.reconcile import reconcile
from saleor_license_plugin.models import License, LicenseStatus
from saleor_license_plugin.plugin import LicensePlugin

from flows import add_license_lines, create_checkout, pay_and_complete
from license_fixtures import gid


def new_line(products, key="pro-8", quantity=1):
    variant = gid("ProductVariant", products[key].pk)
    return {"variantId": variant, "action": "NEW", "quantity": quantity}


def test_a_paid_order_whose_hook_never_ran_gets_its_keys_from_the_reconciliation(
    license_plugin, license_products, plugin_api, user_api_client, monkeypatch, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    # The hook is lost (a Saleor release without it, a lost Celery message...).
    monkeypatch.setattr(
        LicensePlugin, "order_fully_paid", lambda self, order, previous_value, **kw: previous_value
    )
    checkout_id = create_checkout(user_api_client)
    add_license_lines(plugin_api, checkout_id, [new_line(license_products, quantity=2)])
    result = pay_and_complete(user_api_client, checkout_id)
    assert result["errors"] == [], result
    order = Order.objects.get()
    assert order.charge_status == "full"
    assert License.objects.count() == 0  # paid, and no key: what the reconciliation is for

    call_command("license_reconcile", "--dry-run")
    assert License.objects.count() == 0

    host = task_host()
    report = reconcile(host.order_source(), host, since=order.created_at)
    assert report.fulfilled == [str(order.pk)]
    issued = License.objects.filter(origin_order_id=str(order.pk))
    assert issued.count() == 2 and {lic.status for lic in issued} == {LicenseStatus.ACTIVE}
    assert len(mail.outbox) == 1

    # Again: nothing more (two at once is shown in tests/fulfillment/test_reconcile.py, which
    # can use real transactions; Saleor's tier runs inside one test transaction).
    again = reconcile(host.order_source(), host, since=order.created_at)
    assert again.fulfilled == [] and again.paid_checked == 1
    assert issued.count() == 2 and len(mail.outbox) == 1
