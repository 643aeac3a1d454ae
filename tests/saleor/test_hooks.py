"""Every Saleor hook our plugins implement exists on this Saleor's BasePlugin, with the arity
we implement it with. Saleor removes hooks even in patch releases (3.23.1) and marks the order
and checkout hooks deprecated: a removal must turn this red, not reach a merchant."""

import inspect
import typing

import pytest
from saleor.plugins.base_plugin import BasePlugin

from saleor_license_plugin.payments.multisafepay.plugin import MultiSafepayLicenseGatewayPlugin
from saleor_license_plugin.payments.offline.plugin import OfflineLicenseGatewayPlugin
from saleor_license_plugin.payments.stripe.plugin import StripeLicenseGatewayPlugin
from saleor_license_plugin.plugin import LicensePlugin

PLUGINS = [
    LicensePlugin,
    StripeLicenseGatewayPlugin,
    MultiSafepayLicenseGatewayPlugin,
    OfflineLicenseGatewayPlugin,
]
# Our own public methods that are not Saleor hooks.
HELPERS = {
    "license_settings",
    "catalog_for",
    "handle_notification",
    "notification_answer",
    "saved_cards",
}
# What the product cannot work without: if one goes, the README's version claim goes too.
RELIED_ON = {
    LicensePlugin: {
        "webhook",
        "preprocess_order_creation",
        "order_created",
        "order_fully_paid",
        "order_cancelled",
        "order_refunded",
        "order_fully_refunded",
        "invoice_request",
        "invoice_sent",
    },
    StripeLicenseGatewayPlugin: {"process_payment", "confirm_payment", "refund_payment"},
}


def saleor_hooks() -> dict[str, typing.Any]:
    hooks: dict[str, typing.Any] = {}
    for klass in reversed(BasePlugin.__mro__):
        hooks.update(getattr(klass, "__annotations__", {}))
    return {name: hint for name, hint in hooks.items() if typing.get_origin(hint) is not None}


def own_methods(plugin: type) -> dict[str, typing.Any]:
    methods = {}
    for klass in plugin.__mro__:
        if klass is BasePlugin or not issubclass(klass, BasePlugin):
            break
        for name, value in vars(klass).items():
            if name.startswith("_") or name.isupper():
                continue
            function = value.__func__ if isinstance(value, classmethod) else value
            if inspect.isfunction(function):
                methods.setdefault(name, function)
    return methods


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda plugin: plugin.__name__)
def test_every_hook_we_implement_exists_with_our_arity(plugin):
    hooks = saleor_hooks()
    unknown, wrong_arity = [], []
    for name, function in own_methods(plugin).items():
        if name in HELPERS:
            continue
        if name not in hooks:
            if not hasattr(BasePlugin, name):  # e.g. validate_plugin_configuration
                unknown.append(name)
            continue
        params, _ = typing.get_args(hooks[name])
        signature = inspect.signature(function, follow_wrapped=False)
        positional = [
            p for p in list(signature.parameters.values())[1:] if p.kind is not p.VAR_KEYWORD
        ]
        if len(positional) < len(params) or sum(p.default is p.empty for p in positional) > len(
            params
        ):
            wrong_arity.append((name, len(params), str(signature)))
    assert unknown == [], f"{plugin.__name__} implements hooks this Saleor no longer has"
    assert wrong_arity == []


def test_the_hooks_the_product_relies_on_exist():
    hooks = saleor_hooks()
    for plugin, names in RELIED_ON.items():
        implemented = own_methods(plugin)
        assert names <= set(implemented), plugin.__name__
        assert names <= set(hooks), sorted(names - set(hooks))
