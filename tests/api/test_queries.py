"""Queries: who sees which license, keys shown only to owner/reseller/staff, lists scoped,
filtered and paginated without N+1, deployments typeahead, statistics, the public key."""

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_license_plugin.graphql.core import to_global_id
from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.entitlements import get_signer, public_key_b64
from saleor_license_plugin.licensing.ports import ANONYMOUS
from saleor_license_plugin.models import LicenseStatus
from tests.api.helpers import ALICE, BOB, RESELLER, STAFF, gql, issue

pytestmark = pytest.mark.django_db

LICENSE_BY_KEY = "query($key: String){ license(key: $key){ id key keyHint edition } }"
LICENSE_BY_ID = "query($id: ID){ license(id: $id){ id key keyHint ownerEmail } }"
LIST = """
query($filter: LicenseFilterInput, $first: Int, $after: String) {
  licenses(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id key keyHint status edition capacity activationCount
                          deployment { publicId name } addOns { code quantity } } }
  }
}"""


@pytest.mark.parametrize("principal", [ALICE, RESELLER, STAFF])
def test_owner_reseller_and_staff_see_the_full_key(principal):
    license, key = issue("pro-8", ALICE, reseller_id=RESELLER.user_id)
    by_key = gql(LICENSE_BY_KEY, {"key": key.lower()}, principal=principal).data["license"]
    by_id = gql(LICENSE_BY_ID, {"id": by_key["id"]}, principal=principal).data["license"]
    assert by_key["key"] == by_id["key"] == key
    assert by_key["id"] == to_global_id("License", license.pk)
    assert by_id["ownerEmail"] == "alice@example.com"


@pytest.mark.parametrize("principal", [BOB, ANONYMOUS])
def test_others_get_null_for_a_real_key_and_a_real_id(principal):
    license, key = issue("pro-8", ALICE)
    assert gql(LICENSE_BY_KEY, {"key": key}, principal=principal).data["license"] is None
    global_id = to_global_id("License", license.pk)
    assert gql(LICENSE_BY_ID, {"id": global_id}, principal=principal).data["license"] is None


def test_license_query_refuses_bad_arguments_with_codes():
    assert gql(LICENSE_BY_KEY, {"key": "not-a-key"}, principal=ALICE).codes() == ["MALFORMED_KEY"]
    assert gql(LICENSE_BY_ID, {"id": "bm9wZQ=="}, principal=ALICE).codes() == ["INVALID_ID"]
    deployment_id = to_global_id("Deployment", 1)
    assert gql(LICENSE_BY_ID, {"id": deployment_id}, principal=ALICE).codes() == ["INVALID_ID"]
    assert gql("{ license { id } }", principal=ALICE).codes() == ["REQUIRED"]


def test_licenses_are_scoped_to_owner_and_reseller_and_staff_see_all():
    issue("pro-8", ALICE)
    issue("std-4", ALICE, reseller_id=RESELLER.user_id)
    issue("ent-16", BOB)
    count = {
        name: gql(LIST, principal=p).data["licenses"]["totalCount"]
        for name, p in [("alice", ALICE), ("bob", BOB), ("reseller", RESELLER), ("staff", STAFF)]
    }
    assert count == {"alice": 2, "bob": 1, "reseller": 1, "staff": 3}


def test_anonymous_callers_cannot_list():
    reply = gql(LIST)
    assert reply.codes() == ["PERMISSION_DENIED"] and reply.body["data"]["licenses"] is None
    assert gql("{ licenseStatistics { total } }").codes() == ["PERMISSION_DENIED"]
    assert gql("{ deployments { totalCount } }").codes() == ["PERMISSION_DENIED"]


def test_filters(now):
    pro, _ = issue("pro-8", ALICE, maintenance_years=1)
    cloud, _ = issue("cloud-8", ALICE)
    std, std_key = issue("std-16", ALICE)
    lifecycle.suspend_license(std.pk)
    deployment = lifecycle.create_deployment(name="Head office", owner_id=ALICE.user_id)
    lifecycle.bind_deployment(pro.pk, deployment)

    def ids(filter):
        edges = gql(LIST, {"filter": filter}, principal=ALICE).data["licenses"]["edges"]
        return {e["node"]["keyHint"] for e in edges}

    assert ids({"status": ["SUSPENDED"]}) == {std.key_hint}
    assert ids({"status": ["ACTIVE", "SUSPENDED"]}) == {pro.key_hint, cloud.key_hint, std.key_hint}
    assert ids({"edition": "cloud"}) == {cloud.key_hint}
    assert ids({"search": std_key[-5:]}) == {std.key_hint}
    assert ids({"search": "head off"}) == {pro.key_hint}
    assert ids({"search": deployment.public_id}) == {pro.key_hint}
    # the Cloud term and Pro's maintenance both end in a year
    assert ids({"expiringWithinDays": 30}) == set()
    assert ids({"expiringWithinDays": 366}) == {pro.key_hint, cloud.key_hint}
    reply = gql(LIST, {"filter": {"expiringWithinDays": -1}}, principal=ALICE)
    assert reply.codes() == ["INVALID"]


