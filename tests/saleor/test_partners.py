"""Partners through a real Saleor (issue 13): a partner orders for its end customer through
checkoutComplete; the license is the customer's and managed by the partner, both see it;
another partner's customer is refused at checkoutComplete; the renewals report's lines
complete as a paid order."""

from datetime import timedelta

from django.utils import timezone
from saleor.graphql.tests.utils import get_graphql_content

from saleor_license_plugin.licensing import lifecycle, partners
from saleor_license_plugin.licensing.catalog import parse_terms
from saleor_license_plugin.models import License

from flows import add_license_lines, complete, create_checkout, pay_and_complete
from license_fixtures import PluginApi, gid

UPDATE_METADATA = """
mutation Meta($id: ID!, $input: [MetadataInput!]!) {
  updateMetadata(id: $id, input: $input) { errors { field code message } }
}
"""
CUSTOMER_CREATE = """
mutation($input: EndCustomerInput!) {
  endCustomerCreate(input: $input) { errors { field code message } customer { publicId } }
}
"""
INVITE = "mutation($id: String!){ endCustomerInvite(id: $id){ errors { code } token } }"
ACCEPT = "mutation($t: String!){ endCustomerInviteAccept(token: $t){ errors { code } customerId } }"
LICENSES = """{ licenses { totalCount edges { node {
  key ownerId partnerId customer { publicId } endCustomer { company } } } } }"""
REPORT = """{ partnerRenewals(dueWithinDays: 60) { edges { node {
  license { id } items { kind quote { total { amount } } } } } } }"""
RENEWAL_LINES = """
mutation($checkoutId: ID, $items: [RenewalItemInput!]!) {
  checkoutRenewalLinesAdd(checkoutId: $checkoutId, items: $items) {
    errors { field code message } checkoutId lines { quote { action total { amount } } }
  }
}
"""


def set_metadata(api_client, checkout_id, values):
    result = get_graphql_content(
        api_client.post_graphql(
            UPDATE_METADATA,
            {"id": checkout_id, "input": [{"key": k, "value": v} for k, v in values.items()]},
        )
    )["data"]["updateMetadata"]
    assert result["errors"] == [], result


def make_partner(user, level="gold"):
    return partners.set_partner(gid("User", user.pk), {"email": user.email, "level": level})[0]


def test_a_partner_orders_for_its_customer_and_both_see_the_license(
    license_plugin,
    license_products,
    plugin_api,
    user_api_client,
    customer_user,
    customer_user2,
    client,
    mailoutbox,
):
    make_partner(customer_user)
    created = plugin_api.post(
        CUSTOMER_CREATE, {"input": {"company": "Acme GmbH", "email": "it@acme.example"}}
    )["endCustomerCreate"]
    assert created["errors"] == [], created
    customer_id = created["customer"]["publicId"]
    # The customer has an account of its own and accepts the partner's invitation.
    token = plugin_api.post(INVITE, {"id": customer_id})["endCustomerInvite"]["token"]
    customer_api = PluginApi(client, customer_user2)
    accepted = customer_api.post(ACCEPT, {"t": token})["endCustomerInviteAccept"]
    assert accepted == {"errors": [], "customerId": customer_id}

    checkout_id = create_checkout(user_api_client)
    added = add_license_lines(
        plugin_api,
        checkout_id,
        [{"variantId": gid("ProductVariant", license_products["pro-8"].pk), "action": "NEW"}],
    )
    assert added["errors"] == [], added
    set_metadata(
        user_api_client, checkout_id, {"license.customer": customer_id, "license.keys_to": "both"}
    )
    result = pay_and_complete(user_api_client, checkout_id)
    assert result["errors"] == [] and result["order"]["chargeStatus"] == "FULL", result

    [license] = License.objects.all()
    partner_gid, customer_gid = gid("User", customer_user.pk), gid("User", customer_user2.pk)
    assert (license.owner_id, license.reseller_id) == (customer_gid, partner_gid)
    as_partner = plugin_api.post(LICENSES)["licenses"]["edges"]
    as_customer = customer_api.post(LICENSES)["licenses"]["edges"]
    assert as_partner[0]["node"] == {
        "key": license.display_key(),
        "ownerId": customer_gid,
        "partnerId": partner_gid,
        "customer": {"publicId": customer_id},
        "endCustomer": {"company": "Acme GmbH"},
    }
    assert as_customer[0]["node"]["key"] == license.display_key()
    assert as_customer[0]["node"]["customer"] is None  # the partner's record stays the partner's
    assert sorted(address for mail in mailoutbox for address in mail.to) == sorted(
        [customer_user.email, "it@acme.example"]
    )


