from dataclasses import asdict

from saleor_license_plugin.fulfillment.orders import OrderLinePayload, OrderPayload
from saleor_license_plugin.licensing.checkout_lines import LineInput, prepare_line
from tests.factories import CATALOG, METADATA


def order(order_id, buyer, lines, now, **kw):
    """An order payload as the Saleor hook builds it: intents prepared for ``buyer``."""
    payload_lines = []
    for index, line in enumerate(lines):
        intent, _ = prepare_line(line, buyer, CATALOG, now, client_ip="10.0.0.1")
        payload_lines.append(
            OrderLinePayload(f"{order_id}-l{index}", asdict(intent), METADATA[line.variant_id])
        )
    return OrderPayload(
        order_id, buyer.user_id, buyer.email, tuple(payload_lines), currency="EUR", **kw
    )


__all__ = ["LineInput", "order"]
