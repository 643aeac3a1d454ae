from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def key_secret_is_set(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    if getattr(settings, "SALEOR_LICENSE", {}).get("KEY_SECRET"):
        return []
    return [
        checks.Warning(
            "SALEOR_LICENSE['KEY_SECRET'] is not set; license key digests derive from SECRET_KEY.",
            hint="Set a long random KEY_SECRET before issuing keys: rotating SECRET_KEY would "
            "otherwise make every stored key unfindable.",
            id="saleor_license_plugin.W001",
        )
    ]
