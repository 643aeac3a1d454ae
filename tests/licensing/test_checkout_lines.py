from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.licensing import checkout_lines, lifecycle
from saleor_license_plugin.licensing.checkout_lines import (
    INTENT_KEY,
    LineFacts,
    LineInput,
    LineIntent,
    check_checkout_requirements,
    revalidate_line,
)
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import MANAGE_ORDERS, Principal, StaticCatalog
from saleor_license_plugin.licensing.pricing import LineAction
from tests.factories import CATALOG, ROWS, issue

# A key on a line counts against the verification limits of the caller's address.
prepare_line = partial(checkout_lines.prepare_line, client_ip="10.0.0.1")

pytestmark = pytest.mark.django_db
ALICE = Principal("user:alice", "alice@example.com")
BOB = Principal("user:bob", "bob@example.com")


def secret():
    return get_settings().key_secret


def facts(intent, **overrides):
    base = LineFacts(
        line_id="cl-1",
        variant_id=intent.variant_id,
        quantity=intent.quantity,
        private_metadata=intent.to_metadata(secret()),
        price_override=Decimal(intent.unit_price),
        is_license_product=True,
    )
    return replace(base, **overrides)


def code_of(call):
    with pytest.raises(LicenseError) as info:
        call()
    return info.value.code


def test_new_line_round_trips_and_revalidates(now):
    intent, priced = prepare_line(
        LineInput("pro-8", LineAction.NEW, quantity=3, maintenance_years=1), ALICE, CATALOG, now
    )
    assert (intent.quantity, intent.unit_price, intent.currency) == (3, "480.00", "EUR")
    assert priced.quote.total.amount == Decimal("1440.00")
    stored = intent.to_metadata(secret())
    assert LineIntent.from_metadata(stored, secret()) == intent
    assert revalidate_line(facts(intent), ALICE, CATALOG, now + timedelta(minutes=5)) == intent


def test_upgrade_line_for_someone_elses_key_looks_like_an_unknown_key(alice, now):
    from saleor_license_plugin.licensing import keys

    license = issue("pro-8", alice, now)
    answers = []
    for key in (license.display_key(), keys.format_key(keys.generate())):
        with pytest.raises(LicenseError) as info:
            prepare_line(LineInput("pro-16", LineAction.UPGRADE, key), BOB, CATALOG, now)
        answers.append((info.value.code, info.value.message, info.value.field))
    assert answers[0] == answers[1]
    assert answers[0][0] is LicenseErrorCode.NOT_FOUND


def test_renewals_must_use_the_licenses_own_edition(now, alice):
    from tests.factories import edition

    catalog = StaticCatalog.from_dicts(
        [*ROWS, edition("cloud-16", "Cloud", 1, 16, "200", **{"license.term": "annual"})]
    )
    license = issue("cloud-8", alice, now, catalog=catalog)
    key = license.display_key()
    ok, _ = prepare_line(
        LineInput("cloud-8", LineAction.RENEW_LICENSE, key, years=2), ALICE, catalog, now
    )
    assert ok.unit_price == "240.00" and ok.license_revision == 1
    assert (
        code_of(
            lambda: prepare_line(
                LineInput("cloud-16", LineAction.RENEW_LICENSE, key), ALICE, catalog, now
            )
        )
        is LicenseErrorCode.INVALID
    )


def test_tampering_is_caught_at_completion(alice, now):
    license = issue("pro-8", alice, now)
    intent, _ = prepare_line(
        LineInput("pro-16", LineAction.UPGRADE, license.display_key()), ALICE, CATALOG, now
    )
    later = now + timedelta(minutes=1)

    forged = {
        **intent.to_metadata(secret()),
        INTENT_KEY: intent.to_metadata(secret())[INTENT_KEY].replace("300.00", "1.00"),
    }
    cases = {
        "edited intent": (facts(intent, private_metadata=forged), LicenseErrorCode.LINE_TAMPERED),
        "variant swapped": (facts(intent, variant_id="ent-8"), LicenseErrorCode.LINE_TAMPERED),
        "quantity changed": (facts(intent, quantity=2), LicenseErrorCode.QUANTITY_CHANGED),
        "price changed": (
            facts(intent, price_override=Decimal("1.00")),
            LicenseErrorCode.LINE_TAMPERED,
        ),
        "no intent": (
            facts(intent, private_metadata={}),
            LicenseErrorCode.LICENSE_LINE_WITHOUT_INTENT,
        ),
    }
    for name, (line, expected) in cases.items():
        assert (
            code_of(lambda line=line: revalidate_line(line, ALICE, CATALOG, later)) is expected
        ), name
    assert (
        code_of(lambda: revalidate_line(facts(intent), BOB, CATALOG, later))
        is LicenseErrorCode.LINE_TAMPERED
    )


