"""What a newcomer does in `make demo-saleor`, over HTTP only, against the running shop:
the customer buys a Cloud license (no deployment needed) and pays offline with a purchase-order
number; staff capture the order through Saleor's API; the worker issues the key; the customer
sees it in the license API. Exits non-zero at the first step that does not do what it should.

    scripts/demo-saleor.sh walkthrough
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any

BASE = os.environ.get("PUBLIC_URL", "http://localhost:8000").rstrip("/")
SALEOR = f"{BASE}/graphql/"
PLUGIN = f"{BASE}/plugins/global/saleor_license_plugin/graphql/"
OFFLINE = "saleor_license_plugin.payments.offline"
BILLING = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "streetAddress1": "Friedrichstraße 1",
    "city": "Berlin",
    "postalCode": "10117",
    "country": "DE",
}


def call(url: str, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        url, json.dumps({"query": query, "variables": variables}).encode(), headers
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    if body.get("errors"):
        raise SystemExit(f"walkthrough: {url}: {body['errors']}")
    data = body["data"]
    for value in data.values():
        if isinstance(value, dict) and value.get("errors"):
            raise SystemExit(f"walkthrough: {value['errors']}")
    return data


def step(text: str) -> None:
    print(f"walkthrough: {text}", flush=True)


def main() -> None:
    token = call(
        SALEOR,
        "mutation($e: String!, $p: String!){ tokenCreate(email: $e, password: $p){ token"
        " errors { code message } } }",
        {"e": "customer@example.com", "p": "customer"},
    )["tokenCreate"]["token"]
    step("customer signed in (tokenCreate)")
    variant = call(
        SALEOR,
        'query { productVariants(first: 1, channel: "demo", filter: {sku: ["CLOUD-8"]}){'
        " edges { node { id name } } } }",
        {},
        token,
    )["productVariants"]["edges"][0]["node"]
    checkout = call(
        SALEOR,
        "mutation($i: CheckoutCreateInput!){ checkoutCreate(input: $i){ checkout { id } errors"
        " { field code message } } }",
        {"i": {"channel": "demo", "lines": [], "billingAddress": BILLING}},
        token,
    )["checkoutCreate"]["checkout"]["id"]
    lines = call(
        PLUGIN,
        "mutation($c: ID!, $l: [CheckoutLicenseLineInput!]!){ checkoutLicenseLinesAdd("
        "checkoutId: $c, lines: $l){ lines { quote { name total { amount currency } } }"
        " errors { field code message } } }",
        {"c": checkout, "l": [{"variantId": variant["id"], "action": "NEW", "years": 1}]},
        token,
    )["checkoutLicenseLinesAdd"]["lines"]
    quote = lines[0]["quote"]
    price = f"{quote['total']['amount']} {quote['total']['currency']}"
    step(f"license line added: {quote['name']}, {price}")
    total = call(
        SALEOR,
        "query($id: ID!){ checkout(id: $id){ totalPrice { gross { amount } } } }",
        {"id": checkout},
        token,
    )["checkout"]["totalPrice"]["gross"]["amount"]
    call(
        SALEOR,
        "mutation($id: ID!, $i: PaymentInput!){ checkoutPaymentCreate(id: $id, input: $i){"
        " errors { field code message } } }",
        {"id": checkout, "i": {"gateway": OFFLINE, "amount": total}},
        token,
    )
    order = call(
        SALEOR,
        "mutation($id: ID!, $d: JSONString){ checkoutComplete(id: $id, paymentData: $d){"
        " order { id number } errors { field code message } } }",
        {"id": checkout, "d": json.dumps({"reference": "PO-DEMO-1"})},
        token,
    )["checkoutComplete"]["order"]
    step(f"order {order['number']} placed, to be paid by purchase order PO-DEMO-1")
    query_keys = "query { licenses(first: 100){ edges { node { key } } } }"
    before = {e["node"]["key"] for e in call(PLUGIN, query_keys, {}, token)["licenses"]["edges"]}
    staff = call(
        SALEOR,
        'mutation{ tokenCreate(email: "admin@example.com", password: "admin"){ token } }',
        {},
    )["tokenCreate"]["token"]
    captured = call(
        SALEOR,
        "mutation($id: ID!, $a: PositiveDecimal!){ orderCapture(id: $id, amount: $a){"
        " order { chargeStatus } errors { code message } } }",
        {"id": order["id"], "a": total},
        staff,
    )["orderCapture"]["order"]
    step(f"staff captured the order: {captured['chargeStatus']}")
    query = "query { licenses(first: 100){ edges { node { key status edition } } } }"
    for _ in range(60):
        edges = call(PLUGIN, query, {}, token)["licenses"]["edges"]
        issued = [e["node"] for e in edges if e["node"]["key"] not in before]
        if issued:
            new = issued[0]
            step(f"the worker issued {new['edition']} key {new['key']} ({new['status']})")
            return
        time.sleep(1)
    raise SystemExit("walkthrough: no license issued within 60 s: see .demo-saleor/worker.log")


if __name__ == "__main__":
    main()
