from django.apps import AppConfig


class LicensePluginConfig(AppConfig):
    name = "saleor_license_plugin"
    label = "saleor_license_plugin"
    verbose_name = "Software licenses"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from saleor_license_plugin import checks  # noqa: F401  (registers system checks)
