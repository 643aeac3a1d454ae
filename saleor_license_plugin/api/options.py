"""The API's settings: keys of ``SALEOR_LICENSE`` declared in :data:`conf.DEFAULTS`."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ..conf import DEFAULTS, overridden


def option(name: str) -> Any:
    """The host's per-request value (the Saleor plugin's Dashboard configuration), else
    ``SALEOR_LICENSE[name]``, else its default."""
    current = overridden()
    if current is not None and name in current.extra:
        return current.extra[name]
    configured = getattr(settings, "SALEOR_LICENSE", {})
    if name in configured:
        return configured[name]
    return DEFAULTS[name]