def test_pagination_walks_every_license_once_in_order():
    hints = [issue("std-4", ALICE)[0].key_hint for _ in range(7)]
    seen, after, pages = [], None, 0
    while True:
        page = gql(LIST, {"first": 3, "after": after}, principal=ALICE).data["licenses"]
        assert page["totalCount"] == 7
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [e["node"]["keyHint"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3 and seen == list(reversed(hints))  # newest first


@pytest.mark.parametrize(
    "variables", [{"first": 0}, {"first": 101}, {"first": -5}, {"after": "garbage"}]
)
def test_bad_page_arguments_are_refused(variables):
    issue("std-4", ALICE)
    assert gql(LIST, variables, principal=ALICE).codes() == ["INVALID"]


def test_list_query_count_does_not_grow_with_licenses(django_assert_max_num_queries):
    deployment = lifecycle.create_deployment(name="PBX", owner_id=ALICE.user_id)
    for index in range(25):
        license, _ = issue("pro-8", ALICE, deployment=deployment if index % 2 else None)
    with django_assert_max_num_queries(2):  # the count and the page
        page = gql(LIST, {"first": 25}, principal=ALICE).data["licenses"]
    assert len(page["edges"]) == 25
    assert sum(1 for e in page["edges"] if e["node"]["deployment"]) == 12


RENEWAL_LIST = """
query { licenses(first: 50) {
  edges { node { keyHint lastRenewalAttempt { status attempts orderId } } } } }
"""


def test_last_renewal_attempt_in_lists_is_one_query_and_the_newest_tried(
    django_assert_max_num_queries,
):
    from saleor_license_plugin.models import AutoRenewal

    now = timezone.now()
    licenses = [issue("pro-8", ALICE)[0] for _ in range(12)]
    for index, license in enumerate(licenses[:6]):
        # an older paid attempt, a newer failed one, and a scheduled row never tried
        AutoRenewal.objects.create(
            license=license,
            expires_at=now - timedelta(days=365),
            status="paid",
            attempts=1,
            order_id=f"old-{index}",
            updated_at=now - timedelta(days=300),
        )
        AutoRenewal.objects.create(
            license=license,
            expires_at=now,
            status="failed",
            attempts=3,
            order_id=f"new-{index}",
            updated_at=now - timedelta(days=1),
        )
        AutoRenewal.objects.create(
            license=license, expires_at=now + timedelta(days=365), attempts=0, updated_at=now
        )
    with django_assert_max_num_queries(3):  # the count, the page, the attempts of the page
        edges = gql(RENEWAL_LIST, principal=ALICE).data["licenses"]["edges"]
    attempts = {e["node"]["keyHint"]: e["node"]["lastRenewalAttempt"] for e in edges}
    assert len(attempts) == 12
    for index, license in enumerate(licenses):
        expected = (
            {"status": "failed", "attempts": 3, "orderId": f"new-{index}"} if index < 6 else None
        )
        assert attempts[license.key_hint] == expected


def test_activation_count_in_lists_counts_live_devices_only():
    from saleor_license_plugin.licensing import activation

    license, _ = issue("pro-8", ALICE)
    activation.activate(license, "device-one-0001")
    activation.activate(license, "device-two-0002")
    activation.deactivate(license, "device-one-0001")
    node = gql(LIST, principal=ALICE).data["licenses"]["edges"][0]["node"]
    assert node["activationCount"] == 1


DEPLOYMENTS = """query($search: String, $first: Int){
  deployments(search: $search, first: $first){ totalCount edges { node { publicId name } } } }"""


def test_deployments_typeahead_is_scoped_to_own_and_customers():
    own = lifecycle.create_deployment(name="Alice HQ", owner_id=ALICE.user_id)
    customer = lifecycle.create_deployment(
        name="Customer PBX", owner_id="user:carol", reseller_id=RESELLER.user_id
    )
    lifecycle.create_deployment(name="Bob PBX", owner_id=BOB.user_id)

    def names(principal, search=None):
        data = gql(DEPLOYMENTS, {"search": search}, principal=principal).data["deployments"]
        return [e["node"]["name"] for e in data["edges"]]

    assert names(ALICE) == ["Alice HQ"]
    assert names(RESELLER) == ["Customer PBX"]
    assert names(STAFF, "pbx") == ["Bob PBX", "Customer PBX"]
    assert names(STAFF, own.public_id[-4:].lower()) == ["Alice HQ"]
    assert names(RESELLER, customer.public_id) == ["Customer PBX"]
    assert names(ALICE, "bob") == []


def test_license_statistics_for_a_dashboard():
    now = timezone.now()
    issue("pro-8", ALICE, maintenance_years=1)
    issue("cloud-8", ALICE, now=now - timedelta(days=365 - 20))  # term ends in 20 days
    issue("cloud-8", ALICE, now=now - timedelta(days=365 - 45))  # in 45 days
    suspended, _ = issue("std-4", ALICE)
    lifecycle.suspend_license(suspended.pk)
    issue("std-4", BOB)
    stats = gql(
        """{ licenseStatistics { total byStatus { status count } expiringWithin30Days
             expiringWithin60Days expiringWithin90Days issuedThisMonth } }""",
        principal=ALICE,
    ).data["licenseStatistics"]
    by_status = {row["status"]: row["count"] for row in stats["byStatus"]}
    assert stats["total"] == 4
    assert by_status == {
        "ACTIVE": 3,
        "SUSPENDED": 1,
        "PENDING_PAYMENT": 0,
        "REVOKED": 0,
        "EXPIRED": 0,
    }
    assert (stats["expiringWithin30Days"], stats["expiringWithin60Days"]) == (1, 2)
    assert stats["expiringWithin90Days"] == 2
    # the two Cloud licenses were issued about a year ago
    assert stats["issuedThisMonth"] == 2


def test_licensing_public_key_is_public_and_matches_the_signer():
    key = gql("{ licensingPublicKey { kid algorithm publicKey } }").data["licensingPublicKey"]
    signer = get_signer()
    assert key == {
        "kid": signer.kid,
        "algorithm": "Ed25519",
        "publicKey": public_key_b64(signer.public_key),
    }


def test_statuses_are_exposed_as_enum_names():
    license, key = issue("pro-8", ALICE)
    lifecycle.suspend_license(license.pk)
    node = gql(LIST, principal=ALICE).data["licenses"]["edges"][0]["node"]
    assert node["status"] == LicenseStatus.SUSPENDED.name


def cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode()


@pytest.mark.parametrize(
    "after",
    [
        cursor("x\u0000y", 1),
        cursor("\ud800", 1),
        cursor("name", 2**70),
        cursor("name", -1),
        cursor({"a": 1}, 1),
        cursor(["a"], 1),
        cursor(None, 1),
        cursor("name", True),
        cursor("n" * 400, 1),
    ],
)
@pytest.mark.parametrize("field", ["deployments", "licenses"])
def test_cursors_that_cannot_be_ours_are_invalid(field, after):
    """The bug: a cursor decoding to text with a NUL (or a number beyond bigint) reached
    PostgreSQL and answered INTERNAL_ERROR."""
    lifecycle.create_deployment(name="Alice HQ", owner_id=ALICE.user_id)
    issue("pro-8", ALICE)
    query = f"query($a: String){{ {field}(after: $a){{ totalCount }} }}"
    reply = gql(query, {"a": after}, principal=ALICE)
    assert reply.codes() == ["INVALID"], reply.body
    assert reply.body["errors"][0]["extensions"]["field"] == "after"


def test_real_cursors_still_page():
    for name in ("a", "b", "c"):
        lifecycle.create_deployment(name=name, owner_id=ALICE.user_id)
    query = (
        "query($a: String){ deployments(first: 2, after: $a)"
        "{ pageInfo { endCursor } edges { node { name } } } }"
    )
    first = gql(query, principal=ALICE).data["deployments"]
    after = first["pageInfo"]["endCursor"]
    second = gql(query, {"a": after}, principal=ALICE).data["deployments"]
    assert [e["node"]["name"] for e in second["edges"]] == ["c"]
