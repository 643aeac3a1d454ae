"""Query limits, as Saleor limits its own API: depth, fields, aliases, mutations and a cost per
field where lists cost by their page size. Refused before execution with QUERY_TOO_COMPLEX."""

import time

import pytest
from graphql.utils.introspection_query import introspection_query

from saleor_license_plugin import conf
from tests.api.helpers import ALICE, STAFF, gql, issue

pytestmark = pytest.mark.django_db


def limits(settings, **values):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, **values}


def aliased(count: int, field: str) -> str:
    return "{ " + " ".join(f"a{i}: {field}" for i in range(count)) + " }"


def test_hundreds_of_aliased_pages_are_refused_before_execution(django_assert_max_num_queries):
    """The bug: ~300 aliased ``licenses(first: 100)`` in 20 kB took ~4 s for a customer."""
    issue("pro-8", ALICE)
    query = aliased(300, "licenses(first: 100) { totalCount edges { node { id } } }")
    assert len(query) < 20_000
    started = time.perf_counter()
    with django_assert_max_num_queries(0):
        reply = gql(query, principal=ALICE)
    assert time.perf_counter() - started < 1.0
    assert reply.status == 400 and reply.codes() == ["QUERY_TOO_COMPLEX"]
    assert "data" not in reply.body


def test_the_cost_counts_pages_by_their_size(settings):
    issue("pro-8", ALICE)
    query = "query($n: Int){ licenses(first: $n){ edges { node { id deployment { name } } } } }"
    small = gql(query, {"n": 2}, principal=ALICE)
    large = gql(query, {"n": 100}, principal=ALICE)
    cost = small.body["extensions"]["cost"]
    assert cost["maximumAvailable"] == conf.DEFAULTS["GRAPHQL_MAX_COST"]
    # licenses 1×n, edges n, node n, deployment n: four object fields per row
    assert cost["requestedQueryCost"] == 2 * 4
    assert large.body["extensions"]["cost"]["requestedQueryCost"] == 100 * 4
    limits(settings, GRAPHQL_MAX_COST=100)
    refused = gql(query, {"n": 100}, principal=ALICE)
    assert refused.status == 400 and refused.codes() == ["QUERY_TOO_COMPLEX"]
    assert refused.body["errors"][0]["extensions"]["cost"] == {
        "requestedQueryCost": 400,
        "maximumAvailable": 100,
    }
    assert gql(query, {"n": 2}, principal=ALICE).status == 200


def test_depth_is_limited(settings):
    query = "{ licenses { edges { node { deployment { name } } } } }"  # depth 5
    assert gql(query, principal=ALICE).status == 200
    limits(settings, GRAPHQL_MAX_DEPTH=4)
    reply = gql(query, principal=ALICE)
    assert reply.status == 400 and reply.codes() == ["QUERY_TOO_COMPLEX"]
    # fragments count as what they expand to
    spread = (
        "{ licenses { edges { ...N } } } fragment N on LicenseCountableEdge"
        " { node { deployment { name } } }"
    )
    assert gql(spread, principal=ALICE).codes() == ["QUERY_TOO_COMPLEX"]


def test_aliases_are_limited(settings):
    limits(settings, GRAPHQL_MAX_ALIASES=10)
    assert gql(aliased(10, "licensingPublicKey { kid }")).status == 200
    reply = gql(aliased(11, "licensingPublicKey { kid }"))
    assert reply.status == 400 and reply.codes() == ["QUERY_TOO_COMPLEX"]


def test_fields_are_limited_and_counted_with_fragments_expanded(settings):
    limits(settings, GRAPHQL_MAX_FIELDS=20)
    ten = "fragment K on LicensingPublicKey { " + "kid algorithm publicKey " * 3 + "kid }"
    assert gql("{ licensingPublicKey { ...K } } " + ten).status == 200  # 11 fields
    twice = "{ a: licensingPublicKey { ...K } b: licensingPublicKey { ...K } } " + ten
    assert gql(twice).codes() == ["QUERY_TOO_COMPLEX"]  # 22 fields


def chain(length: int) -> str:
    """``{ ...F0 }`` and fragments F0 → F1 → … → F<length>: no brackets nested, a long path."""
    links = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(length))
    return "{ ...F0 } " + links + f" fragment F{length} on Query {{ licensingPublicKey {{ kid }} }}"