def test_intent_moved_to_another_license_key_is_refused(alice, now):
    mine = issue("pro-8", alice, now)
    other = issue("pro-8", alice, now)
    intent, _ = prepare_line(
        LineInput("pro-16", LineAction.UPGRADE, mine.display_key()), ALICE, CATALOG, now
    )
    swapped = replace(intent, license_id=other.pk)  # re-sealed by someone who knows the secret
    assert revalidate_line(facts(swapped), ALICE, CATALOG, now) == swapped  # same revision: fine
    lifecycle.upgrade_license(other.pk, target=CATALOG.get("ent-8").terms, now=now)
    assert (
        code_of(lambda: revalidate_line(facts(swapped), ALICE, CATALOG, now))
        is LicenseErrorCode.STALE_QUOTE
    )


def test_license_changed_since_quote_is_stale(alice, now):
    license = issue("pro-8", alice, now, maintenance_years=1)
    intent, _ = prepare_line(
        LineInput("pro-8", LineAction.RENEW_MAINTENANCE, license.display_key(), years=1),
        ALICE,
        CATALOG,
        now,
    )
    lifecycle.renew_maintenance(license.pk, years=1, now=now)
    assert (
        code_of(lambda: revalidate_line(facts(intent), ALICE, CATALOG, now))
        is LicenseErrorCode.STALE_QUOTE
    )


def test_quote_expires_and_price_changes_are_stale(alice, now):
    intent, _ = prepare_line(LineInput("pro-8", LineAction.NEW), ALICE, CATALOG, now)
    too_late = now + timedelta(minutes=get_settings().quote_ttl_minutes + 1)
    assert (
        code_of(lambda: revalidate_line(facts(intent), ALICE, CATALOG, too_late))
        is LicenseErrorCode.STALE_QUOTE
    )
    dearer = StaticCatalog.from_dicts(
        [{**row, "price": "999"} if row["id"] == "pro-8" else row for row in ROWS]
    )
    assert (
        code_of(lambda: revalidate_line(facts(intent), ALICE, dearer, now))
        is LicenseErrorCode.STALE_QUOTE
    )


def test_deployment_rules(alice, bob, now):
    mine = lifecycle.create_deployment(name="HQ", owner_id=alice.user_id)
    theirs = lifecycle.create_deployment(name="Bob HQ", owner_id=bob.user_id)
    other_mine = lifecycle.create_deployment(name="Branch", owner_id=alice.user_id)
    assert (
        code_of(
            lambda: prepare_line(
                LineInput("pro-8", LineAction.NEW, deployment_id=theirs.public_id),
                ALICE,
                CATALOG,
                now,
            )
        )
        is LicenseErrorCode.NOT_FOUND
    )
    intent, _ = prepare_line(
        LineInput("pro-8", LineAction.NEW, deployment_id=mine.public_id.lower()),
        ALICE,
        CATALOG,
        now,
    )
    assert intent.deployment_id == mine.public_id

    license = issue("pro-8", alice, now, deployment=mine)
    key = license.display_key()
    assert (
        code_of(
            lambda: prepare_line(
                LineInput("pro-16", LineAction.UPGRADE, key, deployment_id=other_mine.public_id),
                ALICE,
                CATALOG,
                now,
            )
        )
        is LicenseErrorCode.DEPLOYMENT_BINDING_LOCKED
    )
    # quoted unbound, then bound elsewhere before completion: the line may not move it
    free = issue("pro-8", alice, now)
    intent, _ = prepare_line(
        LineInput(
            "pro-16", LineAction.UPGRADE, free.display_key(), deployment_id=other_mine.public_id
        ),
        ALICE,
        CATALOG,
        now,
    )
    lifecycle.bind_deployment(free.pk, mine, now=now)
    assert code_of(lambda: revalidate_line(facts(intent), ALICE, CATALOG, now)) in (
        LicenseErrorCode.STALE_QUOTE,
        LicenseErrorCode.DEPLOYMENT_BINDING_LOCKED,
    )


