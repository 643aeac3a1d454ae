"""The Saleor plugin: its Dashboard configuration and the hooks Saleor calls, nothing else.

Every hook hands plain values to the adapters in ``saleor_host/`` (principal, catalog,
checkout, orders) and from there to the domain. Hooks we rely on, and where Saleor stands on
them (checked per version by ``tests/saleor/test_hooks.py``):

- ``webhook``: serves the plugin's API under ``/plugins/global/<PLUGIN_ID>/``;
- ``preprocess_order_creation``: the one hook that can stop ``checkoutComplete``;
- ``order_created`` / ``order_fully_paid`` / ``order_cancelled`` / ``order_refunded`` /
  ``order_fully_refunded``: fulfillment and withdrawal (Saleor marks order hooks deprecated
  in favour of webhooks: the periodic reconciliation heals a paid order the hooks missed);
- ``invoice_request`` / ``invoice_sent``: invoices (the Dashboard's "Generate" and "Send").
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from saleor.order import OrderChargeStatus
from saleor.order.models import Order
from saleor.plugins.base_plugin import BasePlugin, ConfigurationTypeField

from saleor_license_plugin import conf
from saleor_license_plugin.licensing import holds
from saleor_license_plugin.saleor_host.auth import principal_from_request
from saleor_license_plugin.saleor_host.catalog import (
    LIST_TTL_SECONDS,
    SaleorCatalog,
    active_channel,
)
from saleor_license_plugin.saleor_host.checkout import SaleorCheckoutHost, guard_completion
from saleor_license_plugin.saleor_host.compat import (
    configured_plugin_url,
    dashboard_widgets_supported,
)
from saleor_license_plugin.saleor_host.invoices import invoice_sent, request_invoice
from saleor_license_plugin.saleor_host.orders import has_license_lines, order_payload

PLUGIN_ID = "saleor_license_plugin"


class LicensePlugin(BasePlugin):
    PLUGIN_ID = PLUGIN_ID
    PLUGIN_NAME = "Software licenses"
    PLUGIN_DESCRIPTION = (
        "Sell software licenses: editions, capacity, upgrades, renewals, maintenance, capacity "
        "expansion, deployments and signed device activations. API at "
        f"/plugins/global/{PLUGIN_ID}/graphql/."
    )
    CONFIGURATION_PER_CHANNEL = False
    DEFAULT_ACTIVE = False
    DEFAULT_CONFIGURATION = [
        {"name": name, "value": value} for name, value in conf.DASHBOARD_DEFAULTS.items()
    ]
    CONFIG_STRUCTURE = {
        "signing_key": {
            "type": ConfigurationTypeField.SECRET_MULTILINE,
            "label": "Entitlement signing key",
            "help_text": "Ed25519 private key (PEM) that signs activation documents. Leave empty "
            "to use SALEOR_LICENSE['SIGNING_KEY'] or a key generated on first use. Rotate by "
            "publishing the new public key to devices first (see README).",
        },
        "default_channel": {
            "type": ConfigurationTypeField.STRING,
            "label": "Default channel",
            "help_text": "Channel slug whose prices quotes use when a request names none "
            "(?channel=slug on the license API).",
        },
        "anonymous_verification": {
            "type": ConfigurationTypeField.STRING,
            "label": "Anonymous key verification",
            "help_text": "'off': only signed-in owners, their partners and staff can verify keys. "
            "'minimal': anyone with a key sees its status and expiries, nothing else.",
        },
        "prorate_upgrades": {
            "type": ConfigurationTypeField.STRING,
            "label": "Prorate upgrades",
            "help_text": "Upgrades of term licenses cost the price difference times the share "
            "of the term left.",
        },
        "upgrade_floor_amount": {
            "type": ConfigurationTypeField.STRING,
            "label": "Upgrade minimum amount",
            "help_text": "An upgrade never costs less than this (nor more than the full "
            "difference).",
        },
        "upgrade_floor_rate": {
            "type": ConfigurationTypeField.STRING,
            "label": "Upgrade minimum share",
            "help_text": "An upgrade never costs less than this share of the full price "
            "difference, e.g. 0.25.",
        },
        "pending_payment_grace_days": {
            "type": ConfigurationTypeField.STRING,
            "label": "Pending-payment grace days",
            "help_text": "Offline orders: 0 issues licenses only when paid; N issues "
            "pending-payment licenses at once, suspended if still unpaid after N days.",
        },
        "send_key_emails": {
            "type": ConfigurationTypeField.STRING,
            "label": "Email keys to the buyer",
            "help_text": "Send the license keys by email (Django mail, Saleor's EMAIL_URL) once "
            "an order is paid.",
        },
        "auto_refund_failed_lines": {
            "type": ConfigurationTypeField.STRING,
            "label": "Refund paid lines that cannot be applied",
            "help_text": "true/false. A paid license line that can no longer be applied (the "
            "license changed since checkout) is refunded through the order's payment; staff "
            "get an order note and an email either way.",
        },
        "reminder_schedule": {
            "type": ConfigurationTypeField.STRING,
            "label": "Renewal reminder schedule",
            "help_text": "Days before the term or maintenance expiry to remind the customer, "
            "comma-separated; 0 is the day itself, negative numbers are days after, e.g. "
            "60, 30, 7, 0, -7.",
        },
        "renewal_url": {
            "type": ConfigurationTypeField.STRING,
            "label": "Renewal page URL",
            "help_text": "The storefront page a reminder's renewal link opens; {token} is "
            "replaced by the link's token, which the page passes to renewalCheckoutCreate.",
        },
        "staff_emails": {
            "type": ConfigurationTypeField.STRING,
            "label": "Staff e-mails for license problems",
            "help_text": "Comma-separated addresses told when a paid line cannot be applied. "
            "Empty with no Django setting: Django's ADMINS.",
        },
        "require_terms_acceptance": {
            "type": ConfigurationTypeField.STRING,
            "label": "Require terms acceptance",
            "help_text": "checkoutComplete needs checkout metadata license.terms_accepted=true "
            "when the checkout has license lines.",
        },
        "require_reference": {
            "type": ConfigurationTypeField.STRING,
            "label": "Require a reference / PO number",
            "help_text": "checkoutComplete needs checkout metadata license.reference (a "
            "purchase order, reference or PI number) when the checkout has license lines.",
        },
        "partner_levels": {
            "type": ConfigurationTypeField.STRING,
            "label": "Partner levels: trial / NFR quotas",
            "help_text": "Per partner level code, how many open trial and not-for-resale "
            "licenses a partner may create, e.g. gold: 10/2, silver: 5/1. A partner's own "
            "quotas (partnerSet) override its level's; a level not listed allows none.",
        },
        "trial_days": {
            "type": ConfigurationTypeField.STRING,
            "label": "Trial days",
            "help_text": "How many days a partner's trial license runs (1 to 365).",
        },
        "invoice_on_payment": {
            "type": ConfigurationTypeField.STRING,
            "label": "Invoice paid orders",
            "help_text": "true/false. Issue an order's invoice when it is paid and email it to "
            "the billing contact; staff can always generate one from the order page.",
        },
        "send_invoice_emails": {
            "type": ConfigurationTypeField.STRING,
            "label": "Email invoices",
            "help_text": "true/false. Email the billing contact a one-time download link when "
            "an invoice is issued on payment.",
        },
        "invoice_number_format": {
            "type": ConfigurationTypeField.STRING,
            "label": "Invoice number format",
            "help_text": "{seq} is the gap-free counter (format spec allowed); {year} and "
            "{month} start a new sequence each year or month, e.g. INV-{year}-{seq:06d}.",
        },
        "invoice_seller": {
            "type": ConfigurationTypeField.MULTILINE,
            "label": "Invoice seller details",
            "help_text": "Printed on every invoice, one item a line: company name first, then "
            "address and VAT number.",
        },
        "invoice_footer": {
            "type": ConfigurationTypeField.MULTILINE,
            "label": "Invoice footer",
            "help_text": "Printed at the bottom of every invoice: payment terms, bank details.",
        },
        "usage_late_days": {
            "type": ConfigurationTypeField.STRING,
            "label": "Subscriptions: late usage report days",
            "help_text": "Usage reports for an ended period are accepted this many days (0 to "
            "365); then a post-paid bill is fixed at the period's peak and the period closes.",
        },
        "subscription_grace_days": {
            "type": ConfigurationTypeField.STRING,
            "label": "Subscriptions: days before suspending",
            "help_text": "An unpaid subscription bill suspends the subscription (and its "
            "license) this many days after the bill was issued (0 to 365).",
        },
        "subscription_cancel_days": {
            "type": ConfigurationTypeField.STRING,
            "label": "Subscriptions: days before cancelling",
            "help_text": "A subscription suspended for non-payment is cancelled this many days "
            "later (0 to 365): license revoked, unpaid bills written off.",
        },
        "provisioning_mode": {
            "type": ConfigurationTypeField.STRING,
            "label": "Subscriptions: provisioning mode",
            "help_text": "How a new subscription's instance (and a domain change) is requested "
            "from your system: manual (staff report the result through the API), celery "
            "(the task PROVISIONING_TASK) or webhook (a signed POST to PROVISIONING_URL). The "
            "task, URL and secret are Django settings only; a mode they do not support is "
            "refused.",
        },
        "deployment_required_products": {
            "type": ConfigurationTypeField.STRING,
            "label": "Products that need a deployment",
            "help_text": "Comma-separated product slugs whose lines must name a deployment (as "
            "well as products with metadata license.requires_deployment=true).",
        },
    }

    @property
    def config(self) -> dict[str, Any]:
        return {item["name"]: item["value"] for item in self.configuration}

    def license_settings(self) -> conf.LicenseSettings:
        """The Django settings with this shop's Dashboard values on top."""
        return conf.from_dashboard(self.config, conf.from_django_settings())

    @property
    def deployment_products(self) -> frozenset[str]:
        return conf.parse_slugs(self.config.get("deployment_required_products"))

    @classmethod
    def validate_plugin_configuration(cls, plugin_configuration: Any, **kwargs: Any) -> None:
        values = {item["name"]: item["value"] for item in plugin_configuration.configuration}
        errors = {
            name: ValidationError(message)
            for name, message in conf.dashboard_errors(values).items()
        }
        if key := (values.get("signing_key") or "").strip():
            from saleor_license_plugin.licensing.entitlements import load_private_key

            try:
                load_private_key(key)
            except ValueError:
                errors["signing_key"] = ValidationError("Not an Ed25519 private key (PEM).")
        if errors:
            raise ValidationError(errors)

    def catalog_for(self, channel: Any, *, list_ttl: float = 0.0) -> SaleorCatalog:
        return SaleorCatalog(channel, self.deployment_products, list_ttl=list_ttl)

    # --- the plugin's own API -----------------------------------------------------------

    def webhook(self, request: HttpRequest, path: str, previous_value: Any) -> HttpResponse:
        if not self.active:
            return previous_value
        from saleor_license_plugin.http.router import (
            dispatch,
            dispatch_plain,
            error_response,
            needs_host,
        )
        from saleor_license_plugin.licensing.errors import LicenseErrorCode

        if not needs_host(path):
            # The device endpoint (and the one-time links) need neither the caller nor a
            # channel: answer before looking either up.
            with conf.using(self.license_settings()):
                return dispatch_plain(request, path)
        slug = request.GET.get("channel") or self.config.get("default_channel") or ""
        channel = active_channel(slug)  # read at most LIST_TTL_SECONDS ago, as the offers' list
        if channel is None:
            return error_response(
                path, 404, LicenseErrorCode.NOT_FOUND, "No such channel.", "channel"
            )
        settings = self.license_settings()
        with conf.using(settings):
            return dispatch(
                request,
                path,
                principal=principal_from_request(request),
                # The API's catalog may list from memory (offers: LIST_TTL_SECONDS); checkout
                # lines are priced from a catalog of their own, from the database.
                catalog=self.catalog_for(channel, list_ttl=LIST_TTL_SECONDS),
                checkout=SaleorCheckoutHost(settings, self.catalog_for, channel),
                dashboard_widgets=dashboard_widgets_supported(),
                # the portal's config: Saleor's own API on this host, the channel it sells in
                saleor_api_url=request.build_absolute_uri("/graphql/"),
                channel=channel.slug,
                public_url=configured_plugin_url(PLUGIN_ID),
            )

    # --- checkout -----------------------------------------------------------------------

    def preprocess_order_creation(self, checkout_info: Any, lines: Any, previous_value: Any) -> Any:
        """The completion guard: re-validate every license line; leave other lines alone."""
        if not self.active:
            return previous_value
        guard_completion(
            checkout_info,
            lines,
            settings=self.license_settings(),
            catalog=self.catalog_for(checkout_info.channel),
        )
        return previous_value

    # --- orders -------------------------------------------------------------------------

    def order_created(self, order: Order, previous_value: Any, webhooks: Any = None) -> Any:
        if self.active and order.checkout_token:
            holds.pass_to_order(
                holds.checkout_holder(order.checkout_token), holds.order_holder(order.pk)
            )
        grace = self.license_settings().pending_payment_grace_days
        unpaid = order.charge_status in (OrderChargeStatus.NONE, OrderChargeStatus.PARTIAL)
        if self.active and grace > 0 and unpaid:
            self._fulfill(order, paid=False, grace_days=grace)
        return previous_value

    def order_fully_paid(self, order: Order, previous_value: Any, webhooks: Any = None) -> Any:
        if self.active:
            # With license lines the fulfillment task issues the invoice once the licenses
            # exist (the invoice names their keys); other orders get a task of their own.
            if not self._fulfill(order, paid=True) and self.license_settings().invoice_on_payment:
                from saleor_license_plugin.fulfillment.tasks import invoice_order_task

                invoice_order_task.delay(str(order.pk))
        return previous_value

    def order_cancelled(self, order: Order, previous_value: Any, webhooks: Any = None) -> Any:
        if self.active:
            self._withdraw(order, "cancelled", revoke_issued=True)
        return previous_value

    def order_refunded(self, order: Order, previous_value: Any, webhooks: Any = None) -> Any:
        # A partial refund: suspend for staff review (reinstate or revoke per line).
        if self.active:
            self._withdraw(order, "refunded", revoke_issued=False)
        return previous_value

    def order_fully_refunded(self, order: Order, previous_value: Any, webhooks: Any = None) -> Any:
        if self.active:
            self._withdraw(order, "fully_refunded", revoke_issued=True)
        return previous_value

    def _fulfill(self, order: Order, *, paid: bool, grace_days: int = 0) -> bool:
        """Queue the order's fulfillment; False if it has no license lines."""
        from saleor_license_plugin.fulfillment.tasks import fulfill_order

        payload = order_payload(order, self.license_settings(), paid=paid, grace_days=grace_days)
        if payload is not None:
            fulfill_order.delay(payload)
        return payload is not None

    # --- invoices -----------------------------------------------------------------------

    def invoice_request(
        self, order: Order, invoice: Any, number: str | None, previous_value: Any
    ) -> Any:
        """Saleor's ``invoiceRequest`` (the Dashboard's "Generate"): the order's invoice,
        numbered, rendered and stored privately, on Saleor's invoice row (number, date, link)."""
        if not self.active:
            return previous_value
        settings = self.license_settings()
        with conf.using(settings):
            return request_invoice(order, invoice, number, settings)

    def invoice_sent(self, invoice: Any, email: Any, previous_value: Any) -> Any:
        """Saleor's ``invoiceSendNotification`` (the Dashboard's "Send"): besides Saleor's own
        notification, email the billing contact a fresh one-time link."""
        if self.active:
            settings = self.license_settings()
            with conf.using(settings):
                invoice_sent(invoice, settings)
        return previous_value

    def _withdraw(self, order: Order, reason: str, *, revoke_issued: bool) -> None:
        from saleor_license_plugin.fulfillment.tasks import withdraw_order_task

        if has_license_lines(order):
            withdraw_order_task.delay(str(order.pk), reason, revoke_issued)


# Every field that falls back to a Django setting says which one.
for _name, (_attribute, _) in conf.DASHBOARD_FIELDS.items():
    LicensePlugin.CONFIG_STRUCTURE[_name]["help_text"] += (
        f" Empty: SALEOR_LICENSE[{_attribute.upper()!r}]."
    )
