"""Offline payments: the customer's reference and the payment instructions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from saleor_license_plugin.payments.errors import PaymentError, PaymentErrorCode
from saleor_license_plugin.payments.offline.reference import (
    DEFAULT_INSTRUCTIONS,
    ReferencePolicy,
    clean_reference,
    payment_instructions,
    validate_template,
)

REQUIRED = ReferencePolicy(required=True, min_length=3, max_length=12, label="PO number")
OPTIONAL = ReferencePolicy(required=False, min_length=3, max_length=12, label="PO number")


def code_of(func, *args, **kwargs) -> PaymentErrorCode:
    with pytest.raises(PaymentError) as excinfo:
        func(*args, **kwargs)
    return excinfo.value.code


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_reference_is_refused_when_required_and_empty_when_optional(value):
    assert code_of(clean_reference, value, REQUIRED) is PaymentErrorCode.REQUIRED
    assert clean_reference(value, OPTIONAL) == ""


def test_reference_is_trimmed_and_inner_whitespace_collapsed():
    assert clean_reference("  PO  2026/17 ", REQUIRED) == "PO 2026/17"


@pytest.mark.parametrize("value", ["AB", "PO-0123456789X"])
def test_reference_length_is_enforced(value):
    assert code_of(clean_reference, value, OPTIONAL) is PaymentErrorCode.INVALID_REFERENCE


@pytest.mark.parametrize("value", ["PO#17", "<script>", "PO;DROP", "Bestellnr.ü1", "PO\x0017"])
def test_reference_characters_are_restricted(value):
    assert code_of(clean_reference, value, OPTIONAL) is PaymentErrorCode.INVALID_REFERENCE


@pytest.mark.parametrize("value", ["PO-17", "2026/0042", "INV_9.1", "abc 123"])
def test_ordinary_references_pass(value):
    assert clean_reference(value, REQUIRED) == value


def test_refusal_messages_name_the_configured_label():
    with pytest.raises(PaymentError) as excinfo:
        clean_reference("", REQUIRED)
    assert excinfo.value.message == "PO number is required." and excinfo.value.field == "reference"


def test_instructions_carry_total_currency_and_reference():
    text = payment_instructions(
        DEFAULT_INSTRUCTIONS, total=Decimal("1234.5"), currency="eur", reference="PO-17"
    )
    assert "1234.50 EUR" in text and "PO-17" in text


def test_instructions_fall_back_to_the_order_when_there_is_no_reference():
    text = payment_instructions(
        "Pay {total} {currency} for {reference} by {kind}.",
        total=Decimal("10"),
        currency="USD",
        reference="",
        order="#1001",
        kind="purchase order",
    )
    assert text == "Pay 10.00 USD for #1001 by purchase order."


def test_totals_finer_than_cents_are_kept():
    text = payment_instructions(
        "{total} {currency}", total=Decimal("1000.125"), currency="KWD", reference="x"
    )
    assert text == "1000.125 KWD"


@pytest.mark.parametrize(
    "template", ["Pay {amount}", "Pay {total", "Pay {0}", "{reference.__class__}"]
)
def test_templates_with_unknown_or_broken_placeholders_are_refused(template):
    assert code_of(validate_template, template) is PaymentErrorCode.INVALID
