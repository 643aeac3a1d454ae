"""What differs between the Saleor versions we support, in one place."""

from __future__ import annotations

from functools import cache
from typing import Any

from saleor.checkout.models import CheckoutLine


@cache
def _checkout_line_field_names() -> frozenset[str]:
    return frozenset(field.name for field in CheckoutLine._meta.get_fields())


def checkout_line_fields(**fields: Any) -> dict[str, Any]:
    """Only the fields this Saleor's CheckoutLine has: ``price_override_reason`` arrived in
    3.23.19 (migration checkout/0094); older versions get the line without it."""
    names = _checkout_line_field_names()
    return {name: value for name, value in fields.items() if name in names}


def configured_plugin_url(plugin_id: str) -> str | None:
    """The plugin's absolute base URL from Saleor's ``PUBLIC_URL``; None when it is not set.

    Saleor fetches an app's manifest with its hardened HTTP client, which sends ``Host``
    without the port (requests_hardened connects to the checked IP and names the host alone),
    so URLs the manifest builds from the request lose a non-default port; Saleor's own public
    URL, when configured, is the address the Dashboard and the browser reach."""
    from django.conf import settings

    if not getattr(settings, "PUBLIC_URL", None):
        return None
    from saleor.core.utils import build_absolute_uri

    return str(build_absolute_uri(f"/plugins/global/{plugin_id}/"))


@cache
def dashboard_widgets_supported() -> bool:
    """WIDGET extensions on order and customer pages arrived in Saleor 3.22; older versions
    refuse them in an app manifest, so the Dashboard app offers "more actions" entries there."""
    import saleor

    major, minor = (int(part) for part in saleor.__version__.split(".")[:2])
    return (major, minor) >= (3, 22)


def checkout_total(manager: Any, checkout_info: Any, lines: Any) -> Any:
    """The checkout's gross total with gift cards: Saleor up to 3.23.0 takes the address to
    tax by as an argument (the shipping address, else the billing one); 3.23.x later does not."""
    import inspect

    from saleor.checkout.calculations import calculate_checkout_total_with_gift_cards as total

    if "address" in inspect.signature(total).parameters:
        address = checkout_info.shipping_address or checkout_info.billing_address
        return total(manager, checkout_info, lines, address)
    return total(manager, checkout_info, lines)
