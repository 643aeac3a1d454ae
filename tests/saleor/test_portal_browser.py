"""The reference portal inside a real Saleor, in headless Chromium: served by the plugin's
route (/plugins/global/<PLUGIN_ID>/portal/) on Django's live server with Saleor's test
settings; signs in with Saleor's tokenCreate, buys a new license (Saleor's products query,
checkoutCreate, the plugin's checkoutLicenseLinesAdd), tries a coupon, pays offline with a
purchase order number and the terms checkbox (updateMetadata, checkoutBillingAddressUpdate,
checkoutPaymentCreate, checkoutComplete); staff capture the payment (Saleor's orderCapture),
and the portal's My licenses shows the key.

Skipped, visibly, where Chromium or Playwright is missing. Screenshots land in
``$PORTAL_SCREENSHOTS`` (default: the test's tmp dir)."""

import datetime
import os
from pathlib import Path

import pytest
from saleor.order import OrderChargeStatus
from saleor.order.models import Order

from license_fixtures import PLUGIN_ID, gid
from payment_fixtures import MSP_ID, OFFLINE_ID, STRIPE_ID, capture_order
from portal_fixtures import CHROMIUM, browser_page, fill_billing_address, sign_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM, reason="Chromium is not installed (apt-get install chromium)"),
    # the live server's thread has its own database connection: it sees committed rows only
    pytest.mark.django_db(transaction=True),
]


def buy_new(page, variant, edition, price):
    page.evaluate("location.hash = '#/buy/new'")
    page.locator("#edition").select_option(edition)
    page.locator("#capacity").select_option(variant)
    page.locator("#price-total", has_text=price).wait_for()
    page.locator("#add-to-cart").click()
    page.locator(".flash.ok", has_text="Added to your cart").wait_for()


def test_buy_pay_offline_and_see_the_key_in_the_portal(
    replica_in_threads,
    live_server,
    license_plugin,
    license_products,
    offline_gateway,
    customer_user,
    orders_staff_client,
    settings,
    tmp_path,
    monkeypatch,
):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    # Playwright's sync API runs its event loop in this thread, which Django takes for an async
    # context; the ORM calls below are plain synchronous test code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]  # browser, test client
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    variant = gid("ProductVariant", license_products["pro-16"].pk)
    with sync_api.sync_playwright() as playwright:
        browser, page, errors = browser_page(playwright)
        # portal/?channel=<slug>: the page asks the plugin for that channel's config
        with page.expect_request("**/portal/config.json?channel=main"):
            page.goto(f"{live_server.url}/plugins/global/{PLUGIN_ID}/portal/?channel=main")

        # Saleor's tokenCreate: a wrong password reads as a sentence
        page.locator("#email").fill(customer_user.email)
        page.locator("#password").fill("not the password")
        page.locator("#sign-in").click()
        page.locator(".flash.error", has_text="Wrong e-mail or password").wait_for()
        sign_in(page, customer_user.email)
        assert page.locator("#stat-total .stat-value").inner_text() == "0"

        # New: the editions come from Saleor's products (license.* metadata)
        buy_new(page, variant, "Professional", "$700.00")
        page.screenshot(path=str(shots / "portal-saleor-new.png"), full_page=True)

        # Cart: the line, a coupon Saleor refuses, the total
        page.locator('a[data-nav="cart"]').click()
        page.locator("#cart-lines li").first.wait_for()
        assert page.locator("#cart-lines li").count() == 1
        assert page.locator("#cart-total").inner_text() == "$700.00"
        page.locator("#coupon").fill("NO-SUCH-COUPON")
        page.locator("#apply-coupon").click()
        alert = page.locator(".flash.error")
        alert.wait_for()
        assert "{" not in alert.inner_text() and "(" in alert.inner_text()
        page.screenshot(path=str(shots / "portal-saleor-cart.png"), full_page=True)

        # Payment: billing address, PO number, terms, offline
        page.locator("#proceed").click()
        page.locator("#payment-form").wait_for()
        saved = customer_user.default_billing_address  # the form starts from it (me { … })
        assert page.locator("#street").input_value() == saved.street_address_1
        fill_billing_address(page)
        page.locator(f'input[name="gateway"][value="{OFFLINE_ID}"]').check()
        page.locator("#has-reference").check()
        page.locator("#reference").fill("PO-17")
        page.locator("#process-order").click()  # terms not ticked yet
        page.locator(".flash.error", has_text="accept the terms").wait_for()
        page.locator("#terms").check()
        page.screenshot(path=str(shots / "portal-saleor-payment.png"), full_page=True)
        page.locator("#process-order").click()
        page.locator("#order-placed, #app .flash.error").first.wait_for(timeout=60_000)
        assert page.locator("#order-placed").count(), page.locator("#app .flash.error").inner_text()

        order = Order.objects.get()
        assert order.metadata["license.reference"] == "PO-17"
        assert order.metadata["license.terms_accepted"] == "true"
        assert order.billing_address.city == "BERLIN"  # Saleor normalizes it
        captured = capture_order(
            orders_staff_client, gid("Order", order.pk), order.total_gross_amount
        )
        assert captured["errors"] == [], captured

        page.locator('a[data-nav="licenses"]').click()
        card = page.locator("li[data-license]")
        card.first.wait_for()
        assert card.count() == 1
        assert "Professional 16" in card.inner_text()
        assert "active" in card.locator(".badge").inner_text()
        page.screenshot(path=str(shots / "portal-saleor-licenses.png"), full_page=True)

        # Expansion from the license card (its key handed over), into a new cart; then removed
        card.get_by_role("button", name="Expand").click()
        standby_id = gid("ProductVariant", license_products["standby"].pk)
        standby = page.locator(f'#expansions input[data-variant="{standby_id}"]')
        standby.check()
        page.locator("#price-total").wait_for()
        page.locator("#add-to-cart").click()
        page.locator(".flash.ok", has_text="Added to your cart").wait_for()
        page.locator('a[data-nav="cart"]').click()
        line = page.locator("#cart-lines li")
        line.first.wait_for()
        assert line.count() == 1 and "Hot standby" in line.inner_text()
        line.get_by_role("button", name="Remove").click()
        page.locator("#cart-empty").wait_for()
        browser.close()
    assert errors == []


