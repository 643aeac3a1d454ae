"""saleor_host/compat.py against the Saleor version this tier runs on."""

from saleor.checkout.models import CheckoutLine

from saleor_license_plugin.saleor_host.compat import checkout_line_fields


def test_checkout_line_fields_keeps_exactly_the_fields_this_saleor_has():
    names = {field.name for field in CheckoutLine._meta.get_fields()}
    fields = checkout_line_fields(quantity=1, price_override_reason="License new", no_such=1)
    assert fields.pop("quantity") == 1
    assert "no_such" not in fields
    # price_override_reason: Saleor 3.23.19+ (migration checkout/0094).
    assert ("price_override_reason" in fields) == ("price_override_reason" in names)
    CheckoutLine(**checkout_line_fields(quantity=1, price_override_reason="License new"))
