"""Settings in one place: Django settings, a host's per-request override, the Dashboard form."""

from decimal import Decimal

import pytest

from saleor_license_plugin import conf


def test_a_hosts_per_request_settings_reach_every_reader(settings):
    assert conf.get_settings().anonymous_verification == "off"
    override = conf.from_django_settings().with_overrides(anonymous_verification="minimal")
    with conf.using(override):
        assert conf.get_settings().anonymous_verification == "minimal"
    assert conf.get_settings().anonymous_verification == "off"


def test_every_documented_key_is_typed(settings):
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "RATE_LIMITS": {"verify_ip": "5/60"},
        "TASK_HOST": "my.Host",
        "TRUSTED_PROXY_HOPS": "1",
    }
    typed = conf.from_django_settings()
    # A partial RATE_LIMITS keeps the other defaults (it used to switch them off).
    assert typed.rate_limits["verify_ip"] == "5/60"
    assert typed.rate_limits["activate_key"] == conf.DEFAULT_RATE_LIMITS["activate_key"]
    assert typed.task_host == "my.Host" and typed.trusted_proxy_hops == 1
    fields = {name.upper() for name in conf.LicenseSettings.__dataclass_fields__}
    assert fields == set(conf.DEFAULTS)


def test_dashboard_defaults_keep_the_django_settings(settings):
    """The bug: inside Saleor the Dashboard's defaults always replaced PRORATE_UPGRADES and the
    upgrade floors, so those Django settings did nothing."""
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "PRORATE_UPGRADES": False,
        "UPGRADE_FLOOR_AMOUNT": "15",
        "UPGRADE_FLOOR_RATE": "0.25",
        "REQUIRE_REFERENCE": True,
        "ANONYMOUS_VERIFICATION": "minimal",
    }
    base = conf.from_django_settings()
    applied = conf.from_dashboard(conf.DASHBOARD_DEFAULTS, base)
    assert applied == base


def test_dashboard_values_apply_on_top(settings):
    base = conf.from_django_settings()
    values = {
        **conf.DASHBOARD_DEFAULTS,
        "prorate_upgrades": "false",
        "upgrade_floor_amount": "10.50",
        "pending_payment_grace_days": "14",
        "send_key_emails": False,  # a real boolean, as saved by earlier versions
        "require_terms_acceptance": "yes",
        "anonymous_verification": "minimal",
        "signing_key": "  PEM  ",
    }
    applied = conf.from_dashboard(values, base)
    assert applied.prorate_upgrades is False
    assert applied.upgrade_floor_amount == Decimal("10.50")
    assert applied.pending_payment_grace_days == 14
    assert applied.send_key_emails is False
    assert applied.require_terms_acceptance is True
    assert applied.anonymous_verification == "minimal"
    assert applied.signing_key == "PEM"
    assert applied.key_secret == base.key_secret


@pytest.mark.parametrize(
    "field, value",
    [
        ("prorate_upgrades", "maybe"),
        ("upgrade_floor_amount", "-1"),
        ("upgrade_floor_amount", "NaN"),
        ("upgrade_floor_rate", "ten"),
        ("pending_payment_grace_days", "1.5"),
        ("pending_payment_grace_days", "-3"),
        ("anonymous_verification", "full"),
        ("invoice_on_payment", "sometimes"),
        ("invoice_number_format", "INV-{year}"),
        ("invoice_seller", "x" * 201),
        ("invoice_footer", "\n".join(["line"] * 21)),
        ("usage_late_days", "-1"),
        ("usage_late_days", "three"),
        ("subscription_grace_days", "2.5"),
        ("subscription_grace_days", "366"),
        ("subscription_cancel_days", "-21"),
        ("provisioning_mode", "email"),
        ("provisioning_mode", "webhook"),  # no PROVISIONING_URL / SECRET in the Django settings
    ],
)
def test_bad_dashboard_values_are_reported_per_field(field, value):
    assert set(conf.dashboard_errors({field: value})) == {field}


def test_a_bad_saved_value_keeps_the_django_setting():
    base = conf.from_django_settings()
    assert conf.from_dashboard({"upgrade_floor_rate": "ten"}, base) == base


def test_deployment_products_are_a_comma_separated_list():
    assert conf.parse_slugs(" a, b ,,c ") == frozenset({"a", "b", "c"})
    assert conf.parse_slugs(None) == frozenset()


def test_every_dashboard_field_has_a_default_and_every_default_is_empty():
    assert set(conf.DASHBOARD_FIELDS) <= set(conf.DASHBOARD_DEFAULTS)
    assert all(value == "" for value in conf.DASHBOARD_DEFAULTS.values())