def test_products_that_need_a_deployment(now):
    catalog = StaticCatalog.from_dicts(
        [
            {**row, "metadata": {**row["metadata"], "license.requires_deployment": "true"}}
            if row["id"] == "pro-8"
            else row
            for row in ROWS
        ]
    )
    assert (
        code_of(lambda: prepare_line(LineInput("pro-8", LineAction.NEW), ALICE, catalog, now))
        is LicenseErrorCode.DEPLOYMENT_REQUIRED
    )


def test_anonymous_buyers_and_ordinary_lines(now):
    assert (
        code_of(lambda: prepare_line(LineInput("pro-8", LineAction.NEW), Principal(), CATALOG, now))
        is LicenseErrorCode.PERMISSION_DENIED
    )
    ordinary = LineFacts("cl-9", "tshirt", 4, {}, None, is_license_product=False)
    assert revalidate_line(ordinary, ALICE, CATALOG, now) is None


def test_staff_can_quote_for_any_license(alice, now):
    license = issue("pro-8", alice, now)
    staff = Principal("user:staff", permissions=frozenset({MANAGE_ORDERS}))
    intent, _ = prepare_line(
        LineInput("pro-16", LineAction.UPGRADE, license.display_key()), staff, CATALOG, now
    )
    assert intent.license_id == license.pk


def test_terms_and_reference_requirements():
    conf = get_settings().with_overrides(require_terms_acceptance=True, require_reference=True)
    assert (
        code_of(lambda: check_checkout_requirements({}, conf))
        is LicenseErrorCode.TERMS_NOT_ACCEPTED
    )
    accepted = {"license.terms_accepted": "true"}
    assert (
        code_of(lambda: check_checkout_requirements(accepted, conf))
        is LicenseErrorCode.REFERENCE_REQUIRED
    )
    assert (
        check_checkout_requirements({**accepted, "license.reference": " PO-4711 "}, conf)
        == "PO-4711"
    )
    assert (
        code_of(
            lambda: check_checkout_requirements({**accepted, "license.reference": "x" * 65}, conf)
        )
        is LicenseErrorCode.INVALID
    )
    assert check_checkout_requirements({}, get_settings()) == ""


def test_end_customer_details_from_checkout_metadata():
    from saleor_license_plugin.licensing.checkout_lines import end_customer_from

    metadata = {
        "license.end_customer_company": " Acme GmbH ",
        "license.end_customer_email": "it@acme.example",
        "unrelated": "x",
    }
    assert end_customer_from(metadata) == {"company": "Acme GmbH", "email": "it@acme.example"}
    assert end_customer_from({}) == {}
    for bad in (
        {"license.end_customer_email": "not-an-email"},
        {"license.end_customer_name": "x" * 256},
    ):
        assert code_of(lambda bad=bad: end_customer_from(bad)) is LicenseErrorCode.INVALID
        assert (
            code_of(lambda bad=bad: check_checkout_requirements(bad, get_settings()))
            is LicenseErrorCode.INVALID
        )


def test_a_key_on_a_line_goes_through_the_rate_limited_lookup(settings, alice, now):
    """The checkout path used its own unlimited key lookup and reported a malformed key under
    ``key``; it is now the verification lookup: counted per key and per client, on licenseKey."""
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "RATE_LIMITS": {**settings.SALEOR_LICENSE["RATE_LIMITS"], "verify_key": "2/60"},
    }
    key = issue("pro-8", alice, now).display_key()
    line = LineInput("pro-16", LineAction.UPGRADE, key)
    prepare_line(line, ALICE, CATALOG, now)
    prepare_line(line, ALICE, CATALOG, now)
    with pytest.raises(LicenseError) as limited:
        prepare_line(line, ALICE, CATALOG, now)
    assert (limited.value.code, limited.value.field) == (LicenseErrorCode.RATE_LIMITED, None)
    with pytest.raises(LicenseError) as malformed:
        prepare_line(LineInput("pro-16", LineAction.UPGRADE, "ABC"), ALICE, CATALOG, now)
    assert (malformed.value.code, malformed.value.field) == (
        LicenseErrorCode.MALFORMED_KEY,
        "licenseKey",
    )
