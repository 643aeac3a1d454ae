"""The portal's key flows inside a real Saleor, in headless Chromium (issue 14): Upgrade, Renew
license and Renew maintenance, a voucher that applies, and a product that must be bound to a
deployment. Each is driven in the browser from key (or product) to an offline order with a PO
number and the terms ticked, staff capture it (Saleor's orderCapture), and My licenses shows
what the payment changed. Prices on the page are compared with the plugin's own quote
(quoteLicenseAction), the cart with Saleor's checkout, the order with Saleor's order lines.

Skipped, visibly, where Chromium or Playwright is missing. Screenshots land in
``$PORTAL_SCREENSHOTS`` (default: the test's tmp dir)."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from saleor.order import OrderChargeStatus
from saleor.order.models import Order

from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.catalog import parse_terms
from saleor_license_plugin.licensing.lifecycle import Owner
from saleor_license_plugin.models import License

from license_fixtures import PLUGIN_ID, gid
from payment_fixtures import OFFLINE_ID, capture_order
from portal_fixtures import CHROMIUM, browser_page, fill_billing_address, sign_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM, reason="Chromium is not installed (apt-get install chromium)"),
    # the live server's thread has its own database connection: it sees committed rows only
    pytest.mark.django_db(transaction=True),
]

QUOTE = """
mutation Quote($input: QuoteLicenseActionInput!) {
  quoteLicenseAction(input: $input) { quote { total { amount currency } } errors { code } }
}
"""


def quoted(plugin_api, **input):
    """The plugin's own price for a line, as a storefront asks for it."""
    payload = plugin_api.post(QUOTE, {"input": input})["quoteLicenseAction"]
    assert payload["errors"] == [], payload
    return Decimal(str(payload["quote"]["total"]["amount"]))


def dollars(amount):
    """As Intl.NumberFormat (en-US, USD) prints it."""
    return f"${amount:,.2f}"


def own_license(customer_user, variant, **kwargs):
    """A license the customer bought earlier."""
    terms = parse_terms(variant.product.metadata, variant.metadata)
    owner = Owner(gid("User", customer_user.pk), customer_user.email)
    return lifecycle.issue_license(
        terms=terms, owner=owner, product_code=gid("ProductVariant", variant.pk), **kwargs
    ).license


def go(page, fragment):
    """Open a #/… page and wait until the portal has rendered it (the route runs on hashchange,
    after this call; until then the previous page, maybe with inputs of the same ids, is shown)."""
    page.evaluate(f"location.hash = '{fragment}'")
    name = fragment.rsplit("/", 1)[-1]
    kind = "tab" if fragment.startswith("#/buy/") else "nav"
    page.locator(f'a[data-{kind}="{name}"].active').wait_for()


def verify_key(page, key):
    page.locator("#license-key").fill(key)
    page.locator("#verify").click()
    page.locator("#license-facts").wait_for()


def add_to_cart(page):
    page.locator("#add-to-cart").click()
    page.locator(".flash.ok", has_text="Added to your cart").wait_for()


def cart_lines(page, count):
    go(page, "#/cart")
    lines = page.locator("#cart-lines li")
    lines.first.wait_for()
    assert lines.count() == count
    shown = page.locator("#app").inner_text()
    assert "null" not in shown and "undefined" not in shown, shown
    return lines


def pay_offline(page, reference):
    """Cart → Proceed → billing address, offline gateway, PO number, terms → the order."""
    page.locator("#proceed").click()
    page.locator("#payment-form").wait_for()
    fill_billing_address(page)
    page.locator(f'input[name="gateway"][value="{OFFLINE_ID}"]').check()
    page.locator("#has-reference").check()
    page.locator("#reference").fill(reference)
    page.locator("#terms").check()
    page.locator("#process-order").click()
    page.locator("#order-placed, #app .flash.error").first.wait_for(timeout=60_000)
    assert page.locator("#order-placed").count(), page.locator("#app .flash.error").inner_text()
    order = Order.objects.get()
    assert order.metadata["license.reference"] == reference
    assert order.metadata["license.terms_accepted"] == "true"
    return order


def staff_capture(client, order):
    """Staff mark the offline order paid, as in the Dashboard (orderCapture of its total)."""
    captured = capture_order(client, gid("Order", order.pk), order.total_gross_amount)
    assert captured["errors"] == [], captured
    order.refresh_from_db()
    assert order.charge_status == OrderChargeStatus.FULL


def hint(license):
    """The key's last group, as the portal shows it for a key."""
    return license.display_key().rsplit("-", 1)[-1]


def card_of(page, license, showing=""):
    """My licenses, opened from the menu as a person would (again, if it is already open: the
    portal loads it anew), and the license's card once it shows ``showing``."""
    page.locator('a[data-nav="licenses"]').click()
    card = page.locator(f'li[data-license="{hint(license)}"]', has_text=showing)
    card.wait_for()
    return card


def order_lines(order):
    return sorted(
        (line.variant_id, line.quantity, line.total_price_gross_amount)
        for line in order.lines.all()
    )


