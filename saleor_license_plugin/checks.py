from typing import Any
from urllib.parse import urlsplit

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


@checks.register()
def stripe_api_base_is_a_url(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    value = getattr(settings, "SALEOR_LICENSE", {}).get("STRIPE_API_BASE")
    if not value:
        return []
    parts = urlsplit(str(value).strip())
    if parts.scheme in ("http", "https") and parts.netloc and not parts.query:
        return []
    return [
        checks.Error(
            f"SALEOR_LICENSE['STRIPE_API_BASE'] is not an http(s) URL: {value!r}.",
            hint="Give the emulator's base URL, e.g. http://localhost:8420, or leave it unset "
            "for Stripe's API.",
            id="saleor_license_plugin.E001",
        )
    ]


GRAPHQL_LIMITS = (
    "GRAPHQL_MAX_DEPTH",
    "GRAPHQL_MAX_FIELDS",
    "GRAPHQL_MAX_ALIASES",
    "GRAPHQL_MAX_MUTATIONS",
    "GRAPHQL_MAX_COST",
)


@checks.register()
def graphql_limits_are_positive(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    configured = getattr(settings, "SALEOR_LICENSE", {})
    wrong = [
        name
        for name in GRAPHQL_LIMITS
        if name in configured and (type(configured[name]) is not int or configured[name] < 1)
    ]
    return [
        checks.Error(
            f"SALEOR_LICENSE[{name!r}] must be a positive whole number.",
            hint="Unlike Saleor's GRAPHQL_QUERY_MAX_COMPLEXITY, 0 does not switch a limit off; "
            "set a large number to relax it.",
            id="saleor_license_plugin.E002",
        )
        for name in wrong
    ]


@checks.register()
def provisioning_is_configured(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """A provisioning mode without what it needs would fail on the first paid subscription:
    say so at startup instead (the message names the setting, never the secret)."""
    from saleor_license_plugin.conf import DEFAULTS, provisioning_settings

    configured = {**DEFAULTS, **getattr(settings, "SALEOR_LICENSE", {})}
    try:
        provisioning_settings(configured)
    except (ValueError, TypeError) as error:
        return [
            checks.Error(
                f"SALEOR_LICENSE: {error}",
                hint="See the README, Configuration: PROVISIONING_MODE and what each mode needs.",
                id="saleor_license_plugin.E003",
            )
        ]
    return []
