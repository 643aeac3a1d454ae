"""The Dashboard page in headless Chromium, inside an iframe of a host page on another origin
that speaks AppBridge as the Saleor Dashboard does (waits for ``notifyReady``, posts the
``handshake`` with the token). Runs against the standalone server (uvicorn, as documented) with a
staff API token standing in for the Dashboard's app token; the token check of Saleor's app
tokens is tested on a real Saleor in tests/saleor/test_dashboard_app.py.

Skipped, visibly, where Chromium or Playwright is missing. Screenshots land in
``$DASHBOARD_SCREENSHOTS`` (default: the test's tmp dir)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.server.live import HOST, Client, serve, server_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or ""
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Dashboard</title>
<style>body{margin:0;font:14px system-ui} header{padding:10px 16px;background:#111;color:#fff}
iframe{border:0;width:100%;height:1400px}</style></head><body>
<header>Saleor Dashboard (test host) &rsaquo; Apps &rsaquo; Software licenses</header>
<iframe id="app" src="__SRC__"></iframe>
<script>
  window.received = [];
  var frame = document.getElementById("app");
  var appOrigin = new URL(frame.src).origin;
  window.addEventListener("message", function (event) {
    if (event.origin !== appOrigin) return;
    window.received.push(event.data);
    var d = event.data || {}, p = d.payload || {};
    if (d.type === "notifyReady") {
      frame.contentWindow.postMessage({type: "handshake", payload: {token: "__TOKEN__",
        version: 1, saleorVersion: "3.23.28", dashboardVersion: "3.23.0"}}, appOrigin);
    }
    if (p.actionId) {
      frame.contentWindow.postMessage({type: "response", payload: {actionId: p.actionId, ok: true}},
        appOrigin);
    }
  });
</script></body></html>"""


def host_server(html: str) -> tuple[ThreadingHTTPServer, int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def graphql(port: int, token: str, query: str, variables: dict | None = None) -> dict:
    client = Client(port)
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    client.connection.request(
        "POST",
        "/graphql/",
        body,
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    reply = json.loads(client.connection.getresponse().read())
    client.close()
    assert "errors" not in reply, reply
    return reply["data"]


ISSUE = """mutation($input: IssueLicenseInput!) {
  issueLicense(input: $input) { errors { code } license { id keyHint } } }"""


@pytest.mark.skipif(not CHROMIUM, reason="Chromium is not installed (apt-get install chromium)")
def test_search_open_suspend_reinstate_in_the_dashboard_page(tmp_path, settings):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    shots = Path(os.environ.get("DASHBOARD_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    env = server_env(tmp_path, settings.REDIS_URL)
    with serve("asgi", env) as port:
        token = subprocess.run(
            [
                *(sys.executable, "-m", "django", "create_api_token", "--user-id", "staff:1"),
                *("--email", "support@shop.example", "--staff", "--name", "dashboard test"),
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        issued = [
            graphql(
                port,
                token,
                ISSUE,
                {
                    "input": {
                        "variantId": variant,
                        "ownerId": f"user:{owner}",
                        "ownerEmail": f"{owner}@example.com",
                    }
                },
            )["issueLicense"]["license"]
            for variant, owner in [("pro-16", "carol"), ("std-8", "dave"), ("cloud-8", "erin")]
        ]
        target = issued[0]
        host, host_port = host_server(
            HOST_PAGE.replace("__SRC__", f"http://{HOST}:{port}/dashboard/?theme=light").replace(
                "__TOKEN__", token
            )
        )
        try:
            with sync_api.sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                # the host is 127.0.0.1, the app "localhost": two origins, as in production
                page.goto(f"http://localhost:{host_port}/")
                app = page.frame_locator("#app")
                app.locator("#license-table").wait_for(timeout=20_000)
                assert app.locator("#license-table tbody tr").count() == 3
                assert page.evaluate("window.received[0].type") == "notifyReady"

                app.locator("#q").fill("carol@example.com")
                app.locator("#search-button").click()
                app.locator(f'tr[data-id="{target["id"]}"]').wait_for()
                app.locator("#license-table tbody tr").nth(1).wait_for(state="detached")
                page.screenshot(path=str(shots / "dashboard-licenses.png"), full_page=True)

                app.locator(f'tr[data-id="{target["id"]}"]').click()
                app.locator("#suspend").wait_for()
                app.locator("#reason").fill("chargeback under review")
                app.locator("#suspend").click()
                app.locator("#status").filter(has_text="SUSPENDED").wait_for()
                app.locator("#reason").fill("chargeback withdrawn")
                app.locator("#reinstate").click()
                app.locator("#status").filter(has_text="ACTIVE").wait_for()
                app.locator("#reveal").click()
                app.locator("#key").filter(has_text="-").wait_for()
                app.locator('#history tr[data-action="key_revealed"]').wait_for()

                history = app.locator("#history tbody")
                text = history.inner_text()
                assert "suspended" in text and "chargeback under review" in text
                assert "reinstated" in text and "chargeback withdrawn" in text
                assert "user:staff:1" in text
                assert app.locator('#history tr[data-action="suspended"]').count() == 1
                assert app.locator('#history tr[data-action="reinstated"]').count() == 1
                # the page told the Dashboard (toasts through AppBridge)
                notes = page.evaluate(
                    "window.received.filter(m => m.type === 'notification')"
                    ".map(m => m.payload.title)"
                )
                assert notes == ["License suspended", "License reinstated"]
                page.screenshot(path=str(shots / "dashboard-license.png"), full_page=True)

                # an API refusal reads as a sentence with its code
                app.locator("#reinstate").click()
                alert = app.locator(".flash.error")
                alert.wait_for()
                assert "[INVALID_TRANSITION]" in alert.inner_text()
                browser.close()
        finally:
            host.shutdown()
