"""``make demo``: the license API on SQLite with the demo catalog, seeded, with examples.

    python -m saleor_license_plugin.server.demo [--port 8000] [--data-dir .demo] [--check]

Every run starts from a fresh database under ``--data-dir``, seeds a demo customer with a few
licenses, creates a staff and a customer API token, starts the server on 127.0.0.1 and prints
example requests with the real tokens and keys. ``--check`` runs those printed commands against
the server, reports each, and exits (non-zero if any failed); ``--port 0`` picks a free port.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
CUSTOMER = ("user:demo-customer", "customer@example.com")
STAFF = ("staff:demo", "staff@example.com")
DEVICE = "demo-pbx-0001"


@dataclass(frozen=True)
class Seeded:
    customer_token: str
    staff_token: str
    keys: dict[str, str]  # name → grouped key
    deployment: str  # public id
    device_etag: str


@dataclass(frozen=True)
class Example:
    title: str
    path: str
    body: dict[str, Any]
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expect_status: int = 200

    @property
    def is_graphql(self) -> bool:
        return self.path == "/graphql/"

    def curl(self, base_url: str) -> str:
        parts = ["curl -s"]
        if not self.is_graphql:
            parts.append("-i")  # show the status and the ETag
        parts.append(f"{base_url}{self.path}")
        if self.token:
            parts.append(f"-H 'Authorization: Bearer {self.token}'")
        for name, value in self.headers.items():
            parts.append(f"-H '{name}: {value}'")
        parts.append("-H 'Content-Type: application/json'")
        parts.append(f"-d '{json.dumps(self.body)}'")
        command = " ".join(parts)
        assert command.count("'") % 2 == 0, "examples must not contain single quotes"
        return command


def graphql(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"query": " ".join(query.split())}
    if variables:
        body["variables"] = variables
    return body


def seed() -> Seeded:
    """Demo data: a customer with perpetual, annual, suspended and bound licenses; tokens."""
    from saleor_license_plugin.licensing import activation, lifecycle, lookup
    from saleor_license_plugin.licensing.catalog import AddOnTerms, EditionTerms
    from saleor_license_plugin.licensing.keys import format_key
    from saleor_license_plugin.server.catalog import load_catalog
    from saleor_license_plugin.server.models import ApiToken

    catalog = load_catalog()
    owner = lifecycle.Owner(*CUSTOMER)

    def issue(variant_id: str, **kwargs: Any) -> tuple[int, str]:
        item = catalog.get(variant_id)
        assert item is not None and isinstance(item.terms, EditionTerms)
        issued = lifecycle.issue_license(
            terms=item.terms,
            owner=owner,
            product_code=variant_id,
            currency=item.price.currency,
            actor="demo",
            **kwargs,
        )
        assert issued.key is not None
        return issued.license.pk, format_key(issued.key)

    deployment = lifecycle.create_deployment(name="Head office PBX", owner_id=CUSTOMER[0])
    perpetual_id, perpetual = issue("pro-8", maintenance_years=1)
    extensions = catalog.get("addon-extensions-10")
    assert extensions is not None and isinstance(extensions.terms, AddOnTerms)
    lifecycle.expand_license(perpetual_id, add_on=extensions.terms, quantity=2, actor="demo")
    _, annual = issue("cloud-8")
    suspended_id, suspended = issue("std-16")
    lifecycle.suspend_license(suspended_id, reason="demo: unpaid invoice", actor="demo")
    _, bound = issue("ent-16", maintenance_years=2, deployment=deployment)

    _, customer_token = ApiToken.issue(user_id=CUSTOMER[0], email=CUSTOMER[1], name="demo")
    _, staff_token = ApiToken.issue(user_id=STAFF[0], email=STAFF[1], is_staff=True, name="demo")
    license = lookup.find_by_key(perpetual)
    assert license is not None
    granted = activation.activate(license, DEVICE, actor="demo")
    return Seeded(
        customer_token=customer_token,
        staff_token=staff_token,
        keys={"perpetual": perpetual, "annual": annual, "suspended": suspended, "bound": bound},
        deployment=deployment.public_id,
        device_etag=granted.etag,
    )


def examples(seeded: Seeded) -> list[Example]:
    customer, staff = seeded.customer_token, seeded.staff_token
    key = seeded.keys["perpetual"]
    return [
        Example(
            "Your licenses (customer token)",
            "/graphql/",
            graphql(
                """{ licenses(first: 10) { totalCount edges { node { keyHint key edition
                capacity status termExpiresAt maintenanceExpiresAt addOns { code quantity }
                deployment { publicId name } } } } }"""
            ),
            customer,
        ),
        Example(
            "Verify a key: edition, expiries and what it can buy next",
            "/graphql/",
            graphql(
                """mutation Verify($key: String!) { verifyLicenseKey(key: $key) {
                errors { field code message } verification { status edition capacity
                maintenanceExpiresAt actions upgrades { variantId name total { amount currency } }
                maintenance { total { amount currency } }
                expansions { variantId name unitPrice { amount currency } } } } }""",
                {"key": key},
            ),
            customer,
        ),
        Example(
            "Quote an upgrade to Enterprise 16",
            "/graphql/",
            graphql(
                """mutation Quote($input: QuoteLicenseActionInput!) {
                quoteLicenseAction(input: $input) { errors { field code message }
                quote { name unitPrice { amount currency } total { amount currency }
                breakdown { description amount { amount currency } } } } }""",
                {"input": {"action": "UPGRADE", "licenseKey": key, "variantId": "ent-16"}},
            ),
            customer,
        ),
        Example(
            "Renew the Cloud license for 2 years",
            "/graphql/",
            graphql(
                """mutation Quote($input: QuoteLicenseActionInput!) {
                quoteLicenseAction(input: $input) { errors { field code message } quote { name years
                total { amount currency } } } }""",
                {
                    "input": {
                        "action": "RENEW_LICENSE",
                        "licenseKey": seeded.keys["annual"],
                        "years": 2,
                    }
                },
            ),
            customer,
        ),
        Example(
            "Dashboard counts",
            "/graphql/",
            graphql(
                """{ licenseStatistics { total byStatus { status count }
                expiringWithin30Days expiringWithin90Days issuedThisMonth } }"""
            ),
            customer,
        ),
        Example(
            "Deployments typeahead",
            "/graphql/",
            graphql(
                """{ deployments(search: "head", first: 5) { edges { node { publicId name } } } }"""
            ),
            customer,
        ),
        Example(
            "Issue a not-for-resale license (staff token; idempotent, the key shows once)",
            "/graphql/",
            graphql(
                """mutation Issue($input: IssueLicenseInput!) { issueLicense(input: $input) {
                errors { field code message } created key license { keyHint kind edition
                capacity } } }""",
                {
                    "input": {
                        "variantId": "pro-4",
                        "ownerId": CUSTOMER[0],
                        "ownerEmail": CUSTOMER[1],
                        "kind": "NOT_FOR_RESALE",
                        "idempotencyKey": "demo-nfr-1",
                    }
                },
            ),
            staff,
        ),
        Example(
            "The public key devices trust (no token)",
            "/graphql/",
            graphql("{ licensingPublicKey { kid algorithm publicKey } }"),
        ),
        Example(
            "Device: activate or refresh (200, signed document, ETag)",
            "/activation/",
            {"key": key, "fingerprint": DEVICE},
        ),
        Example(
            "Device: hourly refresh with its ETag (304 Not Modified)",
            "/activation/",
            {"key": key, "fingerprint": DEVICE},
            headers={"If-None-Match": seeded.device_etag},
            expect_status=304,
        ),
    ]


# --- checking the printed examples --------------------------------------------------------


def _graphql_ok(body: Any) -> bool:
    if not isinstance(body, dict) or body.get("errors") or not body.get("data"):
        return False
    return all(
        not (isinstance(value, dict) and value.get("errors")) for value in body["data"].values()
    )


def check_with_curl(example: Example, base_url: str) -> tuple[bool, str]:
    """Run the command exactly as printed."""
    done = subprocess.run(  # noqa: S603  the command is ours, printed above
        ["bash", "-c", example.curl(base_url)],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        return False, f"curl exited {done.returncode}: {done.stderr.strip()}"
    if example.is_graphql:
        try:
            body = json.loads(done.stdout)
        except ValueError:
            return False, done.stdout[:200]
        return _graphql_ok(body), done.stdout[:200]
    status_line = done.stdout.splitlines()[0] if done.stdout else ""
    return f" {example.expect_status} " in f"{status_line} ", status_line


def check_with_urllib(example: Example, base_url: str) -> tuple[bool, str]:
    """The same request without curl."""
    headers = {"Content-Type": "application/json", **example.headers}
    if example.token:
        headers["Authorization"] = f"Bearer {example.token}"
    request = urllib.request.Request(  # noqa: S310  loopback only
        base_url + example.path, data=json.dumps(example.body).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            status, content = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, content = error.code, error.read()
    if example.is_graphql:
        ok = status == 200 and _graphql_ok(json.loads(content or b"{}"))
        return ok, content[:200].decode(errors="replace")
    return status == example.expect_status, f"HTTP {status}"


def check_portal(base_url: str) -> tuple[bool, str]:
    """The portal's page and its config (standalone: no Saleor, the catalog inline)."""
    try:
        with urllib.request.urlopen(f"{base_url}/portal/", timeout=60) as response:  # noqa: S310
            page = response.read().decode()
        with urllib.request.urlopen(f"{base_url}/portal/config.json", timeout=60) as response:  # noqa: S310
            config = json.loads(response.read())
    except (urllib.error.URLError, ValueError) as error:
        return False, str(error)
    ok = "portal/app.js" in page and config.get("mode") == "standalone" and bool(config["catalog"])
    return ok, json.dumps(config)[:200]


