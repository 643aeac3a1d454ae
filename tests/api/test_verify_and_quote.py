"""verifyLicenseKey and quoteLicenseAction: offers priced by offers.py, no existence oracle,
the anonymous-verification setting, and refusals with codes."""

import pytest
from django.utils import timezone

from saleor_license_plugin.licensing import keys, lifecycle
from saleor_license_plugin.licensing.keys import format_key
from saleor_license_plugin.licensing.offers import offers_for
from tests.api.helpers import ALICE, BOB, CATALOG, RESELLER, STAFF, gql, issue

pytestmark = pytest.mark.django_db

VERIFY = """
mutation($key: String!, $deploymentId: String) {
  verifyLicenseKey(key: $key, deploymentId: $deploymentId) {
    errors { field code message }
    verification {
      minimal status isPerpetual termExpiresAt maintenanceExpiresAt
      edition capacity capacityUnit addOns { code quantity }
      deployment { publicId } deploymentMatches
      license { id keyHint key }
      actions
      upgrades { variantId edition capacity total { amount currency } }
      renewal { years total { amount currency } }
      maintenance { years total { amount currency } }
      expansions { variantId addOn unitPrice { amount currency } }
    }
  }
}"""
QUOTE = """
mutation($input: QuoteLicenseActionInput!) {
  quoteLicenseAction(input: $input) {
    errors { field code message }
    quote { action variantId name quantity years unitPrice { amount currency }
            total { amount currency } breakdown { description amount { amount } } }
  }
}"""


def test_owner_sees_the_offers_computed_by_offers_for():
    license, key = issue("pro-8", ALICE, maintenance_years=1)
    found = gql(VERIFY, {"key": key}, principal=ALICE).payload("verifyLicenseKey")["verification"]
    expected = offers_for(license, CATALOG, timezone.now())
    assert found["minimal"] is False and found["license"]["key"] == key
    assert (found["edition"], found["capacity"]) == ("Professional", 8)
    assert found["actions"] == ["UPGRADE", "RENEW_MAINTENANCE", "EXPANSION"]
    assert [(u["variantId"], u["total"]["amount"]) for u in found["upgrades"]] == [
        (p.item.variant_id, float(p.quote.total.amount)) for p in expected.upgrades
    ]
    assert found["upgrades"][0] == {
        "variantId": "ent-8",
        "edition": "Enterprise",
        "capacity": 8,
        "total": {"amount": 180.0, "currency": "EUR"},
    }
    assert found["renewal"] is None  # perpetual
    assert found["maintenance"] == {"years": 1, "total": {"amount": 89.0, "currency": "EUR"}}
    assert {e["addOn"] for e in found["expansions"]} == {
        "extensions",
        "concurrent_calls",
        "hot_standby",
        "disaster_recovery",
    }


def test_annual_license_offers_a_yearly_renewal():
    _, key = issue("cloud-8", ALICE)
    found = gql(VERIFY, {"key": key}, principal=ALICE).payload("verifyLicenseKey")["verification"]
    assert found["isPerpetual"] is False and found["termExpiresAt"]
    assert found["renewal"] == {"years": 1, "total": {"amount": 180.0, "currency": "EUR"}}


def test_unknown_key_and_someone_elses_key_get_the_identical_answer():
    _, alices = issue("pro-8", ALICE)
    unknown = format_key(keys.generate())  # well formed, never issued
    someone_elses = gql(VERIFY, {"key": alices}, principal=BOB)
    nonexistent = gql(VERIFY, {"key": unknown}, principal=BOB)
    assert someone_elses.status == nonexistent.status == 200
    assert someone_elses.body == nonexistent.body
    assert someone_elses.codes("verifyLicenseKey") == ["NOT_FOUND"]


def test_anonymous_verification_is_off_by_default():
    _, key = issue("pro-8", ALICE)
    reply = gql(VERIFY, {"key": key})
    assert reply.codes("verifyLicenseKey") == ["PERMISSION_DENIED"]
    assert reply.data["verifyLicenseKey"]["verification"] is None


def test_minimal_anonymous_verification_shows_status_and_expiries_only(settings):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "ANONYMOUS_VERIFICATION": "minimal"}
    deployment = lifecycle.create_deployment(name="PBX", owner_id=ALICE.user_id)
    _, key = issue("pro-8", ALICE, maintenance_years=1, deployment=deployment)
    for principal in (None, BOB):
        kwargs = {"principal": principal} if principal else {}
        found = gql(VERIFY, {"key": key}, **kwargs).payload("verifyLicenseKey")["verification"]
        assert found["minimal"] is True and found["status"] == "ACTIVE"
        assert found["maintenanceExpiresAt"] and found["isPerpetual"] is True
        for hidden in ("license", "edition", "capacity", "deployment", "addOns", "renewal"):
            assert found[hidden] is None, hidden
        assert found["upgrades"] == found["expansions"] == found["actions"] == []
    # an unknown key is still NOT_FOUND
    unknown = format_key(keys.generate())
    assert gql(VERIFY, {"key": unknown}).codes("verifyLicenseKey") == ["NOT_FOUND"]