@pytest.mark.parametrize(
    "value, expected",
    [(None, None), ("", None), (" http://localhost:8420/ ", "http://localhost:8420")],
)
def test_the_stripe_api_base_setting(settings, value, expected):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "STRIPE_API_BASE": value}
    assert conf.from_django_settings().stripe_api_base == expected


@pytest.mark.parametrize(
    "value, errors",
    [
        (None, []),
        ("http://localhost:8420", []),
        ("https://stripe-mock.staging.example", []),
        ("localhost:8420", ["saleor_license_plugin.E001"]),
        ("ftp://example.com", ["saleor_license_plugin.E001"]),
    ],
)
def test_a_stripe_api_base_that_is_no_url_fails_the_system_check(settings, value, errors):
    from saleor_license_plugin.checks import stripe_api_base_is_a_url

    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "STRIPE_API_BASE": value}
    assert [message.id for message in stripe_api_base_is_a_url(None)] == errors


def test_every_dashboard_field_is_in_the_plugins_form():
    """plugin.py imports Saleor, so this reads its source: each field conf parses must have a
    CONFIG_STRUCTURE entry (the plugin's help-text loop would fail at import otherwise)."""
    import re
    from pathlib import Path

    import saleor_license_plugin

    source = (Path(saleor_license_plugin.__file__).parent / "plugin.py").read_text()
    in_form = set(re.findall(r'^        "(\w+)": \{', source, re.MULTILINE))
    assert set(conf.DASHBOARD_DEFAULTS) <= in_form


@pytest.mark.parametrize("value", [0, -1, "50", 2.5, None])
def test_graphql_limits_must_be_positive_whole_numbers(settings, value):
    from saleor_license_plugin.checks import graphql_limits_are_positive

    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "GRAPHQL_MAX_COST": value}
    (error,) = graphql_limits_are_positive(None)
    assert error.id == "saleor_license_plugin.E002" and "GRAPHQL_MAX_COST" in error.msg
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "GRAPHQL_MAX_COST": 5000}
    assert graphql_limits_are_positive(None) == []
    assert conf.from_django_settings().graphql_max_cost == 5000


def test_the_invoice_fields_apply_on_top():
    base = conf.from_django_settings()
    assert (base.invoice_on_payment, base.send_invoice_emails) == (False, True)
    values = {
        "invoice_on_payment": "yes",
        "invoice_number_format": " F/{year}/{seq:05d} ",
        "invoice_seller": "  Shop Ltd  \r\n1 Road\n",
        "send_invoice_emails": "false",
    }
    applied = conf.from_dashboard(values, base)
    assert applied.invoice_on_payment is True and applied.send_invoice_emails is False
    assert applied.invoice_number_format == "F/{year}/{seq:05d}"
    assert applied.invoice_seller == "Shop Ltd\n1 Road"


def test_the_subscription_fields_apply_on_top(settings):
    base = conf.from_django_settings()
    assert (base.usage_late_days, base.subscription_grace_days) == (3, 7)
    assert (base.subscription_cancel_days, base.provisioning_mode) == (21, "manual")
    values = {
        **conf.DASHBOARD_DEFAULTS,
        "usage_late_days": " 0 ",
        "subscription_grace_days": "10",
        "subscription_cancel_days": "30",
        "provisioning_mode": "Manual",
    }
    applied = conf.from_dashboard(values, base)
    assert (applied.usage_late_days, applied.subscription_grace_days) == (0, 10)
    assert (applied.subscription_cancel_days, applied.provisioning_mode) == (30, "manual")
    assert conf.dashboard_errors(values) == {}


def test_a_dashboard_provisioning_mode_needs_what_the_django_settings_give_it(settings):
    """The task name, URL and secret stay Django settings: the Dashboard may pick webhook or
    celery only once they are there, and the error says what is missing (never the secret)."""
    [message] = conf.dashboard_errors({"provisioning_mode": "celery"}).values()
    assert "PROVISIONING_TASK" in message
    secret = "s3cret-" + "x" * 32
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "PROVISIONING_URL": "https://provision.shop.example/hook",
        "PROVISIONING_SECRET": secret,
    }
    assert conf.dashboard_errors({"provisioning_mode": "webhook"}) == {}
    base = conf.from_django_settings()
    assert base.provisioning_mode == "manual"
    applied = conf.from_dashboard({"provisioning_mode": "webhook"}, base)
    assert applied.provisioning_mode == "webhook"
    assert applied.provisioning_url == "https://provision.shop.example/hook"
    [message] = conf.dashboard_errors({"provisioning_mode": "celery"}).values()
    assert "PROVISIONING_TASK" in message and secret not in message
