"""Issue 9, "server errors from anonymous input": documents that crashed graphql-core's
validation, top-level errors without a code, tracebacks logged for ordinary refusals."""

import json
import logging

import pytest

from saleor_license_plugin.graphql.errors import RequestErrorCode
from saleor_license_plugin.licensing.errors import LicenseErrorCode
from tests.api.helpers import ALICE, gql, post

pytestmark = pytest.mark.django_db

DOCUMENTED = {code.value for code in LicenseErrorCode} | {code.value for code in RequestErrorCode}


CRASHERS = {
    "fragment cycle": (
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "fragment spreading itself": (
        "{ ...A } fragment A on Query { licensingPublicKey { kid } ...A }",
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "unused fragment cycle": (
        "{ licensingPublicKey { kid } } fragment A on Query { ...B } fragment B on Query { ...A }",
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "cycle through a field": (
        "{ ...A } fragment A on Query { licenses { edges { node { id } } ...B } }"
        " fragment B on LicenseCountableConnection { edges { node { id } } } "
        " fragment C on Query { ...A }",
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "selections 300 deep": ("{ licenses " + "{ edges " * 300 + "}" * 301, "QUERY_TOO_COMPLEX"),
    "list literal 400 deep": (
        "{ license(key: " + "[" * 400 + "]" * 400 + ") { id } }",
        "QUERY_TOO_COMPLEX",
    ),
    "object literal 400 deep": (
        "{ licenses(filter: " + "{a: " * 400 + "1" + "}" * 400 + ") { totalCount } }",
        "QUERY_TOO_COMPLEX",
    ),
    "variable default 400 deep": (
        "query($f: LicenseFilterInput = " + "{a: " * 400 + "1" + "}" * 400 + ")"
        " { licenses(filter: $f) { totalCount } }",
        "QUERY_TOO_COMPLEX",
    ),
    "inline fragments 400 deep": (
        "{ " + "... on Query { " * 400 + "licensingPublicKey { kid }" + " }" * 401,
        "QUERY_TOO_COMPLEX",
    ),
}


@pytest.mark.parametrize("name", CRASHERS)
def test_documents_that_crashed_validation_are_coded_400s(name, caplog):
    """The bug: RecursionError in graphql-core's validation, HTTP 500, kilobytes of traceback."""
    query, code = CRASHERS[name]
    with caplog.at_level(logging.DEBUG):
        reply = gql(query)
    assert reply.status == 400, reply.body
    assert reply.codes() == [code]
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_deeply_nested_variables_are_refused_not_crashed(caplog):
    nested: object = "ACTIVE"
    for _ in range(900):
        nested = [nested]
    query = "query($f: LicenseFilterInput){ licenses(filter: $f){ totalCount } }"
    with caplog.at_level(logging.DEBUG):
        reply = gql(query, {"f": {"status": nested}}, principal=ALICE)
    assert reply.status == 400 and reply.codes() == ["INVALID"]
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    "body, code",
    [
        ({"query": "{ licensingPublicKey { kid "}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "query query"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": '{ license(key: "unterminated) { id } }'}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "{ licensingPublicKey }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": '{ licenses(first: "ten") { totalCount } }'}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": "type Foo { a: Int } { licensingPublicKey { kid } }"}, None),
        ({"query": "subscription { licensingPublicKey { kid } }"}, None),
        (
            {"query": "query A { licensingPublicKey { kid } } query B { licenses { totalCount } }"},
            "INVALID",
        ),
        (
            {"query": "query A { licensingPublicKey { kid } }", "operationName": "B"},
            "INVALID",
        ),
        (
            {"query": "query($k: String!){ license(key: $k){ id } }", "variables": {}},
            "INVALID",
        ),
        (
            {
                "query": "query($f: LicenseFilterInput){ licenses(filter: $f){ totalCount } }",
                "variables": {"f": {"status": ["NOPE"]}},
            },
            "INVALID",
        ),
        (
            {
                "query": "query($f: Int){ licenses(first: $f){ totalCount } }",
                "variables": {"f": 2**40},
            },
            "INVALID",
        ),
    ],
)
def test_syntax_validation_and_variable_errors_carry_a_code(body, code):
    """The bug: these came back as top-level errors without ``extensions.exception.code``."""
    reply = post("/graphql/", body, principal=ALICE)
    assert reply.status == 400, reply.body
    codes = reply.codes()
    assert codes and set(codes) <= DOCUMENTED, reply.body
    if code is not None:
        assert set(codes) == {code}, reply.body
    assert "data" not in reply.body


def test_variable_and_operation_errors_name_their_input():
    missing = gql("query($k: String!){ license(key: $k){ id } }", {})
    assert missing.body["errors"][0]["extensions"]["field"] == "variables"
    assert "$k" in missing.body["errors"][0]["message"]
    unknown = post(
        "/graphql/", {"query": "query A { licensingPublicKey { kid } }", "operationName": "B"}
    )
    assert unknown.body["errors"][0]["extensions"]["field"] == "operationName"


def test_many_validation_errors_are_cut_short():
    many = "{ " + " ".join(f"nope{i}" for i in range(60)) + " }"
    reply = gql(many)
    assert reply.status == 400 and 1 <= len(reply.body["errors"]) <= 21
    assert set(reply.codes()) == {"GRAPHQL_VALIDATION_FAILED"}


def test_refusals_in_queries_log_nothing(caplog):
    """The bug: graphql-core's executor logged a full traceback at ERROR for every refusal
    (an anonymous ``{ licenses { totalCount } }`` wrote ~1.4 kB)."""
    with caplog.at_level(logging.DEBUG):
        reply = gql("{ licenses { totalCount } }")
        assert reply.codes() == ["PERMISSION_DENIED"]
        reply = gql('{ license(key: "nope") { id } }', principal=ALICE)
        assert reply.codes() == ["MALFORMED_KEY"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "Traceback" not in caplog.text


def test_an_unexpected_failure_is_logged_once(caplog, monkeypatch):
    from saleor_license_plugin.graphql import queries

    def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(queries, "public_key_b64", broken)
    with caplog.at_level(logging.DEBUG):
        reply = gql("{ licensingPublicKey { algorithm } }")
    assert reply.codes() == ["INTERNAL_ERROR"] and "hunter2" not in json.dumps(reply.body)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "hunter2" in caplog.text  # the operator gets the detail, once


def test_graphql_core_logs_outside_the_plugin_are_left_alone(caplog):
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("graphql.execution.utils").error("the host's own API")
    assert "the host's own API" in caplog.text