def test_another_partners_customer_is_refused_at_checkout_complete(
    license_plugin, license_products, plugin_api, user_api_client, customer_user, customer_user2
):
    make_partner(customer_user)
    other = partners.create_customer(make_partner(customer_user2), {"company": "Initech"})
    checkout_id = create_checkout(user_api_client)
    add_license_lines(
        plugin_api,
        checkout_id,
        [{"variantId": gid("ProductVariant", license_products["pro-8"].pk), "action": "NEW"}],
    )
    answers = []
    for named in (other.public_id, "C-ZZZZZZZZ"):  # another partner's, and none at all
        set_metadata(user_api_client, checkout_id, {"license.customer": named})
        first = not answers
        result = (pay_and_complete if first else complete)(user_api_client, checkout_id)
        assert result["order"] is None, result
        [error] = result["errors"]
        answers.append((error["code"], error["message"]))
    assert answers[0] == answers[1] == ("NOT_FOUND", "NOT_FOUND: No such customer.")
    assert not License.objects.exists()


def test_the_renewals_report_lines_complete_as_a_paid_order(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    partner = make_partner(customer_user)
    customer = partners.create_customer(partner, {"company": "Acme GmbH"})
    variant = license_products["cloud-8"]
    started = timezone.now() - timedelta(days=340)
    license = lifecycle.issue_license(
        terms=parse_terms(variant.product.metadata, variant.metadata),
        owner=partners.owner_for(customer),
        product_code=gid("ProductVariant", variant.pk),
        now=started,
    ).license
    due = license.term_expires_at

    [row] = plugin_api.post(REPORT)["partnerRenewals"]["edges"]
    assert row["node"]["items"] == [{"kind": "TERM", "quote": {"total": {"amount": 120.0}}}]
    checkout_id = create_checkout(user_api_client)
    added = plugin_api.post(
        RENEWAL_LINES,
        {
            "checkoutId": checkout_id,
            "items": [{"licenseId": row["node"]["license"]["id"], "kind": "TERM"}],
        },
    )["checkoutRenewalLinesAdd"]
    assert added["errors"] == [], added
    assert added["lines"] == [{"quote": {"action": "RENEW_LICENSE", "total": {"amount": 120.0}}}]
    result = pay_and_complete(user_api_client, checkout_id)
    assert result["errors"] == [] and result["order"]["chargeStatus"] == "FULL", result
    license.refresh_from_db()
    assert license.term_expires_at == due.replace(year=due.year + 1)
    assert plugin_api.post(REPORT)["partnerRenewals"]["edges"] == []


ADD_PROMO_CODE = """
mutation Promo($id: ID!, $code: String!) {
  checkoutAddPromoCode(id: $id, promoCode: $code) { errors { field code message } }
}
"""


def test_a_voucher_for_a_partner_level_is_for_that_levels_partners_only(
    license_plugin, license_products, plugin_api, user_api_client, customer_user, voucher
):
    """Pricing per level: the merchant's GOLD voucher carries metadata
    license.partner_levels=gold; anyone else is refused at checkoutComplete."""
    voucher.store_value_in_metadata({"license.partner_levels": "gold, platinum"})
    voucher.save(update_fields=["metadata"])

    def buy():
        checkout_id = create_checkout(user_api_client)
        add_license_lines(
            plugin_api,
            checkout_id,
            [{"variantId": gid("ProductVariant", license_products["pro-8"].pk), "action": "NEW"}],
        )
        promo = get_graphql_content(
            user_api_client.post_graphql(ADD_PROMO_CODE, {"id": checkout_id, "code": voucher.code})
        )["data"]["checkoutAddPromoCode"]
        assert promo["errors"] == [], promo
        return pay_and_complete(user_api_client, checkout_id)

    refused = buy()  # not a partner
    assert refused["order"] is None
    assert refused["errors"][0]["message"].startswith("PARTNER_LEVEL_REQUIRED:"), refused
    make_partner(customer_user, level="silver")
    assert buy()["order"] is None
    make_partner(customer_user, level="gold")
    done = buy()
    assert done["errors"] == [] and done["order"]["chargeStatus"] == "FULL", done
