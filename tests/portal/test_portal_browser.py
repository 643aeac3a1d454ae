"""The reference portal in headless Chromium against the standalone server (uvicorn, as
documented), seeded as `make demo` seeds it: every flow that needs no Saleor checkout.

Sign-in with an API token (the standalone server's only credential; Saleor's tokenCreate is used
inside Saleor), the dashboard, Verify and prices for upgrade / renewals / expansion, New with the
deployment search and its confirmation, My licenses with activations and the offline activation
file (checked with the device-side verifier), readable errors, a phone-width screen. Prices on
the page are compared with the API's own quotes. Cart, payment and orders need Saleor.

Skipped, visibly, where Chromium or Playwright is missing. Screenshots land in
``$PORTAL_SCREENSHOTS`` (default ``test-artifacts/portal/``, not committed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from saleor_license_plugin.licensing.activation import device_hash
from saleor_license_plugin.licensing.device_verify import verify_entitlement
from tests.server.live import HOST, Client, serve, server_env

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or ""
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
pytestmark = pytest.mark.skipif(
    not CHROMIUM, reason="Chromium is not installed (apt-get install chromium)"
)

# The demo's seed, with the annual license due in 20 days so the dashboard has something to say.
SEED = """
import json, datetime, django
django.setup()
from django.utils import timezone
from saleor_license_plugin.models import License
from saleor_license_plugin.server.demo import seed
s = seed()
License.objects.filter(product_code="cloud-8").update(
    term_expires_at=timezone.now() + datetime.timedelta(days=20))
