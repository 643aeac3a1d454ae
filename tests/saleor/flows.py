"""Saleor GraphQL documents and steps shared by the flow tests."""

from decimal import Decimal

from license_fixtures import DUMMY_GATEWAY, gid
from saleor.graphql.tests.utils import get_graphql_content

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


def checkout_total(api_client, checkout) -> Decimal:
    data = get_graphql_content(
        api_client.post_graphql(CHECKOUT_TOTAL, {"id": gid("Checkout", checkout.pk)})
    )
    return Decimal(str(data["data"]["checkout"]["totalPrice"]["gross"]["amount"]))


def pay_and_complete(api_client, checkout, gateway=DUMMY_GATEWAY, token="sample-token"):
    """checkoutPaymentCreate for the full total, then checkoutComplete. Returns the payload."""
    checkout_id = gid("Checkout", checkout.pk)
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
    response = api_client.post_graphql(CHECKOUT_COMPLETE, {"id": gid("Checkout", checkout.pk)})
    return get_graphql_content(response)["data"]["checkoutComplete"]
