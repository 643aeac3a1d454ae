"""A corpus of hostile and broken requests against both endpoints: every one gets a clear error,
none a 500."""

import json

import pytest

from saleor_license_plugin.graphql.core import to_global_id
from tests.api.helpers import ALICE, STAFF, device, gql, issue, post

pytestmark = pytest.mark.django_db

QUOTE = "mutation($i: QuoteLicenseActionInput!){ quoteLicenseAction(input: $i){ errors { code } } }"
RAW_BODIES = [
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"{",
    b"\xff\xfe\x00garbage",
    b"[" * 5000 + b"]" * 5000,
    json.dumps({"query": None}).encode(),
    json.dumps({"query": 42}).encode(),
    json.dumps({"query": "{ licensingPublicKey { kid } }", "variables": [1]}).encode(),
    json.dumps({"query": "{ licensingPublicKey { kid } }", "operationName": 5}).encode(),
    json.dumps({"query": "{" * 3000}).encode(),
    json.dumps({"query": "x" * 30_000}).encode(),
    b'{"query": "' + b"a" * 70_000 + b'"}',
]

QUERIES = [
    ("{ nope }", None),
    ("query { license(id: 5) { id } }", None),
    ("query($id: ID){ license(id: $id){ id } }", {"id": "%%%"}),
    ("query($id: ID){ license(id: $id){ id } }", {"id": "TGljZW5zZTp4"}),  # License:x
    ("query($id: ID){ license(id: $id){ id } }", {"id": "A" * 10_000}),
    ("query($k: String){ license(key: $k){ id } }", {"k": "\u0000" * 50}),
    ("query($k: String){ license(key: $k){ id } }", {"k": "7" * 5000}),
    ("query($f: Int){ licenses(first: $f){ totalCount } }", {"f": "ten"}),
    ("query($f: Int){ licenses(first: $f){ totalCount } }", {"f": 2**40}),
    ("query($a: String){ licenses(after: $a){ totalCount } }", {"a": "W10="}),  # []
    ("query($a: String){ licenses(after: $a){ totalCount } }", {"a": "WyJ4IiwgMV0="}),  # ["x",1]
    ("query($s: String){ deployments(search: $s){ totalCount } }", {"s": "s" * 1000}),
    (
        "query($f: LicenseFilterInput){ licenses(filter: $f){ totalCount } }",
        {"f": {"status": ["NOPE"]}},
    ),
    (
        "query($f: LicenseFilterInput){ licenses(filter: $f){ totalCount } }",
        {"f": {"expiringWithinDays": 10**9}},
    ),
    ("mutation($k: String!){ verifyLicenseKey(key: $k){ errors { code } } }", {"k": ""}),
    ("mutation($k: String!){ verifyLicenseKey(key: $k){ errors { code } } }", {"k": {"a": 1}}),
    (
        "mutation($k: String!, $d: String){ verifyLicenseKey(key: $k, deploymentId: $d){"
        " errors { code } } }",
        {"k": "KEY", "d": "D-" + "X" * 100},
    ),
    (
        QUOTE,
        {"i": {"action": "RENEW_LICENSE", "licenseKey": "KEY", "years": -5}},
    ),
    (
        QUOTE,
        {"i": {"action": "NEW", "variantId": "pro-8", "quantity": 10**6}},
    ),
    (
        QUOTE,
        {"i": {"action": "DESTROY"}},
    ),
    (
        "mutation($i: IssueLicenseInput!){ issueLicense(input: $i){ errors { code } } }",
        {"i": {"variantId": "pro-8", "ownerId": "x", "years": 1000}},
    ),
    (
        "mutation($i: IssueLicenseInput!){ issueLicense(input: $i){ errors { code } } }",
        {"i": {"variantId": "pro-8", "ownerId": "x\u0000y"}},
    ),
    (
        "mutation($i: IssueLicenseInput!){ issueLicense(input: $i){ errors { code } } }",
        {"i": {"variantId": "pro-8", "ownerId": "x", "idempotencyKey": "k" * 1000}},
    ),
    (
        'mutation($id: ID!){ revokeLicense(id: $id, reason: "r"){ errors { code } } }',
        {"id": to_global_id("License", 10**20)},
    ),
    (
        "mutation($n: String!){ deploymentCreate(name: $n){ errors { code } } }",
        {"n": "\n\t"},
    ),
    (
        "mutation($k: String!, $f: String!){ activateLicense(key: $k, fingerprint: $f){"
        " errors { code } } }",
        {"k": "KEY", "f": "f" * 100_00},
    ),
    (
        "mutation($k: String!, $f: String!){ deactivateLicense(key: $k, fingerprint: $f){"
        " errors { code } } }",
        {"k": "KEY", "f": "never-activated"},
    ),
]