print(json.dumps({"customer": s.customer_token, "keys": s.keys, "deployment": s.deployment}))
"""


def api(port: int, token: str | None, query: str, variables: dict | None = None) -> dict:
    client = Client(port)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    client.connection.request("POST", "/graphql/", body, headers)
    reply = json.loads(client.connection.getresponse().read())
    client.close()
    assert "errors" not in reply, reply
    return reply["data"]


QUOTE = """mutation($input: QuoteLicenseActionInput!) { quoteLicenseAction(input: $input) {
  errors { code } quote { total { amount currency } } } }"""


def quoted(port: int, token: str, **input: object) -> float:
    payload = api(port, token, QUOTE, {"input": input})["quoteLicenseAction"]
    assert payload["errors"] == [], payload
    return payload["quote"]["total"]["amount"]


def euros(amount: float) -> str:
    """As Intl.NumberFormat("en-US", EUR) prints it."""
    return f"€{amount:,.2f}"


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """The server, seeded; yields (base URL, port, seeded data, screenshot dir, browser)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    from django.conf import settings

    tmp = tmp_path_factory.mktemp("portal")
    shots = Path(os.environ.get("PORTAL_SCREENSHOTS") or ROOT / "test-artifacts" / "portal")
    shots.mkdir(parents=True, exist_ok=True)
    generous = {k: "1000/60" for k in ("verify_ip", "verify_key", "activate_ip", "activate_key")}
    env = server_env(tmp, settings.REDIS_URL, LICENSE_RATE_LIMITS=json.dumps(generous))
    with serve("asgi", env) as port:
        seeded = json.loads(
            subprocess.run(
                [sys.executable, "-c", SEED], env=env, check=True, capture_output=True, text=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield f"http://{HOST}:{port}/portal/", port, seeded, shots, browser
            browser.close()


@pytest.fixture
def page(portal):
    """A fresh tab (empty sessionStorage: signed out) that fails the test on any script error."""
    browser = portal[4]
    context = browser.new_context(
        viewport={"width": 1200, "height": 900}, locale="en-US", accept_downloads=True
    )
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == []


def go(page, fragment: str) -> None:
    """Open a page by its #/… fragment and wait until the portal has rendered it: the route
    runs on hashchange, a task after this call, so the previous page (which may have inputs of
    the same ids) is still there until then."""
    page.evaluate(f"location.hash = '{fragment}'")
    name = fragment.rsplit("/", 1)[-1]
    kind = "tab" if fragment.startswith("#/buy/") else "nav"
    page.locator(f'a[data-{kind}="{name}"].active').wait_for()


def sign_in(page, portal) -> None:
    url, _, seeded, _, _ = portal
    page.goto(url)
    page.locator("#api-token").fill(seeded["customer"])
    page.locator("#sign-in").click()
    page.locator("#stats").wait_for()


def test_sign_in_refuses_a_bad_token_readably_then_shows_the_dashboard(page, portal):
    url, port, seeded, shots, _ = portal
    page.goto(url)
    page.locator("#api-token").wait_for()
    page.screenshot(path=str(shots / "portal-signin.png"))
    page.locator("#api-token").fill("slp_not-a-real-token")
    page.locator("#sign-in").click()
    alert = page.locator(".flash.error")
    alert.wait_for()
    text = alert.inner_text()
    assert "Please sign in (again)" in text and "(PERMISSION_DENIED)" in text
    assert "{" not in text  # a sentence, not a JSON dump
    assert page.locator("#nav").is_hidden()

    page.locator("#api-token").fill(seeded["customer"])
    page.locator("#sign-in").click()
    page.locator("#stats").wait_for()
    assert page.locator("#stat-total .stat-value").inner_text() == "4"
    assert page.locator("#stat-active .stat-value").inner_text() == "3"
    assert page.locator("#stat-suspended .stat-value").inner_text() == "1"
    assert page.locator("#stat-30 .stat-value").inner_text() == "1"
    soon = page.locator("#expiring li")
    assert soon.count() == 1 and "Cloud 8 simultaneous calls" in soon.inner_text()
    page.screenshot(path=str(shots / "portal-dashboard.png"), full_page=True)

    # "Renew" on an expiring license opens Renew license with the key verified (handed over
    # in memory, never in the URL)
    soon.get_by_role("button", name="Renew").click()
    page.locator("#price-per-year").wait_for()
    assert page.url.endswith("#/buy/renew")
    assert seeded["keys"]["annual"] not in page.url
    assert page.locator("#license-key").input_value() == seeded["keys"]["annual"]

    page.locator("#sign-out").click()
    page.locator("#api-token").wait_for()
    assert page.evaluate("sessionStorage.length") == 0


def test_upgrade_verify_a_key_pick_the_target_and_see_the_server_price(page, portal):
    _, port, seeded, shots, _ = portal
    sign_in(page, portal)
    go(page, "#/buy/upgrade")
    page.locator("#license-key").fill("ABCDE-12345")
    page.locator("#verify").click()
    alert = page.locator(".flash.error")
    alert.wait_for()
    assert "This is not a license key" in alert.inner_text()
    assert "(MALFORMED_KEY)" in alert.inner_text()

    key = seeded["keys"]["perpetual"]
    page.locator("#license-key").fill(key.lower().replace("-", " "))  # any case, any spacing
    page.locator("#verify").click()
    page.locator("#license-facts").wait_for()
    assert page.locator(".flash.error").count() == 0
    assert page.locator("#fact-edition").inner_text() == "Professional"
    assert page.locator("#fact-capacity").inner_text() == "8 simultaneous calls"
    page.locator("#target-edition").select_option("Enterprise")
    page.locator("#target-capacity").select_option(label="16 simultaneous calls")
    expected = quoted(
        port, seeded["customer"], action="UPGRADE", licenseKey=key, variantId="ent-16"
    )
    assert page.locator("#price-total").inner_text() == euros(expected)
    # standalone: no cart, and the page says why
    assert page.locator("#add-to-cart").is_disabled()
    assert "make demo-saleor" in page.locator("#cart-needs-saleor").inner_text()
    page.screenshot(path=str(shots / "portal-upgrade.png"), full_page=True)


def test_renew_license_and_maintenance_show_the_price_per_year_and_for_n_years(page, portal):
    _, port, seeded, shots, _ = portal
    token, annual, perpetual = (
        seeded["customer"],
        seeded["keys"]["annual"],
        seeded["keys"]["perpetual"],
    )
    sign_in(page, portal)
    go(page, "#/buy/renew")
    page.locator("#license-key").fill(annual)
    page.locator("#verify").click()
    page.locator("#price-per-year").wait_for()
    one_year = quoted(port, token, action="RENEW_LICENSE", licenseKey=annual, years=1)
    assert page.locator("#price-per-year").inner_text() == euros(one_year)
    page.locator("#years").select_option("3")
    three = quoted(port, token, action="RENEW_LICENSE", licenseKey=annual, years=3)
    page.locator("#price-total", has_text=euros(three)).wait_for()

    # a perpetual license has no term: the page says what to do instead
    page.locator("#license-key").fill(perpetual)
    page.locator("#verify").click()
    assert "Renew its maintenance instead" in page.locator("#unavailable").inner_text()

    page.locator('a[data-tab="maintenance"]').click()
    page.locator('a[data-tab="maintenance"].active').wait_for()  # re-rendered on hashchange
    page.locator("#license-key").fill(perpetual)
    page.locator("#verify").click()
    page.locator("#price-per-year").wait_for()
    page.locator("#years").select_option("2")
    two = quoted(port, token, action="RENEW_MAINTENANCE", licenseKey=perpetual, years=2)
    page.locator("#price-total", has_text=euros(two)).wait_for()


def test_expansion_prices_quantity_add_ons_and_flat_services_together(page, portal):
    _, port, seeded, shots, _ = portal
    token, key = seeded["customer"], seeded["keys"]["perpetual"]
    sign_in(page, portal)
    go(page, "#/buy/expansion")
    page.locator("#license-key").fill(key)
    page.locator("#verify").click()
    page.locator('#expansions input[data-variant="addon-hot-standby"]').wait_for()
    assert (
        page.locator('#expansions input[data-variant="addon-hot-standby"]').get_attribute("type")
        == "checkbox"
    )
    assert (
        page.locator('#expansions input[data-variant="addon-extensions-10"]').get_attribute("type")
        == "number"
    )
    page.locator('#expansions input[data-variant="addon-extensions-10"]').fill("2")
    page.locator('#expansions input[data-variant="addon-hot-standby"]').check()
    total = quoted(
        port, token, action="EXPANSION", licenseKey=key, variantId="addon-extensions-10", quantity=2
    )
    total += quoted(
        port, token, action="EXPANSION", licenseKey=key, variantId="addon-hot-standby", quantity=1
    )
    page.locator("#price-sum", has_text=euros(total)).wait_for()
    assert page.locator("#expansion-price .price").count() == 2
    page.screenshot(path=str(shots / "portal-expansion.png"), full_page=True)


def test_new_license_price_and_the_deployment_confirmation(page, portal):
    _, port, seeded, shots, _ = portal
    sign_in(page, portal)
    go(page, "#/buy/new")
    page.locator("#edition").select_option("Enterprise")
    page.locator("#capacity").select_option("ent-16")
    page.locator("#quantity").fill("2")
    page.locator("#maintenance-years").select_option("1")
    expected = quoted(
        port, seeded["customer"], action="NEW", variantId="ent-16", quantity=2, maintenanceYears=1
    )
    page.locator("#price-total", has_text=euros(expected)).wait_for()

    page.locator("#deployment-search").fill("head")
    page.locator(f'button[data-deployment="{seeded["deployment"]}"]').click()
    warning = page.locator("#deployment-chosen").inner_text()
    assert "A license cannot be moved after purchase." in warning
    assert seeded["deployment"] in warning
    assert not page.locator("#deployment-confirm").is_checked()
    page.locator("#deployment-confirm").check()
    page.screenshot(path=str(shots / "portal-new.png"), full_page=True)

    page.locator("#deployment-search").fill("no such deployment")
    page.locator("#deployment-results", has_text="No deployment matches.").wait_for()


def test_my_licenses_show_activations_and_download_a_verifiable_offline_file(page, portal):
    _, port, seeded, shots, _ = portal
    key = seeded["keys"]["perpetual"]
    hint = key.rsplit("-", 1)[-1]
    sign_in(page, portal)
    page.locator('a[data-nav="licenses"]').click()
    card = page.locator(f'li[data-license="{hint}"]')
    card.wait_for()
    assert page.locator("li[data-license]").count() == 4
    assert card.locator(f'[data-key="{hint}"]').inner_text() == key
    assert "Add-ons: extensions ×20" in card.inner_text()
    card.locator("summary").click()
    assert "Devices: 1 of 2" in card.inner_text()
    assert card.locator(f'[data-device="{device_hash("demo-pbx-0001")}"]').count() == 1
    suspended = page.locator(f'li[data-license="{seeded["keys"]["suspended"].rsplit("-", 1)[-1]}"]')
    assert "suspended" in suspended.locator(".badge").inner_text()
    page.screenshot(path=str(shots / "portal-licenses.png"), full_page=True)

    # a device id the API refuses reads as a sentence
    card.locator(f'button[data-offline="{hint}"]').click()
    page.locator(".flash.error", has_text="(INVALID_FINGERPRINT)").wait_for()

    card.locator(f'input[data-fingerprint="{hint}"]').fill("portal-device-0002")
    with page.expect_download() as download_info:
        card.locator(f'button[data-offline="{hint}"]').click()
    download = download_info.value
    assert download.suggested_filename.startswith(
        f"license-{hint}-"
    ) and download.suggested_filename.endswith(".json")
    document = json.loads(Path(download.path()).read_text())
    published = api(port, None, "{ licensingPublicKey { kid publicKey } }")["licensingPublicKey"]
    claims = verify_entitlement(document, trusted_keys={published["kid"]: published["publicKey"]})
    assert claims["device"] == device_hash("portal-device-0002")
    page.locator(".flash.ok", has_text="Saved license-").wait_for()
    # the list reloads: the file took the second seat
    page.locator(f'li[data-license="{hint}"] summary', has_text="Devices: 2 of 2").wait_for()


def test_every_page_fits_a_phone_screen(portal):
    url, _, seeded, shots, browser = portal
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True, has_touch=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, portal)

    def fits(name: str) -> None:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than the screen"
        page.screenshot(path=str(shots / f"portal-phone-{name}.png"), full_page=True)

    fits("dashboard")
    go(page, "#/buy/upgrade")
    page.locator("#license-key").fill(seeded["keys"]["perpetual"])
    page.locator("#verify").click()
    page.locator("#price-total").wait_for()
    fits("upgrade")
    go(page, "#/buy/new")
    page.locator("#price-total").wait_for()
    fits("new")
    go(page, "#/licenses")
    page.locator("li[data-license]").first.wait_for()
    fits("licenses")
    go(page, "#/cart")
    page.locator("#needs-saleor").wait_for()
    fits("cart")
    context.close()
    assert errors == []


def test_codes_saleor_puts_in_front_of_its_messages_read_as_the_plugins(page, portal):
    """checkoutComplete may only use Saleor's codes, so the plugin leads the message with its
    own ("STALE_QUOTE: ..."); the portal's one table reads both (messages.js, in the page)."""
    page.goto(portal[0])
    page.locator("#api-token").wait_for()
    describe = """async (error) => {
        const { describe } = await import(new URL("messages.js", location.href).href);
        return describe(error);
    }"""
    stale = {"code": "INVALID", "field": None, "message": "STALE_QUOTE: The license changed."}
    assert page.evaluate(describe, stale) == (
        "A price or license changed since the line was added; remove the line and add it "
        "again. (STALE_QUOTE)"
    )
    top_level = {"message": "x", "extensions": {"exception": {"code": "RATE_LIMITED"}}}
    assert page.evaluate(describe, top_level) == (
        "Too many attempts: wait a minute and try again. (RATE_LIMITED)"
    )
    generic = {"code": "INVALID", "field": "years", "message": "Years must be 1 to 10."}
    assert page.evaluate(describe, generic) == (
        "A value is not valid. (years) Years must be 1 to 10. (INVALID)"
    )
    unknown = {"code": "SOMETHING_NEW", "message": "A new refusal."}
    assert page.evaluate(describe, unknown) == "A new refusal. (SOMETHING_NEW)"