def test_fragment_chains_count_as_nesting():
    """graphql-core's validation recurses once per fragment hop, like once per bracket."""
    assert gql(chain(40)).status == 200
    for length in (60, 400):
        reply = gql(chain(length))
        assert reply.status == 400 and reply.codes() == ["QUERY_TOO_COMPLEX"]


def test_fragments_cannot_multiply_exponentially():
    """Each fragment spreads the next twice, in two fields: 2^30 fields once expanded."""
    links = " ".join(
        f"fragment F{i} on Query {{ a: licensingPublicKey {{ kid }} ...F{i + 1} }}"
        for i in range(30)
    )
    doubling = " ".join(
        f"fragment G{i} on LicensingPublicKey {{ kid ... on LicensingPublicKey {{ ...G{i + 1} }}"
        f" ... on LicensingPublicKey {{ ...G{i + 1} }} }}"
        for i in range(30)
    )
    for query in (
        "{ ...F0 } " + links + " fragment F30 on Query { licensingPublicKey { kid } }",
        "{ licensingPublicKey { ...G0 } } "
        + doubling
        + " fragment G30 on LicensingPublicKey { kid }",
    ):
        started = time.perf_counter()
        reply = gql(query)
        assert time.perf_counter() - started < 1.0
        assert reply.status in (200, 400)
        if reply.status == 400:
            assert set(reply.codes()) <= {"QUERY_TOO_COMPLEX", "GRAPHQL_VALIDATION_FAILED"}


def test_the_same_field_many_times_cannot_make_validation_quadratic():
    """graphql-core compares every pair of fields with one response name: 4,000 ``kid`` took
    11 s to validate, 500 ``a: licenses(first: i)`` 3 s."""
    for query in (
        "{ licensingPublicKey { " + "kid " * 4000 + "} }",
        "{ " + " ".join(f"a: licenses(first: {i}) {{ totalCount }}" for i in range(1, 500)) + " }",
    ):
        started = time.perf_counter()
        reply = gql(query, principal=ALICE)
        assert time.perf_counter() - started < 1.0
        assert reply.status == 400 and reply.codes() == ["QUERY_TOO_COMPLEX"]


def test_mutations_per_request_are_limited(settings):
    create = 'deploymentCreate(name: "PBX") { errors { code } }'
    assert gql("mutation " + aliased(4, create), principal=ALICE).status == 200
    reply = gql("mutation " + aliased(5, create), principal=ALICE)
    assert reply.status == 400 and reply.codes() == ["QUERY_TOO_COMPLEX"]
    limits(settings, GRAPHQL_MAX_MUTATIONS=1)
    assert gql("mutation " + aliased(2, create), principal=ALICE).codes() == ["QUERY_TOO_COMPLEX"]


def type_ref(levels: int) -> str:
    inner = "kind name"
    for _ in range(levels):
        inner = f"kind name ofType {{ {inner} }}"
    return f"fragment TypeRef on __Type {{ {inner} }}"


# graphql-js 16 (GraphiQL 3) asks for 9 levels of ofType; graphql-core 2 for 7.
GRAPHIQL_INTROSPECTION = introspection_query[: introspection_query.index("fragment TypeRef")]
GRAPHIQL_INTROSPECTION += type_ref(9)


@pytest.mark.parametrize("query", [introspection_query, GRAPHIQL_INTROSPECTION])
def test_introspection_fits_the_limits(query):
    reply = gql(query)
    assert reply.status == 200, reply.body
    assert reply.data["__schema"]["queryType"]["name"] == "Query"


def test_a_dashboard_page_fits_the_limits():
    query = """{
      licenseStatistics { total byStatus { status count } expiringWithin30Days }
      deployments(first: 100) { totalCount edges { node { publicId name ownerId } } }
      licenses(first: 100) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node {
          id key keyHint kind status edition capacity capacityUnit isPerpetual termExpiresAt
          maintenanceExpiresAt addOns { code kind quantity expiresAt } maxActivations
          activationCount deployment { publicId name } endCustomer { company name email }
        } }
      }
    }"""
    reply = gql(query, principal=STAFF)
    assert reply.status == 200, reply.body
    assert (
        reply.body["extensions"]["cost"]["requestedQueryCost"] < conf.DEFAULTS["GRAPHQL_MAX_COST"]
    )