DEVICE_BODIES = [
    {},
    {"key": 1, "fingerprint": 2},
    {"key": "KEY", "fingerprint": {"a": 1}},
    {"key": "KEY", "fingerprint": "\u0000" * 20},
    {"key": "KEY", "fingerprint": "ok-fingerprint", "deploymentId": ["D-1"]},
    {"key": "KEY", "fingerprint": "ok-fingerprint", "deploymentId": ""},
    {"key": "K" * 100_00, "fingerprint": "ok-fingerprint"},
    {"key": True, "fingerprint": False},
]


def substitute(value, key):
    if value == "KEY":
        return key
    if isinstance(value, dict):
        return {k: substitute(v, key) for k, v in value.items()}
    return value


@pytest.mark.parametrize("principal", [None, ALICE, STAFF])
def test_no_request_in_the_corpus_gets_a_500(principal):
    _, key = issue("pro-8", ALICE)
    kwargs = {"principal": principal} if principal else {}
    replies = []
    for body in RAW_BODIES:
        replies.append(("graphql raw", body[:40], post("/graphql/", body, **kwargs)))
        replies.append(("device raw", body[:40], post("/activation/", body)))
    for query, variables in QUERIES:
        replies.append(("graphql", query[:60], gql(query, substitute(variables, key), **kwargs)))
    for body in DEVICE_BODIES:
        replies.append(("device", str(body)[:60], device(substitute(body, key))))
    for where, what, reply in replies:
        assert reply.status < 500, (where, what, reply.status, reply.body)
        assert reply.body.get("errors") or any(
            payload and payload.get("errors") for payload in (reply.body.get("data") or {}).values()
        ), (where, what, reply.body)
        for error in reply.body.get("errors", []):
            assert error["message"] != "Internal server error.", (where, what)


UNPRINTABLE = ["\u0000", "\ud800", "\udfff", "a\u0000b", "\x7f", "\u202e"]
ACTIVATE = (
    "mutation($k: String!, $f: String!, $d: String){ activateLicense(key: $k, fingerprint: $f,"
    " deploymentId: $d){ errors { field code } } }"
)


@pytest.mark.parametrize("bad", UNPRINTABLE)
def test_text_arguments_refuse_unprintable_text(bad):
    """NUL and lone surrogates never reach PostgreSQL from GraphQL either: every text argument
    goes through text(), a key, a fingerprint or a deployment id check."""
    _, key = issue("pro-8", ALICE)
    mutation = "mutation($n: String!){ deploymentCreate(name: $n){ errors { field code } } }"
    reply = gql(mutation, {"n": f"PBX{bad}HQ"}, principal=ALICE)
    assert reply.data["deploymentCreate"]["errors"] == [{"field": "name", "code": "INVALID"}]
    search = gql(
        "query($s: String){ deployments(search: $s){ totalCount } }",
        {"s": f"a{bad}"},
        principal=STAFF,
    )
    assert search.codes() == ["INVALID"]
    variables = {"k": key, "f": "pbx-serial-0001", "d": f"D-{bad}"}
    for field, value in [("key", key[:3] + bad + key[3:]), ("fingerprint", f"pbx-{bad}-0001")]:
        errors = gql(ACTIVATE, {**variables, "d": None, field[0]: value}).data["activateLicense"]
        assert errors["errors"][0]["field"] == field, errors
    errors = gql(ACTIVATE, variables).data["activateLicense"]["errors"]
    assert errors == [{"field": "deploymentId", "code": "INVALID"}]
