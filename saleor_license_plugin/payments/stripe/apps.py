from django.apps import AppConfig


class StripeGatewayConfig(AppConfig):
    """Saleor adds each `saleor.plugins` entry point's name to INSTALLED_APPS; this gives the
    gateway's package a label of its own. It has no models."""

    name = "saleor_license_plugin.payments.stripe"
    label = "saleor_license_plugin_stripe"
    verbose_name = "License payments: Stripe"
