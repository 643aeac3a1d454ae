"""The router: paths, methods, GraphiQL, parse errors, extending the schema with the context a
host needs, masking unexpected failures, and the client address used for limits."""

import json

import pytest
from django.test import RequestFactory

from saleor_license_plugin.http.client import client_ip
from saleor_license_plugin.http.router import dispatch
from tests.api.helpers import ALICE, CATALOG, STAFF, gql, post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/nope/", "graphql/extra/", "/activation/x"])
def test_unknown_paths_are_json_404(rf, path):
    response = dispatch(rf.post(path), path, principal=ALICE, catalog=CATALOG)
    assert response.status_code == 404
    assert json.loads(response.content)["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("path", ["/graphql/", "graphql", "/graphql"])
def test_get_graphql_serves_graphiql(rf, path):
    response = dispatch(rf.get(path), path, principal=ALICE, catalog=CATALOG)
    assert response.status_code == 200 and b"graphiql" in response.content.lower()


def test_other_methods_are_refused(rf):
    response = dispatch(rf.put("/graphql/"), "/graphql/", principal=ALICE, catalog=CATALOG)
    assert response.status_code == 405 and response["Allow"] == "GET, POST"
    (error,) = json.loads(response.content)["errors"]  # GraphQL's shape on /graphql/
    assert error["extensions"]["exception"]["code"] == "INVALID"


@pytest.mark.parametrize("path", ["/graphql/", "graphql"])
def test_errors_before_dispatch_have_the_shape_of_the_endpoint(path):
    from saleor_license_plugin.http.router import error_response
    from saleor_license_plugin.licensing.errors import LicenseErrorCode

    graphql = json.loads(
        error_response(path, 404, LicenseErrorCode.NOT_FOUND, "No.", "channel").content
    )
    assert graphql == {
        "errors": [
            {
                "message": "No.",
                "extensions": {"exception": {"code": "NOT_FOUND"}, "field": "channel"},
            }
        ]
    }
    device = json.loads(
        error_response("/activation/", 404, LicenseErrorCode.NOT_FOUND, "No.").content
    )
    assert device == {"errors": [{"code": "NOT_FOUND", "message": "No.", "field": None}]}


def test_syntax_and_validation_errors_are_400_with_locations():
    broken = post("/graphql/", {"query": "{ licensingPublicKey { kid "})
    assert broken.status == 400 and broken.body["errors"][0]["locations"]
    unknown = post("/graphql/", {"query": "{ licensingPublicKey { nope } }"})
    assert unknown.status == 400 and "nope" in unknown.body["errors"][0]["message"]
    assert "data" not in unknown.body


def test_operation_name_selects_an_operation():
    query = "query A { licensingPublicKey { kid } } query B { licensingPublicKey { algorithm } }"
    reply = post("/graphql/", {"query": query, "operationName": "B"})
    assert reply.data == {"licensingPublicKey": {"algorithm": "Ed25519"}}
    assert post("/graphql/", {"query": query, "operationName": "C"}).status == 400


def test_an_unexpected_failure_is_internal_error_without_detail(rf, monkeypatch):
    """A resolver that breaks for a reason of its own (fault injected: no real part fails on
    demand) answers INTERNAL_ERROR, and nothing of the exception reaches the caller."""
    from saleor_license_plugin.graphql import queries

    def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(queries, "public_key_b64", broken)
    request = rf.post(
        "/graphql/",
        data={"query": "{ licensingPublicKey { algorithm } }"},
        content_type="application/json",
    )
    body = json.loads(dispatch(request, "/graphql/", principal=STAFF, catalog=CATALOG).content)
    assert body["errors"][0]["message"] == "Internal server error."
    assert body["errors"][0]["extensions"]["exception"]["code"] == "INTERNAL_ERROR"
    assert "hunter2" not in str(body)


def test_the_default_schema_has_no_host_fields():
    assert gql("{ whoami { user } }").status == 400


@pytest.mark.parametrize(
    "hops, forwarded, expected",
    [
        (0, "203.0.113.9", "10.0.0.1"),  # not trusted: the peer
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the one the proxy saw
        (2, "198.51.100.1, 203.0.113.9", "198.51.100.1"),
        (2, "203.0.113.9", "10.0.0.1"),  # fewer hops than configured: the peer
    ],
)
def test_client_ip_trusts_only_configured_proxy_hops(settings, hops, forwarded, expected):
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "TRUSTED_PROXY_HOPS": hops}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
