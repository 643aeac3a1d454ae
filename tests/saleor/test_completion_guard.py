"""Tampering with license lines is refused at Saleor's checkoutComplete, with a code."""

import json

import pytest
from saleor.graphql.tests.utils import get_graphql_content
from saleor.order.models import Order

from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.checkout_lines import INTENT_KEY
from saleor_license_plugin.models import License

from flows import add_license_lines, complete, create_checkout, pay_and_complete
from license_fixtures import gid
from test_license_flows import own_license

LINES_ADD = """
mutation Add($id: ID!, $lines: [CheckoutLineInput!]!) {
  checkoutLinesAdd(id: $id, lines: $lines) { errors { field code message } }
}
"""
LINES_UPDATE = """
mutation Update($id: ID!, $lines: [CheckoutLineUpdateInput!]!) {
  checkoutLinesUpdate(id: $id, lines: $lines) { errors { field code message } }
}
"""
UPDATE_METADATA = """
mutation Meta($id: ID!, $input: [MetadataInput!]!) {
  updateMetadata(id: $id, input: $input) { errors { field code message } }
}
"""
UPDATE_PRIVATE_METADATA = """
mutation PrivateMeta($id: ID!, $input: [MetadataInput!]!) {
  updatePrivateMetadata(id: $id, input: $input) { errors { field code message } }
}
"""


def refused(result, license_code):
    assert result["order"] is None, result
    [error] = result["errors"]
    assert error["field"] == "lines"
    assert error["message"].startswith(f"{license_code}:"), error
    return error


def upgrade_line(plugin_api, user_api_client, license, target):
    checkout_id = create_checkout(user_api_client)
    added = add_license_lines(
        plugin_api,
        checkout_id,
        [
            {
                "variantId": gid("ProductVariant", target.pk),
                "action": "UPGRADE",
                "licenseKey": license.display_key(),
            }
        ],
    )
    assert added["errors"] == [], added
    return checkout_id, added["lines"][0]["id"]


@pytest.fixture
def staff_checkouts_client(staff_api_client, permission_manage_checkouts):
    staff_api_client.user.user_permissions.add(permission_manage_checkouts)
    return staff_api_client


def test_a_license_product_added_with_plain_checkout_lines_add_is_refused(
    license_plugin, license_products, user_api_client
):
    checkout_id = create_checkout(user_api_client)
    forged = json.dumps({"action": "new", "unit_price": "0.01"})
    get_graphql_content(
        user_api_client.post_graphql(
            LINES_ADD,
            {
                "id": checkout_id,
                "lines": [
                    {
                        "variantId": gid("ProductVariant", license_products["pro-8"].pk),
                        "quantity": 1,
                        "metadata": [
                            {"key": INTENT_KEY, "value": forged}
                        ],  # public metadata: not the intent
                    }
                ],
            },
        )
    )
    error = refused(pay_and_complete(user_api_client, checkout_id), "LICENSE_LINE_WITHOUT_INTENT")
    assert error["code"] == "INVALID" and len(error["lines"]) == 1
    assert not Order.objects.exists() and not License.objects.exists()


