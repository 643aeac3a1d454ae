"""Shared helpers for the API tests: principals, a GraphQL client over the router, issuing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.test import RequestFactory

from saleor_license_plugin.http.router import dispatch
from saleor_license_plugin.licensing import lifecycle, partners
from saleor_license_plugin.licensing.ports import ANONYMOUS, MANAGE_ORDERS, Principal
from saleor_license_plugin.models import EndCustomer, License, Partner
from saleor_license_plugin.server.catalog import _load
from tests import factories

CATALOG = _load(None)  # the packaged demo catalog
ALICE = Principal("user:alice", "alice@example.com")
BOB = Principal("user:bob", "bob@example.com")
RESELLER = Principal("user:reseller", "sales@reseller.example")
STAFF = Principal("staff:1", "staff@example.com", frozenset({MANAGE_ORDERS}))
# Partners (resellers with an account the merchant set up) and what they see.
PARTNER_A = Principal("user:partner-a", "sales@a.example")
PARTNER_B = Principal("user:partner-b", "sales@b.example")


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def data(self) -> dict[str, Any]:
        assert "errors" not in self.body, self.body
        return self.body["data"]

    def payload(self, name: str) -> dict[str, Any]:
        """A mutation's payload, asserting it succeeded."""
        found = self.data[name]
        assert found["errors"] == [], found["errors"]
        return found

    def codes(self, name: str | None = None) -> list[str]:
        """Error codes: of a mutation payload, or the top-level ones."""
        if name is None:
            return [e["extensions"]["exception"]["code"] for e in self.body.get("errors", [])]
        return [e["code"] for e in self.body["data"][name]["errors"]]


def post(
    path: str,
    body: Any,
    *,
    principal: Principal = ANONYMOUS,
    ip: str = "10.0.0.1",
    checkout: Any = None,
    catalog: Any = None,
    **headers: Any,
) -> Reply:
    raw = body if isinstance(body, bytes | str) else json.dumps(body)
    request = RequestFactory().post(
        path, data=raw, content_type="application/json", REMOTE_ADDR=ip, **headers
    )
    response = dispatch(
        request, path, principal=principal, catalog=catalog or CATALOG, checkout=checkout
    )
    content = response.content
    parsed = (
        json.loads(content)
        if content and response["Content-Type"].startswith("application/json")
        else {}
    )
    return Reply(response.status_code, parsed, dict(response.headers))


def gql(
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    principal: Principal = ANONYMOUS,
    ip: str = "10.0.0.1",
    checkout: Any = None,
    catalog: Any = None,
) -> Reply:
    body = {"query": query, "variables": variables}
    return post("/graphql/", body, principal=principal, ip=ip, checkout=checkout, catalog=catalog)


def device(body: Any, *, ip: str = "10.0.0.2", **headers: Any) -> Reply:
    return post("/activation/", body, ip=ip, **headers)


def make_partner(principal: Principal, **changes: Any) -> Partner:
    changes = {"email": principal.email, "level": "gold", **changes}
    partner, _ = partners.set_partner(principal.user_id or "", changes)
    return partner


def make_customer(partner: Partner, company: str = "Acme GmbH", **fields: Any) -> EndCustomer:
    return partners.create_customer(partner, {"company": company, **fields})


def issue(variant_id: str, owner: Principal | EndCustomer, **kwargs: Any) -> tuple[License, str]:
    """A license of a demo-catalog edition, and its grouped key: a user's, or an end
    customer's (managed by its partner). Issued by the one test issuer, tests.factories.issue,
    against the catalog the API serves here."""
    if isinstance(owner, EndCustomer):
        license_owner = partners.owner_for(owner)
    else:
        license_owner = lifecycle.Owner(
            owner.user_id or "", owner.email, kwargs.pop("reseller_id", "")
        )
    license = factories.issue(variant_id, license_owner, kwargs.pop("now", None), CATALOG, **kwargs)
    return license, license.display_key()