def run_checks(items: list[Example], base_url: str) -> bool:
    check = check_with_curl if shutil.which("curl") and shutil.which("bash") else check_with_urllib
    failures = 0
    for example in items:
        ok, detail = check(example, base_url)
        failures += not ok
        print(f"  {'ok  ' if ok else 'FAIL'} {example.title}" + ("" if ok else f": {detail}"))
    print(f"{len(items) - failures}/{len(items)} examples returned data without errors.")
    portal_ok, detail = check_portal(base_url)
    print(
        f"  {'ok  ' if portal_ok else 'FAIL'} Portal page and config"
        + ("" if portal_ok else f": {detail}")
    )
    return failures == 0 and portal_ok


# --- main ----------------------------------------------------------------------------------


def prepare_environment(data_dir: Path) -> None:
    """A fresh SQLite database and local-memory cache, whatever the shell has set."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for leftover in data_dir.glob("licenses.sqlite3*"):
        leftover.unlink()
    os.environ["DJANGO_SETTINGS_MODULE"] = "saleor_license_plugin.server.settings"
    os.environ["LICENSE_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = ""
    os.environ["REDIS_URL"] = ""
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
    os.environ.setdefault("LICENSE_KEY_SECRET", secrets.token_urlsafe(32))


def print_banner(base_url: str, seeded: Seeded, items: list[Example]) -> None:
    print(f"\nLicense API (demo) running at {base_url}/")
    print(f"  GraphQL endpoint and GraphiQL: {base_url}/graphql/")
    print(f"  Device activation endpoint:    {base_url}/activation/  (POST JSON)")
    print(f"  Reference partner portal:      {base_url}/portal/  (log in with the customer token)")
    print(
        "    Standalone, the portal verifies keys, prices upgrades, renewals and expansions, shows"
        "\n    the dashboard and your licenses and downloads offline activation files. The cart,"
        "\n    payment and orders need Saleor's checkout: run `make demo-saleor`."
    )
    print(f"\nCustomer token: {seeded.customer_token}")
    print(f"Staff token:    {seeded.staff_token}")
    print("Demo keys:")
    for name, key in seeded.keys.items():
        print(f"  {name:<10} {key}")
    print(f"Deployment: {seeded.deployment}")
    print("\nTry these (copy and paste):\n")
    for example in items:
        print(f"# {example.title}\n{example.curl(base_url)}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--data-dir", type=Path, default=Path(".demo"))
    parser.add_argument("--check", action="store_true", help="run the examples, then exit")
    args = parser.parse_args(argv)

    prepare_environment(args.data_dir.resolve())
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.servers.basehttp import (
        ThreadedWSGIServer,
        WSGIRequestHandler,
        get_internal_wsgi_application,
    )

    call_command("migrate", verbosity=0)
    seeded = seed()
    server = ThreadedWSGIServer((HOST, args.port), WSGIRequestHandler)
    server.set_app(get_internal_wsgi_application())
    base_url = f"http://{HOST}:{server.server_address[1]}"
    items = examples(seeded)
    print_banner(base_url, seeded, items)
    sys.stdout.flush()

    if args.check:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            return 0 if run_checks(items, base_url) else 1
        finally:
            server.shutdown()
            server.server_close()
    print("Serving until Ctrl-C.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
