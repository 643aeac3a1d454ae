"""Every line type through Saleor's GraphQL: checkoutCreate → checkoutLicenseLinesAdd (the
plugin's API) → checkoutPaymentCreate + checkoutComplete (Saleor) → paid → the license changes
→ verifyLicenseKey (the plugin's API) shows it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.catalog import parse_terms
from saleor_license_plugin.licensing.lifecycle import Owner
from saleor_license_plugin.models import License

from flows import add_license_lines, checkout_total, create_checkout, pay_and_complete, verify
from license_fixtures import gid


def own_license(customer_user, variant, **kwargs):
    """A license the customer already owns, bought earlier."""
    terms = parse_terms(variant.product.metadata, variant.metadata)
    owner = Owner(gid("User", customer_user.pk), customer_user.email)
    return lifecycle.issue_license(
        terms=terms, owner=owner, product_code=gid("ProductVariant", variant.pk), **kwargs
    ).license


def buy(plugin_api, user_api_client, lines):
    checkout_id = create_checkout(user_api_client)
    added = add_license_lines(plugin_api, checkout_id, lines)
    assert added["errors"] == [], added
    result = pay_and_complete(user_api_client, checkout_id)
    assert result["errors"] == [] and result["order"]["chargeStatus"] == "FULL", result
    return added, result


def test_new(
    license_plugin, license_products, plugin_api, user_api_client, customer_user, mailoutbox
):
    variant = gid("ProductVariant", license_products["pro-8"].pk)
    added, _ = buy(
        plugin_api,
        user_api_client,
        [{"variantId": variant, "action": "NEW", "quantity": 2, "maintenanceYears": 1}],
    )
    assert added["lines"][0]["quote"]["total"] == {"amount": 960.0, "currency": "USD"}
    licenses = License.objects.filter(owner_id=gid("User", customer_user.pk))
    assert licenses.count() == 2
    [mail] = mailoutbox
    for license in licenses:
        state = verify(plugin_api, license.display_key())
        assert (state["status"], state["edition"], state["capacity"]) == (
            "ACTIVE",
            "Professional",
            8,
        )
        assert state["maintenanceExpiresAt"] is not None
        assert license.display_key() in mail.body


def test_upgrade(license_plugin, license_products, plugin_api, user_api_client, customer_user):
    license = own_license(customer_user, license_products["pro-8"], maintenance_years=1)
    before = verify(plugin_api, license.display_key())
    assert "UPGRADE" in before["actions"]
    added, _ = buy(
        plugin_api,
        user_api_client,
        [
            {
                "variantId": gid("ProductVariant", license_products["pro-16"].pk),
                "action": "UPGRADE",
                "licenseKey": license.display_key(),
            }
        ],
    )
    assert added["lines"][0]["quote"]["total"]["amount"] == 300.0  # 700 - 400, perpetual
    after = verify(plugin_api, license.display_key())
    assert (
        after["capacity"] == 16 and after["maintenanceExpiresAt"] == before["maintenanceExpiresAt"]
    )


def test_renew_license(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    license = own_license(customer_user, license_products["cloud-8"])
    expires = license.term_expires_at
    buy(
        plugin_api,
        user_api_client,
        [
            {
                "variantId": gid("ProductVariant", license_products["cloud-8"].pk),
                "action": "RENEW_LICENSE",
                "licenseKey": license.display_key(),
                "years": 2,
            }
        ],
    )
    license.refresh_from_db()
    assert license.term_expires_at == expires.replace(year=expires.year + 2)
    assert (
        verify(plugin_api, license.display_key())["termExpiresAt"]
        == license.term_expires_at.isoformat()
    )


def test_renew_maintenance(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    license = own_license(customer_user, license_products["pro-8"])  # no maintenance yet
    added, _ = buy(
        plugin_api,
        user_api_client,
        [
            {
                "variantId": gid("ProductVariant", license_products["pro-8"].pk),
                "action": "RENEW_MAINTENANCE",
                "licenseKey": license.display_key(),
                "years": 3,
            }
        ],
    )
    assert added["lines"][0]["quote"]["total"]["amount"] == 240.0  # 3 × 20% × 400
    license.refresh_from_db()
    assert license.maintenance_expires_at > timezone.now() + timedelta(days=3 * 365 - 2)
    assert verify(plugin_api, license.display_key())["maintenanceExpiresAt"] is not None


def test_expansion_units_and_a_service(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    license = own_license(customer_user, license_products["pro-8"])
    added, _ = buy(
        plugin_api,
        user_api_client,
        [
            {
                "variantId": gid("ProductVariant", license_products["ext"].pk),
                "action": "EXPANSION",
                "licenseKey": license.display_key(),
                "quantity": 3,
                "addOn": "extensions",
            },
            {
                "variantId": gid("ProductVariant", license_products["standby"].pk),
                "action": "EXPANSION",
                "licenseKey": license.display_key(),
            },
        ],
    )
    assert [line["quantity"] for line in added["lines"]] == [3, 1]
    state = verify(plugin_api, license.display_key())
    assert {a["code"]: a["quantity"] for a in state["addOns"]} == {
        "extensions": 30,
        "hot_standby": 1,
    }


def test_two_upgrades_of_different_keys_stay_separate_lines(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    first = own_license(customer_user, license_products["pro-8"])
    second = own_license(customer_user, license_products["pro-8"])
    target = gid("ProductVariant", license_products["pro-16"].pk)
    added, _ = buy(
        plugin_api,
        user_api_client,
        [
            {"variantId": target, "action": "UPGRADE", "licenseKey": first.display_key()},
            {"variantId": target, "action": "UPGRADE", "licenseKey": second.display_key()},
        ],
    )
    assert len({line["id"] for line in added["lines"]}) == 2
    assert {lic.capacity for lic in License.objects.filter(pk__in=[first.pk, second.pk])} == {16}


def test_a_deployment_is_bound_by_the_paid_line(
    license_plugin, license_products, plugin_api, user_api_client, customer_user
):
    deployment = lifecycle.create_deployment(name="HQ PBX", owner_id=gid("User", customer_user.pk))
    buy(
        plugin_api,
        user_api_client,
        [
            {
                "variantId": gid("ProductVariant", license_products["pro-8"].pk),
                "action": "NEW",
                "deploymentId": deployment.public_id,
            }
        ],
    )
    [license] = License.objects.all()
    assert verify(plugin_api, license.display_key())["deployment"] == {
        "publicId": deployment.public_id
    }


@pytest.mark.parametrize("when", ["quoted"])
def test_line_prices_come_from_the_server(
    license_plugin, license_products, plugin_api, user_api_client, when
):
    checkout_id = create_checkout(user_api_client)
    add_license_lines(
        plugin_api,
        checkout_id,
        [
            {
                "variantId": gid("ProductVariant", license_products["ent-8"].pk),
                "action": "NEW",
                "maintenanceYears": 2,
            }
        ],
    )
    assert checkout_total(user_api_client, checkout_id) == Decimal("840.00")  # 600 + 2 × 120


LICENSE_QUERY = """
query License($key: String!) {
  license(key: $key) { edition endCustomer { company email } }
}
"""
UPDATE_METADATA = """
mutation Meta($id: ID!, $input: [MetadataInput!]!) {
  updateMetadata(id: $id, input: $input) { errors { field code message } }
}
"""


def test_a_reseller_names_the_end_customer(
    license_plugin, license_products, plugin_api, user_api_client
):
    from saleor.graphql.tests.utils import get_graphql_content

    checkout_id = create_checkout(user_api_client)
    add_license_lines(
        plugin_api,
        checkout_id,
        [{"variantId": gid("ProductVariant", license_products["pro-8"].pk), "action": "NEW"}],
    )
    get_graphql_content(
        user_api_client.post_graphql(
            UPDATE_METADATA,
            {
                "id": checkout_id,
                "input": [
                    {"key": "license.end_customer_company", "value": "Acme GmbH"},
                    {"key": "license.end_customer_email", "value": "it@acme.example"},
                ],
            },
        )
    )
    assert pay_and_complete(user_api_client, checkout_id)["errors"] == []
    [license] = License.objects.all()
    shown = plugin_api.post(LICENSE_QUERY, {"key": license.display_key()})["license"]
    assert shown == {
        "edition": "Professional",
        "endCustomer": {"company": "Acme GmbH", "email": "it@acme.example"},
    }
