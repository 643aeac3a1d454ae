"""API tokens of the standalone server: stored as digests, resolved to principals, revocable;
`create_api_token` prints a token once; the standalone views answer 401 for bad tokens."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.utils import timezone

from saleor_license_plugin.licensing.ports import MANAGE_ORDERS
from saleor_license_plugin.server.auth import InvalidToken, forget_tokens, resolve_principal
from saleor_license_plugin.server.models import ApiToken, token_digest

pytestmark = pytest.mark.django_db


def resolve(header=None):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    return resolve_principal(RequestFactory().get("/", **extra))


def test_tokens_are_stored_as_digests_only():
    row, token = ApiToken.issue(user_id="user:1", email="a@example.com")
    assert token.startswith("slp_") and len(token) > 40
    assert row.digest == token_digest(token) and token not in str(row.__dict__)
    assert token.startswith(row.hint)


def test_bearer_tokens_resolve_to_principals():
    _, customer = ApiToken.issue(user_id="user:1", email="a@example.com")
    _, staff = ApiToken.issue(user_id="staff:1", is_staff=True)
    principal = resolve(f"Bearer {customer}")
    assert (principal.user_id, principal.email, principal.is_staff) == (
        "user:1",
        "a@example.com",
        False,
    )
    assert resolve(f"bearer  {staff}").permissions == frozenset({MANAGE_ORDERS})
    assert resolve().user_id is None  # no header: anonymous


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer slp_unknown", "Basic dXNlcjpwYXNz", "Token abc", "Bearer " + "x" * 300],
)
def test_bad_headers_are_invalid_not_anonymous(header):
    with pytest.raises(InvalidToken):
        resolve(header)


def test_revoked_tokens_stop_working():
    row, token = ApiToken.issue(user_id="user:1")
    row.revoked_at = timezone.now()
    row.save()
    with pytest.raises(InvalidToken):
        resolve(f"Bearer {token}")


def test_create_api_token_prints_the_token_once():
    out = io.StringIO()
    call_command(
        "create_api_token",
        "--user-id",
        "staff:9",
        "--email",
        "s@example.com",
        "--staff",
        stdout=out,
    )
    token = out.getvalue().strip()
    row = ApiToken.objects.get()
    assert row.digest == token_digest(token) and row.is_staff and row.user_id == "staff:9"


@pytest.mark.parametrize(
    "args",
    [
        ["--user-id", " "],
        ["--user-id", "u", "--email", "nope"],
        ["--user-id", "u" * 129],
        ["--user-id", "customer:C-ABCDEFGH"],  # an end customer's owner id: nobody acts as it
    ],
)
def test_create_api_token_refuses_bad_arguments(args):
    with pytest.raises(CommandError):
        call_command("create_api_token", *args, stdout=io.StringIO())
    assert not ApiToken.objects.exists()


@pytest.fixture
def standalone_urls(settings):
    settings.ROOT_URLCONF = "saleor_license_plugin.server.urls"


@pytest.mark.usefixtures("standalone_urls")
def test_standalone_graphql_view_authenticates_with_tokens(client):
    _, token = ApiToken.issue(user_id="user:1")
    query = {"query": "{ licenseStatistics { total } }"}
    ok = client.post(
        "/graphql/", query, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert (
        ok.status_code == 200 and json.loads(ok.content)["data"]["licenseStatistics"]["total"] == 0
    )
    bad = client.post(
        "/graphql/", query, content_type="application/json", HTTP_AUTHORIZATION="Bearer nope"
    )
    assert bad.status_code == 401 and bad["WWW-Authenticate"] == "Bearer"
    # GraphQL's error shape on /graphql/ (it used to be the device endpoint's)
    (error,) = json.loads(bad.content)["errors"]
    assert error["extensions"]["exception"]["code"] == "PERMISSION_DENIED"
    assert set(error) == {"message", "extensions"}


@pytest.mark.usefixtures("standalone_urls")
def test_standalone_views_need_no_csrf_token_and_devices_no_api_token(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    reply = strict.post(
        "/activation/", {"key": "x", "fingerprint": "y"}, content_type="application/json"
    )
    assert reply.status_code == 400  # a refusal of the input, not a CSRF 403
    reply = strict.post(
        "/graphql/", {"query": "{ licensingPublicKey { kid } }"}, content_type="application/json"
    )
    assert reply.status_code == 200
    assert client.get("/bench/lookup/").status_code == 404  # benchmark view off by default


def test_resolved_tokens_are_remembered_briefly(settings, django_assert_num_queries):
    settings.LICENSE_TOKEN_CACHE_SECONDS = 60
    forget_tokens()
    row, token = ApiToken.issue(user_id="user:1")
    with django_assert_num_queries(1):
        resolve(f"Bearer {token}")
        resolve(f"Bearer {token}")
    row.revoked_at = timezone.now()
    row.save()
    assert resolve(f"Bearer {token}").user_id == "user:1"  # until the entry expires
    forget_tokens()
    with pytest.raises(InvalidToken):
        resolve(f"Bearer {token}")


def test_without_remembering_revocation_is_immediate(settings):
    settings.LICENSE_TOKEN_CACHE_SECONDS = 0
    row, token = ApiToken.issue(user_id="user:1")
    resolve(f"Bearer {token}")
    row.revoked_at = timezone.now()
    row.save()
    with pytest.raises(InvalidToken):
        resolve(f"Bearer {token}")