def test_multisafepay_redirect_and_return_stripe_unavailable_and_token_refresh(
    replica_in_threads,
    live_server,
    license_plugin,
    license_products,
    msp_gateway,
    msp_server,
    stripe_gateway,
    customer_user,
    settings,
    tmp_path,
    monkeypatch,
):
    """MultiSafepay: the portal sends the buyer to the payment_url checkoutComplete returns and
    completes again on its return page. MultiSafepay's own page cannot exist here: the browser
    gets a stand-in page at that URL, the test marks the order paid at the local MultiSafepay
    server and follows the return URL the portal sent, as MultiSafepay would redirect. Stripe:
    js.stripe.com cannot load here (the test makes sure: requests to it fail), and the portal
    says card payments are unavailable. Saleor's access tokens are made to live 20 s, so the
    portal refreshes them (tokenRefresh) before its calls."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # as above
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    settings.ALLOWED_CLIENT_HOSTS = ["localhost"]  # return URLs to the portal (README)
    settings.JWT_TTL_ACCESS = datetime.timedelta(seconds=20)
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    variant = gid("ProductVariant", license_products["pro-8"].pk)
    with sync_api.sync_playwright() as playwright:
        browser, page, errors = browser_page(playwright)
        refreshes = []
        page.on(
            "request",
            lambda r: refreshes.append(r) if "TokenRefresh" in (r.post_data or "") else None,
        )
        page.route("https://js.stripe.com/**", lambda route: route.abort())
        page.route(
            f"{msp_server.url}/pay/**",
            lambda route: route.fulfill(
                status=200,
                content_type="text/html",
                body="<!doctype html><title>MultiSafepay</title><h1>MultiSafepay (stand-in)</h1>",
            ),
        )
        page.goto(f"{live_server.url}/plugins/global/{PLUGIN_ID}/portal/")
        sign_in(page, customer_user.email)
        buy_new(page, variant, "Professional", "$400.00")
        page.evaluate("location.hash = '#/payment'")
        page.locator("#payment-form").wait_for()
        fill_billing_address(page)

        page.locator(f'input[name="gateway"][value="{STRIPE_ID}"]').check()
        unavailable = page.locator("#stripe-unavailable")
        unavailable.wait_for()
        assert "Stripe.js could not be loaded" in unavailable.inner_text()

        page.locator(f'input[name="gateway"][value="{MSP_ID}"]').check()
        page.locator("#terms").check()
        page.locator("#process-order").click()
        page.wait_for_url(f"{msp_server.url}/pay/**")
        [created] = msp_server.create_requests
        msp_server.set_status(str(created["order_id"]), "completed")  # paid on MultiSafepay
        back = created["payment_options"]["redirect_url"]
        assert back.startswith(live_server.url) and back.endswith("/portal/#/payment/return")
        page.goto(back)
        page.locator("#order-placed, #app .flash.error").first.wait_for(timeout=60_000)
        assert page.locator("#order-placed").count(), page.locator("#app").inner_text()
        page.screenshot(path=str(shots / "portal-saleor-msp-return.png"), full_page=True)

        order = Order.objects.get()
        assert order.charge_status == OrderChargeStatus.FULL
        page.locator('a[data-nav="licenses"]').click()
        page.locator("li[data-license]").first.wait_for()
        assert page.locator("li[data-license]").count() == 1
        assert refreshes, "the portal never refreshed its 20-second token"
        browser.close()
    assert errors == []
