"""Saleor GraphQL documents and steps shared by the flow tests."""

from decimal import Decimal

from saleor.graphql.tests.utils import get_graphql_content

from license_fixtures import DUMMY_GATEWAY, gid

CHECKOUT_CREATE = """
mutation Create($input: CheckoutCreateInput!) {
  checkoutCreate(input: $input) { checkout { id token } errors { field code message } }
}
"""

LICENSE_LINES_ADD = """
mutation AddLicenseLines($checkoutId: ID!, $lines: [CheckoutLicenseLineInput!]!) {
  checkoutLicenseLinesAdd(checkoutId: $checkoutId, lines: $lines) {
    lines { id quantity quote { action name total { amount currency } } }
    errors { field code message }
  }
}
"""

VERIFY = """
mutation Verify($key: String!) {
  verifyLicenseKey(key: $key) {
    verification {
      status edition capacity termExpiresAt maintenanceExpiresAt
      addOns { code quantity }
      deployment { publicId }
      actions
    }
    errors { field code message }
  }
}
"""

BILLING = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "streetAddress1": "Tęczowa 7",
    "city": "Wrocław",
    "postalCode": "53-601",
    "country": "PL",
}


def create_checkout(api_client, channel_slug="main"):
    data = get_graphql_content(
        api_client.post_graphql(
            CHECKOUT_CREATE,
            {"input": {"channel": channel_slug, "lines": [], "billingAddress": BILLING}},
        )
    )["data"]["checkoutCreate"]
    assert data["errors"] == [], data
    return data["checkout"]["id"]


def add_license_lines(plugin_api, checkout_id, lines):
    return plugin_api.post(LICENSE_LINES_ADD, {"checkoutId": checkout_id, "lines": lines})[
        "checkoutLicenseLinesAdd"
    ]


def verify(plugin_api, key):
    result = plugin_api.post(VERIFY, {"key": key})["verifyLicenseKey"]
    assert result["errors"] == [], result
    return result["verification"]


CHECKOUT_TOTAL = """
query CheckoutTotal($id: ID!) {
  checkout(id: $id) { totalPrice { gross { amount currency } } lines { id quantity } }
}
"""

PAYMENT_CREATE = """
mutation Pay($id: ID!, $input: PaymentInput!) {
  checkoutPaymentCreate(id: $id, input: $input) { payment { id } errors { field code message } }
}
"""

CHECKOUT_COMPLETE = """
mutation Complete($id: ID!) {
  checkoutComplete(id: $id) {
    order { id number status chargeStatus }
    confirmationNeeded
    errors { field code message lines }
  }
}
"""

ADD_PROMO_CODE = """
mutation Promo($id: ID!, $code: String!) {
  checkoutAddPromoCode(id: $id, promoCode: $code) {
    checkout { totalPrice { gross { amount } } }
    errors { field code message }
  }
}
"""


def _id(checkout):
    return checkout if isinstance(checkout, str) else gid("Checkout", checkout.pk)


def checkout_total(api_client, checkout) -> Decimal:
    response = api_client.post_graphql(CHECKOUT_TOTAL, {"id": _id(checkout)})
    data = get_graphql_content(response)
    return Decimal(str(data["data"]["checkout"]["totalPrice"]["gross"]["amount"]))


def pay_and_complete(api_client, checkout, gateway=DUMMY_GATEWAY, token="sample-token"):
    """checkoutPaymentCreate for the full total, then checkoutComplete. Returns the payload."""
    checkout_id = _id(checkout)
    total = checkout_total(api_client, checkout)
    payment = get_graphql_content(
        api_client.post_graphql(
            PAYMENT_CREATE,
            {
                "id": checkout_id,
                "input": {"gateway": gateway, "token": token, "amount": str(total)},
            },
        )
    )["data"]["checkoutPaymentCreate"]
    assert payment["errors"] == [], payment
    return complete(api_client, checkout)


def complete(api_client, checkout):
    response = api_client.post_graphql(CHECKOUT_COMPLETE, {"id": _id(checkout)})
    return get_graphql_content(response)["data"]["checkoutComplete"]
