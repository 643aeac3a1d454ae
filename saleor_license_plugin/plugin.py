"""The Saleor surface. The only module (with payments/*/plugin.py) that imports Saleor."""

from __future__ import annotations

from saleor.plugins.base_plugin import BasePlugin


class LicensePlugin(BasePlugin):
    PLUGIN_ID = "saleor.license"
    PLUGIN_NAME = "Software licenses"
    PLUGIN_DESCRIPTION = (
        "Sell software licenses: editions, capacity, upgrades, renewals, maintenance, "
        "capacity expansion, deployments and signed device activations."
    )
    CONFIGURATION_PER_CHANNEL = False
    DEFAULT_ACTIVE = False
    DEFAULT_CONFIGURATION: list[dict] = []
    CONFIG_STRUCTURE: dict = {}
