from saleor_license_plugin import conf
from saleor_license_plugin.api.options import option


def test_a_hosts_per_request_settings_reach_every_option(settings):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "ANONYMOUS_VERIFICATION": "off"}
    assert option("ANONYMOUS_VERIFICATION") == "off"
    dashboard = conf.from_django_settings().with_overrides(
        extra={**conf.from_django_settings().extra, "ANONYMOUS_VERIFICATION": "minimal"},
        require_reference=True,
    )
    with conf.using(dashboard):
        assert option("ANONYMOUS_VERIFICATION") == "minimal"
        assert conf.get_settings().require_reference is True
    assert option("ANONYMOUS_VERIFICATION") == "off"
    assert conf.get_settings().require_reference is False


def test_untyped_keys_travel_in_extra(settings):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "RATE_LIMITS": {"verify": "5/m"}}
    extra = conf.from_django_settings().extra
    assert extra["RATE_LIMITS"] == {"verify": "5/m"} and "KEY_SECRET" not in extra
