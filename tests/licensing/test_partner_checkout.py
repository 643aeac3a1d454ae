"""Checkout rules for partners (issue 13): the end customer a checkout names, who gets the
keys, the deployment of a NEW line, trial conversion lines, lines by license id."""

from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing import checkout_lines, holds, lifecycle, partners
from saleor_license_plugin.licensing.checkout_lines import (
    LineFacts,
    LineInput,
    check_new_line_owner,
    checkout_customer,
    revalidate_line,
)
from saleor_license_plugin.licensing.errors import LicenseError
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.licensing.pricing import LineAction
from saleor_license_plugin.models import LicenseKind
from tests.factories import CATALOG, issue

prepare_line = partial(checkout_lines.prepare_line, client_ip="10.0.0.1")
pytestmark = pytest.mark.django_db
PARTNER_A = Principal("user:partner-a", "sales@a.example")
PARTNER_B = Principal("user:partner-b", "sales@b.example")
ALICE = Principal("user:alice", "alice@example.com")


def failure(call, *args, **kwargs):
    with pytest.raises(LicenseError) as caught:
        call(*args, **kwargs)
    error = caught.value
    return error.code.value, error.field, error.message


@pytest.fixture
def acme():
    partner, _ = partners.set_partner(PARTNER_A.user_id, {})
    return partners.create_customer(partner, {"company": "Acme", "email": "it@acme.example"})


def test_a_checkout_names_one_of_the_buyers_customers(acme):
    meta = {"license.customer": acme.public_id.lower(), "license.keys_to": "Both"}
    assert checkout_customer(meta, PARTNER_A) == (acme, "both")
    assert checkout_customer({}, ALICE) == (None, "partner")


def test_another_partners_customer_looks_like_no_customer(acme):
    partners.set_partner(PARTNER_B.user_id, {})
    named = {"license.customer": acme.public_id}
    unknown = failure(checkout_customer, {"license.customer": "C-ZZZZZZZZ"}, PARTNER_A)
    assert failure(checkout_customer, named, PARTNER_B) == unknown
    assert failure(checkout_customer, named, ALICE) == unknown  # not a partner at all
    partners.set_partner(PARTNER_A.user_id, {"active": False})
    assert failure(checkout_customer, named, PARTNER_A) == unknown  # no longer a partner
    assert unknown[0] == "NOT_FOUND"


@pytest.mark.parametrize(
    "meta",
    [
        {"license.keys_to": "everyone"},
        {"license.keys_to": "customer"},  # no customer named
    ],
)
def test_keys_recipient_must_make_sense(meta):
    assert failure(checkout_customer, meta, ALICE)[:2] == ("INVALID", "metadata")


def test_keys_to_a_customer_without_email_are_refused(acme):
    partners.update_customer(acme, {"email": ""})
    meta = {"license.customer": acme.public_id, "license.keys_to": "customer"}
    assert failure(checkout_customer, meta, PARTNER_A)[:2] == ("INVALID", "metadata")


def test_a_new_lines_deployment_must_serve_the_named_customer(acme, now):
    partner = acme.partner
    globex = partners.create_customer(partner, {"company": "Globex"})
    acme_pbx = lifecycle.create_deployment(
        name="Acme", owner_id=acme.owner_id, reseller_id=partner.user_id, customer_id=acme.pk
    )
    line = LineInput("pro-8", LineAction.NEW, deployment_id=acme_pbx.public_id)
    intent, _ = prepare_line(line, PARTNER_A, CATALOG, now)  # the partner sees the deployment
    check_new_line_owner(intent, acme, PARTNER_A)
    for customer in (globex, None):  # another customer, or the partner itself
        assert failure(check_new_line_owner, intent, customer, PARTNER_A)[0] == (
            "DEPLOYMENT_NOT_OWNED"
        )


def test_a_new_line_with_a_trial_key_is_a_conversion(acme, now):
    trial = issue("pro-8", partners.owner_for(acme), now, kind=LicenseKind.TRIAL)
    line = LineInput("pro-16", LineAction.NEW, trial.display_key())
    intent, priced = prepare_line(line, PARTNER_A, CATALOG, now)
    assert (intent.license_id, intent.license_revision) == (trial.pk, trial.revision)
    assert priced.quote.total.amount == Decimal("700")  # priced as a new license
    assert holds.scope_of(intent, CATALOG) == "convert"
    conf = get_settings()
    facts = LineFacts(
        "l1",
        intent.variant_id,
        1,
        intent.to_metadata(conf.key_secret),
        Decimal(intent.unit_price),
        True,
    )
    assert revalidate_line(facts, PARTNER_A, CATALOG, now + timedelta(minutes=1)) == intent
    standard = issue("pro-8", partners.owner_for(acme), now)
    refused = LineInput("pro-16", LineAction.NEW, standard.display_key())
    assert failure(prepare_line, refused, PARTNER_A, CATALOG, now)[:2] == ("INVALID", "licenseKey")
    two = LineInput("pro-16", LineAction.NEW, trial.display_key(), quantity=2)
    assert failure(prepare_line, two, PARTNER_A, CATALOG, now)[:2] == (
        "INVALID_QUANTITY",
        "quantity",
    )
    assert failure(prepare_line, line, ALICE, CATALOG, now)[:2] == ("NOT_FOUND", "licenseKey")


def test_a_line_may_name_a_license_by_id_instead_of_key(acme, now):
    license = issue("cloud-8", partners.owner_for(acme), now)
    line = LineInput("cloud-8", LineAction.RENEW_LICENSE, license_id=license.pk)
    intent, _ = prepare_line(line, PARTNER_A, CATALOG, now)
    assert intent.license_id == license.pk
    unknown = LineInput("cloud-8", LineAction.RENEW_LICENSE, license_id=license.pk + 1000)
    theirs = failure(prepare_line, line, ALICE, CATALOG, now)
    assert theirs == failure(prepare_line, unknown, PARTNER_A, CATALOG, now)
    assert theirs[:2] == ("NOT_FOUND", "licenseId")