@pytest.fixture
def portal(
    replica_in_threads,
    live_server,
    license_plugin,
    offline_gateway,
    settings,
    tmp_path,
    monkeypatch,
):
    """A signed-out tab on the plugin's portal route (the plugin and the offline gateway
    active); yields (page, screenshot dir, errors)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    # Playwright's sync API runs its loop in this thread, which Django takes for an async
    # context; the ORM calls in the tests are plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]  # browser, test client
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser, page, errors = browser_page(playwright)
        page.goto(f"{live_server.url}/plugins/global/{PLUGIN_ID}/portal/?channel=main")
        yield page, shots, errors
        browser.close()
    assert errors == []


def test_upgrade_paid_offline_changes_the_license(
    portal,
    license_plugin,
    license_products,
    offline_gateway,
    customer_user,
    plugin_api,
    orders_staff_client,
):
    page, shots, _ = portal
    license = own_license(customer_user, license_products["pro-8"], maintenance_years=1)
    key = license.display_key()
    target = license_products["pro-16"]
    price = quoted(
        plugin_api, action="UPGRADE", licenseKey=key, variantId=gid("ProductVariant", target.pk)
    )
    sign_in(page, customer_user.email)

    go(page, "#/buy/upgrade")
    verify_key(page, key)
    assert page.locator("#fact-edition").inner_text() == "Professional"
    assert page.locator("#fact-capacity").inner_text() == "8 simultaneous calls"
    page.locator("#target-edition").select_option("Professional")
    page.locator("#target-capacity").select_option(gid("ProductVariant", target.pk))
    page.locator("#price-total", has_text=dollars(price)).wait_for()
    page.screenshot(path=str(shots / "portal-saleor-upgrade.png"), full_page=True)
    add_to_cart(page)

    line = cart_lines(page, 1)
    # the line says what it is (Saleor's checkout knows only the product) and costs the quote
    assert f"Upgrade · Professional 16 calls · key …{hint(license)}" in line.inner_text()
    assert dollars(price) in line.inner_text()
    assert page.locator("#cart-total").inner_text() == dollars(price)
    order = pay_offline(page, "PO-UPGRADE-1")
    assert order_lines(order) == [(target.pk, 1, price)]
    assert order.total_gross_amount == price

    # not paid yet: the license is as it was
    card = card_of(page, license)
    assert "Professional 8 simultaneous calls" in card.inner_text()
    staff_capture(orders_staff_client, order)
    # the same page again, from the menu: loaded anew, the upgraded license
    card_of(page, license, "Professional 16 simultaneous calls")
    page.screenshot(path=str(shots / "portal-saleor-upgraded.png"), full_page=True)
    license.refresh_from_db()
    assert (license.edition, license.capacity) == ("Professional", 16)


def test_renew_license_and_maintenance_paid_offline_show_the_new_expiries(
    portal,
    license_plugin,
    license_products,
    offline_gateway,
    customer_user,
    plugin_api,
    orders_staff_client,
):
    page, shots, _ = portal
    annual = own_license(customer_user, license_products["cloud-8"])
    perpetual = own_license(customer_user, license_products["pro-8"], maintenance_years=1)
    term_before, maintenance_before = annual.term_expires_at, perpetual.maintenance_expires_at
    renew = quoted(plugin_api, action="RENEW_LICENSE", licenseKey=annual.display_key(), years=2)
    one_year = quoted(plugin_api, action="RENEW_LICENSE", licenseKey=annual.display_key(), years=1)
    care = quoted(
        plugin_api, action="RENEW_MAINTENANCE", licenseKey=perpetual.display_key(), years=3
    )
    sign_in(page, customer_user.email)

    go(page, "#/buy/renew")
    verify_key(page, annual.display_key())
    assert page.locator("#price-per-year").inner_text() == dollars(one_year)
    page.locator("#years").select_option("2")
    page.locator("#price-total", has_text=dollars(renew)).wait_for()
    add_to_cart(page)

    go(page, "#/buy/maintenance")
    verify_key(page, perpetual.display_key())
    page.locator("#years").select_option("3")
    page.locator("#price-total", has_text=dollars(care)).wait_for()
    page.screenshot(path=str(shots / "portal-saleor-renew-maintenance.png"), full_page=True)
    add_to_cart(page)

    lines = cart_lines(page, 2).all_inner_texts()
    assert any(
        f"License renewal · Cloud 8 calls · 2 years · key …{hint(annual)}" in line
        and dollars(renew) in line
        for line in lines
    ), lines
    assert any(
        f"Maintenance renewal · Professional 8 calls · 3 years · key …{hint(perpetual)}" in line
        and dollars(care) in line
        for line in lines
    ), lines
    assert page.locator("#cart-total").inner_text() == dollars(renew + care)
    page.screenshot(path=str(shots / "portal-saleor-renewals-cart.png"), full_page=True)
    order = pay_offline(page, "PO-RENEW-2")
    assert order_lines(order) == sorted(
        [
            (license_products["cloud-8"].pk, 1, renew),
            (license_products["pro-8"].pk, 1, care),
        ]
    )
    staff_capture(orders_staff_client, order)

    annual.refresh_from_db()
    perpetual.refresh_from_db()
    assert annual.term_expires_at == term_before.replace(year=term_before.year + 2)
    assert perpetual.maintenance_expires_at > maintenance_before
    card_of(page, annual, f"Term until {annual.term_expires_at.date().isoformat()}")
    card = card_of(page, perpetual)
    new_care = perpetual.maintenance_expires_at.date().isoformat()
    assert f"maintenance until {new_care}" in card.inner_text()
    assert maintenance_before.date().isoformat() not in card.inner_text()
    page.screenshot(path=str(shots / "portal-saleor-renewed.png"), full_page=True)


def test_a_voucher_lowers_the_cart_and_the_order_is_paid_at_the_reduced_total(
    portal,
    license_plugin,
    license_products,
    offline_gateway,
    customer_user,
    plugin_api,
    orders_staff_client,
    voucher,
):
    page, shots, _ = portal
    variant = license_products["pro-8"]
    price = quoted(plugin_api, action="NEW", variantId=gid("ProductVariant", variant.pk))
    code = voucher.code
    sign_in(page, customer_user.email)

    go(page, "#/buy/new")
    page.locator("#edition").select_option("Professional")
    page.locator("#capacity").select_option(gid("ProductVariant", variant.pk))
    page.locator("#price-total", has_text=dollars(price)).wait_for()
    add_to_cart(page)
    cart_lines(page, 1)
    assert page.locator("#cart-total").inner_text() == dollars(price)

    page.locator("#coupon").fill(code)
    page.locator("#apply-coupon").click()
    page.locator("p", has_text=f"Coupon {code} applied").wait_for()
    reduced = price - Decimal("20.00")  # Saleor's voucher fixture: 20 off the entire order
    assert page.locator("#cart-total").inner_text() == dollars(reduced)
    page.screenshot(path=str(shots / "portal-saleor-voucher.png"), full_page=True)

    order = pay_offline(page, "PO-VOUCHER-3")
    assert order.total_gross_amount == reduced
    assert order.voucher_code == code
    assert [(v, q) for v, q, _ in order_lines(order)] == [(variant.pk, 1)]
    staff_capture(orders_staff_client, order)
    assert order.total_charged_amount == reduced
    [license] = License.objects.all()
    card = card_of(page, license)
    assert "active" in card.locator(".badge").inner_text()


def test_a_product_that_needs_a_deployment_is_bound_to_the_one_confirmed(
    portal,
    license_plugin,
    license_products,
    offline_gateway,
    customer_user,
    plugin_api,
    orders_staff_client,
):
    page, shots, _ = portal
    variant = license_products["ent-8"]
    product = variant.product
    product.metadata["license.requires_deployment"] = "true"
    product.save(update_fields=["metadata"])
    owner = gid("User", customer_user.pk)
    lifecycle.create_deployment(name="Branch office PBX", owner_id=owner)
    deployment = lifecycle.create_deployment(name="Head office PBX", owner_id=owner)
    price = quoted(plugin_api, action="NEW", variantId=gid("ProductVariant", variant.pk))
    sign_in(page, customer_user.email)

    go(page, "#/buy/new")
    page.locator("#edition").select_option("Enterprise")
    page.locator("#capacity").select_option(gid("ProductVariant", variant.pk))
    page.locator("#price-total", has_text=dollars(price)).wait_for()
    assert "required for this product" in page.locator("fieldset.deployment legend").inner_text()
    # no deployment chosen: refused before anything reaches the cart
    page.locator("#add-to-cart").click()
    page.locator(".flash.error", has_text="must be assigned to a deployment").wait_for()

    page.locator("#deployment-search").fill("office")
    results = page.locator("#deployment-results button")
    results.nth(1).wait_for()
    assert results.count() == 2
    page.locator(f'button[data-deployment="{deployment.public_id}"]').click()
    warning = page.locator("#deployment-chosen").inner_text()
    assert "A license cannot be moved after purchase." in warning
    assert deployment.public_id in warning
    page.locator("#add-to-cart").click()  # not confirmed yet
    page.locator(".flash.error", has_text="Please confirm the deployment").wait_for()
    page.locator("#deployment-confirm").check()
    page.screenshot(path=str(shots / "portal-saleor-deployment.png"), full_page=True)
    add_to_cart(page)

    cart_lines(page, 1)
    assert page.locator("#cart-total").inner_text() == dollars(price)
    order = pay_offline(page, "PO-DEPLOY-4")
    assert order_lines(order) == [(variant.pk, 1, price)]
    assert not License.objects.exists()  # nothing before payment
    staff_capture(orders_staff_client, order)

    [license] = License.objects.all()
    assert license.deployment.public_id == deployment.public_id
    card = card_of(page, license)
    assert f"Deployment: Head office PBX ({deployment.public_id})" in card.inner_text()
    page.screenshot(path=str(shots / "portal-saleor-deployment-bound.png"), full_page=True)