def test_editing_public_metadata_changes_nothing(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    license = own_license(customer_user, license_products["pro-8"])
    checkout_id, line_id = upgrade_line(
        plugin_api, user_api_client, license, license_products["pro-16"]
    )
    get_graphql_content(
        user_api_client.post_graphql(
            UPDATE_METADATA,
            {
                "id": line_id,
                "input": [
                    {
                        "key": INTENT_KEY,
                        "value": json.dumps({"action": "upgrade", "variant_id": "x"}),
                    },
                    {"key": "license.years", "value": "99"},
                ],
            },
        )
    )
    result = pay_and_complete(user_api_client, checkout_id)
    assert result["errors"] == []
    license.refresh_from_db()
    assert license.capacity == 16


def test_key_swapped_in_private_metadata_is_refused(
    license_plugin,
    license_products,
    plugin_api,
    user_api_client,
    customer_user,
    staff_checkouts_client,
):
    mine = own_license(customer_user, license_products["pro-8"])
    other = own_license(customer_user, license_products["pro-8"])
    checkout_id, line_id = upgrade_line(
        plugin_api, user_api_client, mine, license_products["ent-8"]
    )
    from saleor.checkout.models import CheckoutLine

    line = CheckoutLine.objects.get()
    intent = json.loads(line.private_metadata[INTENT_KEY])
    intent["license_id"] = other.pk
    get_graphql_content(
        staff_checkouts_client.post_graphql(
            UPDATE_PRIVATE_METADATA,
            {
                "id": line_id,
                "input": [
                    {
                        "key": INTENT_KEY,
                        "value": json.dumps(intent, sort_keys=True, separators=(",", ":")),
                    }
                ],
            },
        )
    )
    refused(pay_and_complete(user_api_client, checkout_id), "LINE_TAMPERED")
    assert License.objects.get(pk=other.pk).edition == "Professional"


def test_someone_elses_key_is_refused_like_an_unknown_one(
    license_plugin, license_products, plugin_api, user_api_client, staff_user
):
    from saleor_license_plugin.licensing import keys
    from saleor_license_plugin.licensing.catalog import parse_terms
    from saleor_license_plugin.licensing.lifecycle import Owner

    variant = license_products["pro-8"]
    theirs = lifecycle.issue_license(
        terms=parse_terms(variant.product.metadata, variant.metadata),
        owner=Owner(gid("User", staff_user.pk), staff_user.email),
        product_code=gid("ProductVariant", variant.pk),
    ).license
    checkout_id = create_checkout(user_api_client)
    answers = []
    for key in (theirs.display_key(), keys.format_key(keys.generate())):
        result = add_license_lines(
            plugin_api,
            checkout_id,
            [
                {
                    "variantId": gid("ProductVariant", license_products["pro-16"].pk),
                    "action": "UPGRADE",
                    "licenseKey": key,
                }
            ],
        )
        answers.append(result["errors"])
    assert answers[0] == answers[1] and answers[0][0]["code"] == "NOT_FOUND"


def test_stale_quote_after_the_license_changed(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    license = own_license(customer_user, license_products["pro-8"])
    checkout_id, _ = upgrade_line(plugin_api, user_api_client, license, license_products["pro-16"])
    lifecycle.renew_maintenance(license.pk, years=1)  # bought elsewhere meanwhile
    refused(pay_and_complete(user_api_client, checkout_id), "STALE_QUOTE")
    license.refresh_from_db()
    assert license.capacity == 8


def test_quantity_changed_after_the_quote(
    license_plugin, license_products, plugin_api, user_api_client
):
    checkout_id = create_checkout(user_api_client)
    added = add_license_lines(
        plugin_api,
        checkout_id,
        [
            {
                "variantId": gid("ProductVariant", license_products["pro-8"].pk),
                "action": "NEW",
                "quantity": 1,
            }
        ],
    )
    get_graphql_content(
        user_api_client.post_graphql(
            LINES_UPDATE,
            {
                "id": checkout_id,
                "lines": [{"lineId": added["lines"][0]["id"], "quantity": 5}],
            },
        )
    )
    refused(pay_and_complete(user_api_client, checkout_id), "QUANTITY_CHANGED")
    assert not License.objects.exists()


def test_deployment_moved_after_the_quote(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    owner = gid("User", customer_user.pk)
    first = lifecycle.create_deployment(name="HQ", owner_id=owner)
    second = lifecycle.create_deployment(name="Branch", owner_id=owner)
    license = own_license(customer_user, license_products["pro-8"])
    checkout_id = create_checkout(user_api_client)
    added = add_license_lines(
        plugin_api,
        checkout_id,
        [
            {
                "variantId": gid("ProductVariant", license_products["pro-16"].pk),
                "action": "UPGRADE",
                "licenseKey": license.display_key(),
                "deploymentId": first.public_id,
            }
        ],
    )
    assert added["errors"] == []
    lifecycle.bind_deployment(license.pk, second)
    error = refused(pay_and_complete(user_api_client, checkout_id), "STALE_QUOTE")
    assert error["code"] == "INVALID"
    assert License.objects.get(pk=license.pk).deployment == second


@pytest.mark.parametrize(
    "plugin_config", [{"require_terms_acceptance": True, "require_reference": True}]
)
def test_terms_and_reference_number_when_required(
    license_plugin, license_products, plugin_api, user_api_client, plugin_config
):
    checkout_id = create_checkout(user_api_client)
    add_license_lines(
        plugin_api,
        checkout_id,
        [{"variantId": gid("ProductVariant", license_products["pro-8"].pk), "action": "NEW"}],
    )
    result = pay_and_complete(user_api_client, checkout_id)
    assert result["errors"][0]["code"] == "REQUIRED"
    assert result["errors"][0]["message"].startswith("TERMS_NOT_ACCEPTED:")
    get_graphql_content(
        user_api_client.post_graphql(
            UPDATE_METADATA,
            {"id": checkout_id, "input": [{"key": "license.terms_accepted", "value": "true"}]},
        )
    )
    assert complete(user_api_client, checkout_id)["errors"][0]["message"].startswith(
        "REFERENCE_REQUIRED:"
    )
    get_graphql_content(
        user_api_client.post_graphql(
            UPDATE_METADATA,
            {"id": checkout_id, "input": [{"key": "license.reference", "value": "PO-4711"}]},
        )
    )
    result = complete(user_api_client, checkout_id)
    assert result["errors"] == [] and result["order"] is not None
    assert License.objects.count() == 1
