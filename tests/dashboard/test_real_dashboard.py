"""The Dashboard app inside the REAL Saleor Dashboard (the React app saleor/saleor-dashboard,
built by ``make saleor-dashboard``), against a real Saleor (``make saleor-env``) running under
uvicorn with the plugin active. Headless Chromium signs in as staff, installs the app from the
manifest URL the plugin serves (the Dashboard's "Install external app" page: Saleor fetches the
manifest and installs it), opens the app from its navigation entry (the Dashboard's iframe and
its own AppBridge handshake), searches, opens a license, suspends and reinstates it and reads
both in the history; reads the widgets on a customer's and an order's page (a row opens the
license in the app page); then lets the handshake's app token expire and acts again with the
one the Dashboard's tokenRefresh brought.

Run with ``make test-dashboard SALEOR_DASHBOARD_SRC=/path/to/saleor-dashboard`` (README,
Tests). Skipped, with the reason, when the Dashboard build, the Saleor environment, Chromium or
Playwright is missing. Screenshots land in ``$DASHBOARD_SCREENSHOTS`` (default
``test-artifacts/dashboard/``, not committed)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PLUGIN_ID = "saleor_license_plugin"
PLUGIN_BASE = f"/plugins/global/{PLUGIN_ID}/"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or ""
BUILD_PLACEHOLDER = "http://saleor-api.invalid/graphql/"  # scripts/saleor-dashboard.sh
APP_TOKEN_TTL = 40  # seconds; the Dashboard refreshes an app token 30 s before it expires
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-component-update"]


def dashboard_build() -> Path | None:
    src = os.environ.get("SALEOR_DASHBOARD_SRC")
    if not src:
        return None
    build = Path(src) / "build" / "dashboard"
    return build if (build / ".saleor-dashboard-version").is_file() else None


def saleor_env() -> dict[str, str] | None:
    venv = Path(os.environ.get("SALEOR_VENV") or REPO / ".saleor-venv")
    if not venv.is_absolute():
        venv = REPO / venv
    conf = venv / "saleor-env.conf"
    if not conf.is_file():
        return None
    values = dict(line.split("=", 1) for line in conf.read_text().splitlines() if "=" in line[:40])
    values["VENV"] = str(venv)
    return values


BUILD = dashboard_build()
SALEOR = saleor_env()
pytestmark = [
    pytest.mark.skipif(
        BUILD is None,
        reason="no Saleor Dashboard build: make test-dashboard "
        "SALEOR_DASHBOARD_SRC=/path/to/saleor-dashboard (scripts/saleor-dashboard.sh builds it)",
    ),
    pytest.mark.skipif(
        SALEOR is None,
        reason="no Saleor environment: make saleor-env SALEOR_SRC=/path/to/saleor",
    ),
    pytest.mark.skipif(not CHROMIUM, reason="Chromium is not installed (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def post_json(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    assert url.startswith("http://"), url
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        reply: dict[str, Any] = json.loads(response.read())
    assert "errors" not in reply, reply
    return reply["data"]


@dataclass
class Shop:
    url: str  # http://127.0.0.1:<port>
    ids: dict[str, str]  # saleor_site.py's: staff, customer, variant, order
    log: Path

    @property
    def api(self) -> str:
        return self.url + "/graphql/"

    @property
    def plugin_api(self) -> str:
        return self.url + PLUGIN_BASE + "graphql/"


def psql(*sql: str) -> None:
    env = {**os.environ, "PGPASSWORD": os.environ.get("PGPASSWORD", "saleor")}
    for statement in sql:
        subprocess.run(
            [
                *("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", HOST, "-U", "saleor"),
                *("-d", "postgres", "-c", statement),
            ],
            env=env,
            check=True,
            capture_output=True,
        )


def rsa_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """Saleor under uvicorn on a fresh copy of the tier's migrated template database."""
    assert SALEOR is not None
    python = str(Path(SALEOR["VENV"]) / "bin" / "python")
    db = os.environ.get("DASHBOARD_TEST_DB", "slp_dash_real")
    psql(
        f'DROP DATABASE IF EXISTS "{db}"',
        f'CREATE DATABASE "{db}" TEMPLATE "{SALEOR["SALEOR_DB_TEMPLATE"]}"',
    )
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY", "REDIS_", "DATABASE_", "CACHE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="saleor.settings",
        DATABASE_URL=f"postgres://saleor:saleor@{HOST}:5432/{db}",
        SECRET_KEY=secrets.token_urlsafe(40),
        RSA_PRIVATE_KEY=rsa_key(),
        DEBUG="False",
        ALLOWED_HOSTS=f"{HOST},localhost",
        ALLOWED_CLIENT_HOSTS=f"{HOST},localhost",
        # the app's manifest is fetched from this machine: Saleor refuses loopback addresses
        # unless told (its SSRF filter stays on for everything else)
        HTTP_IP_FILTER_ALLOW_LOOPBACK_IPS="True",
        PUBLIC_URL=f"http://{HOST}:{port}/",
        SEND_USAGE_TELEMETRY="False",  # no calls out of the machine
        # app tokens expire within the test, so the Dashboard's tokenRefresh is exercised
        JWT_TTL_APP_ACCESS=f"{APP_TOKEN_TTL} seconds",
    )
    setup = subprocess.run(
        [python, str(REPO / "tests" / "dashboard" / "saleor_site.py")],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert setup.returncode == 0, setup.stderr[-4000:]
    ids = json.loads(setup.stdout.strip().splitlines()[-1])
    log = tmp_path_factory.mktemp("saleor") / "uvicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                *(python, "-m", "uvicorn", "saleor.asgi:application", "--host", HOST),
                *("--port", str(port), "--no-access-log"),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    try:
        url = f"http://{HOST}:{port}"
        for _ in range(240):
            if server.poll() is not None:
                raise AssertionError("Saleor did not start:\n" + log.read_text()[-4000:])
            with contextlib.suppress(OSError):
                post_json(url + "/graphql/", {"query": "{ shop { name } }"})
                break
            time.sleep(0.5)
        else:
            raise AssertionError("Saleor did not answer:\n" + log.read_text()[-4000:])
        yield Shop(url, ids, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        with contextlib.suppress(subprocess.CalledProcessError):
            psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture(scope="module")
def dashboard(shop: Shop) -> Iterator[str]:
    """The Dashboard's static build at /dashboard/, as its nginx image serves it: unknown paths
    get index.html (client-side routes), and API_URL is written into index.html at start."""
    assert BUILD is not None
    index = (BUILD / "index.html").read_text().replace(BUILD_PLACEHOLDER, shop.api).encode()
    root = str(BUILD)

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=root, **kwargs)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            rest = path.removeprefix("/dashboard")
            target = BUILD / rest.lstrip("/")
            if path.startswith("/dashboard/") and rest != "/" and target.is_file():
                self.path = rest
                super().do_GET()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(index)))
            self.end_headers()
            self.wfile.write(index)

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # the browser drops connections it no longer needs (closing, navigating)

    server = Server((HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/dashboard/"
    finally:
        server.shutdown()


ISSUE = """mutation($input: IssueLicenseInput!) {
  issueLicense(input: $input) { errors { field code message } license { id keyHint } } }"""


def staff_token(shop: Shop) -> str:
    data = post_json(
        shop.api,
        {
            "query": "mutation($e: String!, $p: String!) { tokenCreate(email: $e, password: $p)"
            " { token errors { code } } }",
            "variables": {"e": shop.ids["staff_email"], "p": shop.ids["staff_password"]},
        },
    )
    token: str = data["tokenCreate"]["token"]
    return token


def issue(shop: Shop, token: str, **extra: str) -> dict[str, str]:
    data = post_json(
        shop.plugin_api,
        {
            "query": ISSUE,
            "variables": {
                "input": {
                    "variantId": shop.ids["variant"],
                    "ownerId": shop.ids["customer"],
                    "ownerEmail": shop.ids["customer_email"],
                    **extra,
                }
            },
        },
        token,
    )["issueLicense"]
    assert data["errors"] == [], data
    license: dict[str, str] = data["license"]
    return license


def claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified (Saleor checks the signature; the test reads the expiry)."""
    body = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


def shoot(page: Any, path: Path) -> None:
    """A screenshot without the Dashboard's product announcement over the sidebar."""
    dismiss = page.get_by_test_id("ripple-video-announcement-dismiss")
    if dismiss.is_visible():
        dismiss.click()
        dismiss.wait_for(state="detached")
    page.screenshot(path=str(path), full_page=True)


def test_the_app_in_the_real_dashboard(shop: Shop, dashboard: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    shots = Path(os.environ.get("DASHBOARD_SCREENSHOTS") or REPO / "test-artifacts" / "dashboard")
    shots.mkdir(parents=True, exist_ok=True)

    token = staff_token(shop)
    line = {"orderId": shop.ids["order_pk"], "orderLineId": shop.ids["order_line_pk"]}
    of_order = [issue(shop, token, **line, idempotencyKey=f"line-{n}") for n in (1, 2)]
    other = issue(shop, token, note="bought by phone")
    target = of_order[0]
    manifest_url = shop.url + PLUGIN_BASE + "dashboard/manifest"

    with sync_api.sync_playwright() as playwright:
        playwright.selectors.set_test_id_attribute("data-test-id")  # the Dashboard's own
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        sent: list[str] = []  # the tokens the app's pages sent to the plugin's API, in order
        page.on(
            "request",
            lambda r: r.url == shop.plugin_api
            and sent.append(r.headers.get("authorization", "").removeprefix("Bearer ")),
        )
        try:
            # -- sign in -------------------------------------------------------------------
            page.goto(dashboard)
            page.locator('input[name="email"]').fill(shop.ids["staff_email"])
            page.locator('input[name="password"]').fill(shop.ids["staff_password"])
            page.get_by_test_id("submit").click()
            page.get_by_test_id("menu-item-label-home").or_(
                page.locator('[data-test-id="app-header"]')
            ).first.wait_for(timeout=60_000)

            # -- install the app from the plugin's manifest URL ----------------------------
            page.goto(dashboard + "extensions/app/install?manifestUrl=" + manifest_url)
            page.get_by_text("Software licenses").first.wait_for(timeout=60_000)
            shoot(page, shots / "dashboard-real-install.png")
            page.get_by_test_id("button-bar-confirm").click()
            row = page.get_by_test_id("installed-extension-row").filter(
                has_text="Software licenses"
            )
            row.first.wait_for(timeout=60_000)
            page.get_by_test_id("app-pending-label").wait_for(state="detached", timeout=60_000)

            # -- its navigation entry opens the page in the Dashboard's iframe --------------
            page.goto(dashboard + "customers/")
            page.get_by_role("link", name="Licenses").first.click()
            app = page.frame_locator('[data-test-id="app-frame"]')
            app.locator("#license-table").wait_for(timeout=60_000)
            assert app.locator("#license-table tbody tr").count() == 3
            app.locator("#q").fill(target["keyHint"])
            app.locator("#search-button").click()
            app.locator("#license-table tbody tr").nth(1).wait_for(state="detached")
            app.locator(f'#license-table tr[data-id="{target["id"]}"]').wait_for()
            assert app.locator("#license-table tbody tr").count() == 1
            shoot(page, shots / "dashboard-real-licenses.png")

            app.locator(f'tr[data-id="{target["id"]}"]').click()
            app.locator("#suspend").wait_for()
            app.locator("#reason").fill("chargeback under review")
            app.locator("#suspend").click()
            app.locator("#status").filter(has_text="SUSPENDED").wait_for()
            # the page's notification reached the Dashboard (its own toast)
            page.get_by_text("License suspended").first.wait_for()
            app.locator("#reason").fill("chargeback withdrawn")
            app.locator("#reinstate").click()
            app.locator("#status").filter(has_text="ACTIVE").wait_for()
            history = app.locator("#history tbody")
            app.locator('#history tr[data-action="reinstated"]').wait_for()
            text = history.inner_text()
            assert "chargeback under review" in text and "chargeback withdrawn" in text
            assert app.locator('#history tr[data-action="suspended"]').count() == 1
            assert app.locator('#history tr[data-action="reinstated"]').count() == 1
            # the actor is the staff user behind the Dashboard's app token
            assert shop.ids["staff"] in text or shop.ids["staff_email"] in text, text
            shoot(page, shots / "dashboard-real-license.png")

            # -- the customer page's widget lists the customer's licenses (all three) -------
            page.goto(dashboard + "customers/" + shop.ids["customer"])
            widget = page.frame_locator('[data-test-id="app-frame"]')
            widget.locator("#license-table").wait_for(timeout=60_000)
            shown = widget.locator("#license-table tbody tr")
            ids = {shown.nth(i).get_attribute("data-id") for i in range(shown.count())}
            assert ids == {lic["id"] for lic in [*of_order, other]}, ids

            # -- the order page's widget lists the order's licenses ------------------------
            page.goto(dashboard + "orders/" + shop.ids["order"])
            frame = page.locator('[data-test-id="app-frame"]')
            widget = page.frame_locator('[data-test-id="app-frame"]')
            widget.locator("#license-table").wait_for(timeout=60_000)
            # the context the Dashboard hands the widget: the order's global id as orderId
            src = urllib.parse.urlsplit(frame.get_attribute("src") or "")
            assert src.path.endswith(PLUGIN_BASE + "dashboard/widget/order"), src
            # (3.23 resolves the widget's URL twice: every parameter comes twice, equal)
            query = {k: set(v) for k, v in urllib.parse.parse_qs(src.query).items()}
            assert query["orderId"] == {shop.ids["order"]}, query
            assert query["saleorApiUrl"] == {shop.api} and len(query["id"]) == 1, query
            shown = widget.locator("#license-table tbody tr")
            ids = {shown.nth(i).get_attribute("data-id") for i in range(shown.count())}
            assert ids == {lic["id"] for lic in of_order}, ids
            assert other["id"] not in ids
            # the widget reported its height (widgetResize): the Dashboard resized the iframe
            # from its 200px default to the compact list
            content = widget.locator("html").evaluate("e => e.getBoundingClientRect().height")
            page.wait_for_function(
                "h => Math.abs(document.querySelector('[data-test-id=\"app-frame\"]')"
                ".getBoundingClientRect().height - h) <= 2",
                arg=content,
            )
            frame.scroll_into_view_if_needed()
            shoot(page, shots / "dashboard-real-order-widget.png")

            # a row opens the license in the app page (redirect through AppBridge)
            widget.locator(f'tr[data-id="{of_order[1]["id"]}"]').click()
            page.wait_for_url("**/extensions/app/**")
            app = page.frame_locator('[data-test-id="app-frame"]')
            app.locator("#status").filter(has_text="ACTIVE").wait_for(timeout=60_000)
            assert of_order[1]["keyHint"] in app.locator("#key").inner_text()

            # -- the token the handshake brought expires; the Dashboard's tokenRefresh keeps
            # the page (not reloaded) working with a new one --------------------------------
            frame_el = page.locator('[data-test-id="app-frame"]').element_handle()
            assert frame_el is not None
            content_frame = frame_el.content_frame()
            assert content_frame is not None
            content_frame.evaluate("window.__notReloaded = true")
            first = sent[-1]
            expiry = claims(first)["exp"]
            page.wait_for_timeout((expiry - time.time() + 3) * 1000)
            assert time.time() > expiry  # the handshake's token is dead now
            app.locator("#reason").fill("after the token refresh")
            app.locator("#suspend").click()
            app.locator("#status").filter(has_text="SUSPENDED").wait_for()
            assert content_frame.evaluate("window.__notReloaded") is True
            assert sent[-1] != first and claims(sent[-1])["exp"] > expiry
            assert claims(sent[-1])["app"] == claims(first)["app"]

            # -- the license's order link leaves the app for Saleor's order page (redirect) ---
            app.locator(f'#orders a[data-order="{shop.ids["order_pk"]}"]').click()
            page.wait_for_url(f"**/orders/{shop.ids['order']}*")
            page.get_by_text("Order #").first.wait_for()
        except Exception:
            page.screenshot(path=str(shots / "dashboard-real-failure.png"), full_page=True)
            print("\n".join(console[-60:]))
            print(shop.log.read_text()[-6000:])
            raise
        finally:
            browser.close()
