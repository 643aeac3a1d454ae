"""Fixtures and steps of the portal's browser tests in the Saleor tier (test_portal_browser*.py):
headless Chromium through Playwright, the live server's database connections, signing in, the
billing address."""

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or ""
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


@pytest.fixture
def replica_in_threads():
    """Saleor's replica alias mirrors the test database, but Django points only the test
    thread's connection at it (set_as_test_mirror); the live server's thread opens its own from
    the settings, which still name the non-test database. Name the test database there too."""
    from django.conf import settings
    from django.db import connections

    replica = connections.settings.get(settings.DATABASE_CONNECTION_REPLICA_NAME)
    if replica is None:
        yield
        return
    before = replica["NAME"]
    replica["NAME"] = connections[settings.DATABASE_CONNECTION_DEFAULT_NAME].settings_dict["NAME"]
    yield
    replica["NAME"] = before


def browser_page(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="en-US")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return browser, page, errors


def sign_in(page, email):
    page.locator("#email").fill(email)
    page.locator("#password").fill("password")
    # Saleor delays the next attempt after a failure (LOGIN_ATTEMPT_DELAYED, 1 s and up):
    # the portal says so; try again as a person would
    for _ in range(10):
        page.locator("#sign-in").click()
        page.locator("#stats, #app .flash.error").first.wait_for()
        if page.locator("#stats").count():
            break
        assert "(LOGIN_ATTEMPT_DELAYED)" in page.locator("#app .flash.error").inner_text()
        page.wait_for_timeout(1000)
    page.locator("#stats").wait_for()


def fill_billing_address(page):
    page.locator("#first-name").fill("Ada")
    page.locator("#last-name").fill("Lovelace")
    page.locator("#street").fill("Unter den Linden 1")
    page.locator("#postal-code").fill("10117")
    page.locator("#city").fill("Berlin")
    page.locator("#country").select_option("DE")