def test_verify_with_a_deployment_says_whether_it_matches():
    home = lifecycle.create_deployment(name="Home", owner_id=ALICE.user_id)
    other = lifecycle.create_deployment(name="Other", owner_id=ALICE.user_id)
    license, key = issue("pro-8", ALICE, deployment=home)

    def matches(deployment_id, principal=ALICE):
        reply = gql(VERIFY, {"key": key, "deploymentId": deployment_id}, principal=principal)
        return reply

    assert matches(home.public_id).payload("verifyLicenseKey")["verification"]["deploymentMatches"]
    assert (
        matches(other.public_id.lower()).payload("verifyLicenseKey")["verification"][
            "deploymentMatches"
        ]
        is False
    )
    assert matches("D-NOPE").codes("verifyLicenseKey") == ["NOT_FOUND"]


def test_verify_refuses_malformed_keys_with_a_field():
    reply = gql(VERIFY, {"key": "ABCDE-12345"}, principal=ALICE)
    assert reply.data["verifyLicenseKey"]["errors"][0]["code"] == "MALFORMED_KEY"
    assert reply.data["verifyLicenseKey"]["errors"][0]["field"] == "key"


def test_quote_new_is_public():
    quote = gql(
        QUOTE, {"input": {"action": "NEW", "variantId": "pro-8", "maintenanceYears": 2}}
    ).payload("quoteLicenseAction")["quote"]
    assert quote["unitPrice"] == {"amount": 445.0 + 2 * 89.0, "currency": "EUR"}
    assert [line["description"] for line in quote["breakdown"]] == [
        "Professional 8",
        "Maintenance, 2 year(s)",
    ]


@pytest.mark.parametrize("principal", [ALICE, RESELLER, STAFF])
def test_quote_upgrade_renew_and_expand_for_those_who_may_see_the_key(principal):
    _, key = issue("cloud-8", ALICE, reseller_id=RESELLER.user_id)

    def quote(**input):
        return gql(QUOTE, {"input": {"licenseKey": key, **input}}, principal=principal)

    renewal = quote(action="RENEW_LICENSE", years=2).payload("quoteLicenseAction")["quote"]
    assert renewal["total"]["amount"] == 360.0 and renewal["years"] == 2
    upgrade = quote(action="UPGRADE", variantId="std-16").payload("quoteLicenseAction")["quote"]
    assert upgrade["action"] == "UPGRADE" and upgrade["variantId"] == "std-16"
    ext = quote(action="EXPANSION", variantId="addon-extensions-10", quantity=3)
    assert ext.payload("quoteLicenseAction")["quote"]["quantity"] == 3


@pytest.mark.parametrize(
    "input, code, field",
    [
        ({"action": "RENEW_LICENSE", "years": -1}, "INVALID_YEARS", "years"),
        ({"action": "RENEW_LICENSE", "years": 4}, "INVALID_YEARS", "years"),  # max_years 3
        (
            {"action": "EXPANSION", "variantId": "addon-calls", "quantity": 0},
            "INVALID_QUANTITY",
            "quantity",
        ),
        ({"action": "UPGRADE", "variantId": "nope"}, "NOT_A_LICENSE_PRODUCT", "variantId"),
        ({"action": "UPGRADE", "variantId": "x" * 300}, "INVALID", "variantId"),
        ({"action": "RENEW_LICENSE", "licenseKey": "bad"}, "MALFORMED_KEY", "licenseKey"),
        ({"action": "RENEW_LICENSE", "licenseKey": None}, "MALFORMED_KEY", "licenseKey"),
    ],
)
def test_quote_refusals(input, code, field):
    _, key = issue("cloud-8", ALICE)
    reply = gql(QUOTE, {"input": {"licenseKey": key, **input}}, principal=ALICE)
    errors = reply.data["quoteLicenseAction"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [(code, field)]


def test_quote_on_someone_elses_key_is_not_found_and_anonymous_is_denied():
    _, key = issue("cloud-8", ALICE)
    input = {"action": "RENEW_LICENSE", "licenseKey": key}
    assert gql(QUOTE, {"input": input}, principal=BOB).codes("quoteLicenseAction") == ["NOT_FOUND"]
    assert gql(QUOTE, {"input": input}).codes("quoteLicenseAction") == ["PERMISSION_DENIED"]


def test_suspended_license_offers_nothing_and_quotes_refuse():
    license, key = issue("pro-8", ALICE, maintenance_years=1)
    lifecycle.suspend_license(license.pk)
    found = gql(VERIFY, {"key": key}, principal=ALICE).payload("verifyLicenseKey")["verification"]
    assert found["status"] == "SUSPENDED" and found["actions"] == [] and found["upgrades"] == []
    reply = gql(
        QUOTE,
        {"input": {"action": "UPGRADE", "licenseKey": key, "variantId": "pro-16"}},
        principal=ALICE,
    )
    assert reply.codes("quoteLicenseAction") == ["LICENSE_NOT_ACTIVE"]
