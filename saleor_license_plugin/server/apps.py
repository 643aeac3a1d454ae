from django.apps import AppConfig


class LicenseServerConfig(AppConfig):
    name = "saleor_license_plugin.server"
    label = "saleor_license_server"
    verbose_name = "Software licenses: standalone server"
    default_auto_field = "django.db.models.BigAutoField"
