"""The plugin inside a real Saleor, measured beside Saleor's own API in the same run.

    make bench-saleor                       # in the environment `make saleor-env` built
    .saleor-venv/bin/python -m benchmarks.saleor_bench --help

Creates a scratch database from the Saleor test-database template `make saleor-env` built
(``BENCH_SALEOR_DB``, default ``slp_perf_bench``; dropped and created again), migrates it,
seeds a channel, license products and plain products, a customer and activated licenses
(through the plugin's own services), and activates the plugin as the Dashboard does. Then starts
Saleor under uvicorn (ASGI, ``saleor.asgi:application``, one worker, loopback,
``--no-proxy-headers``, ``DEBUG=False``, Redis cache from ``CACHE_URL`` as in production) and
drives it with 4 keep-alive clients in interleaved, bounded rounds:

- ``shop``: Saleor's ``/graphql/`` ``{ shop { name } }``, anonymous: the baseline;
- ``me``: Saleor's ``{ me { email } }`` with the customer's JWT;
- ``verify``: ``verifyLicenseKey`` (status, edition, capacity, actions, upgrades with prices)
  through ``/plugins/global/<PLUGIN_ID>/graphql/``, the owner's JWT;
- ``activate``: a device re-activation (200, a freshly signed document);
- ``refresh 304``: the same device sending its ETag;
- ``route floor 405``: ``GET activation/``, refused by our webhook before it reads anything:
  what Saleor's routing to a plugin costs;
- ``lines add``: ``checkoutLicenseLinesAdd`` of 10 lines vs Saleor's ``checkoutLinesAdd`` of 10
  lines, each into a fresh checkout;
- ``complete``: ``checkoutComplete`` of those checkouts: 10 license lines vs 10 plain lines
  (unpaid orders allowed in the channel: no payment step in either).

Each scenario's SQL statements are counted on separate requests (``X-Bench-Count``, see
``benchmarks/saleor_sql.py``), split into ours (the plugin's code on the stack) and Saleor's.
Then, in this process, on one worker: fulfillment of one paid order of ``--units`` license
units and of twice as many (time, statements per unit), and the expiry and reminder sweeps over
``--sweep-licenses`` licenses (statements per page, time). Loopback only; prints the machine's
core count.

``--compare PATH`` serves a second Saleor with the plugin imported from another checkout (e.g. a
copy of main) and runs every HTTP scenario on both, back to back, alternating which goes first:
before and after in one run. ``--only inprocess [--profile verify]`` times each API scenario
through Django's test client in this process (and profiles one with cProfile).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import common
from benchmarks.common import free_port

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent
PLUGIN_ID = "saleor_license_plugin"
PLUGIN_PATH = f"/plugins/global/{PLUGIN_ID}/"
RAISED_LIMITS = {
    "verify_ip": "100000000/60",
    "verify_key": "100000000/60",
    "activate_ip": "100000000/60",
    "activate_key": "100000000/60",
}
SHOP = "{ shop { name } }"
ME = "{ me { email } }"
VERIFY = (
    "mutation($key: String!) { verifyLicenseKey(key: $key) { errors { field code message } "
    "verification { status edition capacity termExpiresAt maintenanceExpiresAt actions "
    "upgrades { variantId total { amount currency } } maintenance { total { amount currency } } "
    "expansions { variantId unitPrice { amount currency } } } } }"
)
LICENSE_LINES_ADD = (
    "mutation($checkoutId: ID!, $lines: [CheckoutLicenseLineInput!]!) { "
    "checkoutLicenseLinesAdd(checkoutId: $checkoutId, lines: $lines) { "
    "lines { id quantity quote { action total { amount currency } } } "
    "errors { field code message } } }"
)
LINES_ADD = (
    "mutation($id: ID!, $lines: [CheckoutLineInput!]!) { checkoutLinesAdd(id: $id, "
    "lines: $lines) { checkout { id lines { id quantity } } errors { field code message } } }"
)
COMPLETE = (
    "mutation($id: ID!) { checkoutComplete(id: $id) { order { id number status } "
    "errors { field code message } } }"
)
LINES = 10


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]
    expect: int
    check: Callable[[bytes], bool] | None = None


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    sql: tuple[int, int] | None = None  # (total, ours) of one counted request

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def mean(self) -> float:
        return sum(self.latencies) / len(self.latencies) * 1000 if self.latencies else 0.0


def send(connection: http.client.HTTPConnection, request: Request) -> tuple[bool, bytes, dict]:
    connection.request(request.method, request.path, request.body, request.headers)
    response = connection.getresponse()
    body = response.read()
    ok = response.status == request.expect and (request.check is None or request.check(body))
    return ok, body, {k.lower(): v for k, v in response.getheaders()}


def load(
    port: int,
    requests: list[Request],
    *,
    concurrency: int,
    seconds: float,
    warmup: int = 0,
) -> Result:
    """``requests`` in order (at most ``seconds``) from ``concurrency`` keep-alive clients; the
    first ``warmup`` are not measured."""
    result = Result("")
    lock = threading.Lock()
    position = [0]
    deadline = [0.0]
    failures: list[bytes] = []

    def worker(stop: int, measure: bool) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=120)
        while True:
            with lock:
                index = position[0]
                if index >= stop or (measure and time.monotonic() > deadline[0]):
                    break
                position[0] += 1
            request = requests[index]
            started = time.perf_counter()
            try:
                ok, body, _ = send(connection, request)
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=120)
                ok, body = False, repr(error).encode()
            took = time.perf_counter() - started
            if measure:
                with lock:
                    if ok:
                        result.latencies.append(took)
                    else:
                        result.errors += 1
                        failures.append(body[:500])
        connection.close()

    def run(stop: int, measure: bool) -> None:
        threads = [
            threading.Thread(target=worker, args=(stop, measure)) for _ in range(concurrency)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    run(min(warmup, len(requests)), False)
    started = time.monotonic()
    deadline[0] = started + seconds
    run(len(requests), True)
    result.elapsed = time.monotonic() - started
    for failure in failures[:2]:
        print(f"  failed: {failure!r}", flush=True)
    return result


def counted(port: int, request: Request, tag: str, repeat: bool = True) -> tuple[int, int]:
    """SQL statements (total, ours) of one request, counted by the server (after one uncounted
    request when the request can be repeated, so per-process first-use work is not counted)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        if repeat:
            send(connection, request)
        ok, body, headers = send(
            connection,
            Request(**{**request.__dict__, "headers": {**request.headers, "X-Bench-Count": tag}}),
        )
    finally:
        connection.close()
    if not ok:
        raise RuntimeError(f"{tag}: the counted request failed: {body[:500]!r}")
    total, ours = headers["x-bench-sql"].split()
    return int(total), int(ours)


# --- the environment ----------------------------------------------------------------------


def saleor_env_conf() -> dict[str, str]:
    venv = Path(os.environ.get("SALEOR_VENV", REPO / ".saleor-venv"))
    conf = venv / "saleor-env.conf"
    if not conf.is_file():
        raise SystemExit(f"{conf} not found: build the environment with make saleor-env")
    values = {}
    for line in conf.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name, value = line.split("=", 1)
            values[name] = value
    return values


def rsa_private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def environment(database: str, redis_url: str, sql_log: str) -> dict[str, str]:
    pg = f"postgres://saleor:saleor@{os.environ.get('PGHOST', '127.0.0.1')}:5432/{database}"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.saleor_settings",
        PYTHONPATH=str(REPO),
        DATABASE_URL=pg,
        CACHE_URL=redis_url,
        CELERY_BROKER_URL=redis_url,  # tasks queue (nothing here enqueues one when unpaid)
        DEBUG="False",
        SECRET_KEY="saleor-bench-only-not-secret",  # noqa: S106
        RSA_PRIVATE_KEY=rsa_private_key(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        ALLOWED_CLIENT_HOSTS="http://127.0.0.1",
        JWT_TTL_ACCESS="1 day",
        SEND_USAGE_TELEMETRY="False",
        LICENSE_RATE_LIMITS=json.dumps(RAISED_LIMITS),
        BENCH_SQL_LOG=sql_log,
    )
    env.pop("REDIS_URL", None)  # Saleor would take it as CACHE_URL too; CACHE_URL says it
    return env


def create_database(name: str, template: str) -> None:
    import psycopg

    dsn = f"postgres://saleor:saleor@{os.environ.get('PGHOST', '127.0.0.1')}:5432/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


# --- seeding ------------------------------------------------------------------------------


@dataclass
class Seeded:
    token: str  # the customer's JWT
    devices: list[tuple[str, str, str]]  # (key, fingerprint, etag)
    license_variants: list[str]  # global ids of edition variants for NEW lines
    plain_variants: list[str]  # global ids of plain variants
    user_pk: int
    channel_slug: str


def seed(licenses: int) -> Seeded:
    import datetime
    from decimal import Decimal

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings
    from saleor.account.models import Address, User
    from saleor.channel.models import Channel
    from saleor.core.jwt import create_access_token
    from saleor.plugins.models import PluginConfiguration
    from saleor.product.models import (
        Product,
        ProductChannelListing,
        ProductType,
        ProductVariant,
        ProductVariantChannelListing,
    )
    from saleor.tax.models import TaxClass, TaxConfiguration

    from saleor_license_plugin import conf
    from saleor_license_plugin.licensing import activation, lifecycle
    from saleor_license_plugin.licensing.catalog import EditionTerms
    from saleor_license_plugin.licensing.keys import format_key
    from saleor_license_plugin.models import License
    from saleor_license_plugin.saleor_host.auth import user_global_id, variant_global_id
    from saleor_license_plugin.saleor_host.catalog import SaleorCatalog

    assert PLUGIN_ID in {p.rsplit(".", 2)[0] for p in settings.PLUGINS} or any(
        p.startswith(PLUGIN_ID) for p in settings.PLUGINS
    ), settings.PLUGINS
    PluginConfiguration.objects.update_or_create(
        identifier=PLUGIN_ID,
        channel=None,
        defaults={"name": "Software licenses", "active": True, "configuration": []},
    )
    channel = Channel.objects.create(
        name="Bench",
        slug="bench",
        currency_code="USD",
        default_country="US",
        is_active=True,
        allow_unpaid_orders=True,
    )
    TaxConfiguration.objects.create(channel=channel, charge_taxes=False)
    tax_class, _ = TaxClass.objects.get_or_create(name="Default")
    license_type = ProductType.objects.create(
        name="Software license",
        slug="software-license",
        kind="normal",
        has_variants=True,
        is_shipping_required=False,
        is_digital=True,
    )
    plain_type = ProductType.objects.create(
        name="Download",
        slug="download",
        kind="normal",
        has_variants=True,
        is_shipping_required=False,
        is_digital=True,
    )
    since = datetime.datetime(1999, 1, 1, tzinfo=datetime.UTC)

    def product(name: str, kind: ProductType, metadata: dict[str, str]) -> Product:
        made = Product.objects.create(
            name=name,
            slug=name.lower().replace(" ", "-"),
            product_type=kind,
            metadata=metadata,
            tax_class=tax_class,
        )
        ProductChannelListing.objects.create(
            product=made,
            channel=channel,
            is_published=True,
            currency="USD",
            visible_in_listings=True,
            available_for_purchase_at=since,
        )
        return made

    def variant(of: Product, sku: str, price: str, metadata: dict[str, str]) -> ProductVariant:
        made = ProductVariant.objects.create(
            product=of, sku=sku, name=sku, track_inventory=False, metadata=metadata
        )
        ProductVariantChannelListing.objects.create(
            variant=made,
            channel=channel,
            price_amount=Decimal(price),
            discounted_price_amount=Decimal(price),
            currency="USD",
        )
        return made

    editions = []
    for rank, (name, term) in enumerate(
        [
            ("Standard", "perpetual"),
            ("Professional", "perpetual"),
            ("Enterprise", "perpetual"),
            ("Cloud", "annual"),
        ],
        start=1,
    ):
        edition = product(
            name,
            license_type,
            {
                "license.kind": "edition",
                "license.edition": name,
                "license.edition_rank": str(rank),
                "license.maintenance_rate": "0.2",
                "license.term": term,
                "license.max_activations": "2",
            },
        )
        for capacity in (8, 16, 32):
            editions.append(
                variant(
                    edition,
                    f"{name[:3].upper()}-{capacity}",
                    str(100 * rank + 10 * capacity),
                    {"license.capacity": str(capacity)},
                )
            )
    for code, units in (("extensions", "10"), ("hot_standby", "1")):
        add_on = product(
            code.replace("_", " ").title(),
            license_type,
            {"license.kind": "add_on", "license.add_on": code, "license.add_on_units": units},
        )
        variant(add_on, code.upper(), "50", {})
    plain = [
        variant(product(f"Manual {n}", plain_type, {}), f"MAN-{n}", str(10 + n), {})
        for n in range(LINES)
    ]
    user = User.objects.create(email="bench@example.com", is_active=True)
    user.default_billing_address = Address.objects.create(
        first_name="Ada",
        last_name="Lovelace",
        street_address_1="Tęczowa 7",
        city="Wrocław",
        postal_code="53-601",
        country="PL",
    )
    user.save()

    settings_ = conf.from_django_settings()
    catalog = SaleorCatalog(channel)
    devices = []
    owner = lifecycle.Owner(user_global_id(user.pk), user.email)
    items = [catalog.get(variant_global_id(v.pk)) for v in editions]
    with conf.using(settings_):
        for index in range(licenses):
            item = items[index % len(items)]
            assert item is not None and isinstance(item.terms, EditionTerms)
            issued = lifecycle.issue_license(
                terms=item.terms,
                owner=owner,
                product_code=item.variant_id,
                maintenance_years=1,
            )
            assert issued.key is not None
            license = License.objects.select_related("deployment").get(pk=issued.license.pk)
            fingerprint = f"bench-device-{index:06}"
            granted = activation.activate(license, fingerprint, actor="bench")
            devices.append((format_key(issued.key), fingerprint, granted.etag))
    return Seeded(
        token=create_access_token(user),
        devices=devices,
        license_variants=[variant_global_id(v.pk) for v in editions if "-8" in v.sku],
        plain_variants=[variant_global_id(v.pk) for v in plain],
        user_pk=user.pk,
        channel_slug=channel.slug,
    )


def empty_checkouts(count: int, seeded: Seeded) -> list[str]:
    """``count`` empty checkouts of the customer, billing address set (global ids)."""
    import graphene
    from saleor.account.models import User
    from saleor.channel.models import Channel
    from saleor.checkout.models import Checkout, CheckoutMetadata

    user = User.objects.get(pk=seeded.user_pk)
    channel = Channel.objects.get(slug=seeded.channel_slug)
    ids = []
    for _ in range(count):
        checkout = Checkout.objects.create(
            user=user,
            email=user.email,
            channel=channel,
            currency="USD",
            country="PL",
            billing_address=user.default_billing_address.get_copy(),
        )
        CheckoutMetadata.objects.create(checkout=checkout)
        ids.append(graphene.Node.to_global_id("Checkout", checkout.pk))
    return ids


# --- scenarios ----------------------------------------------------------------------------


def ok_data(name: str) -> Callable[[bytes], bool]:
    """The answer has data for ``name`` and no errors of either kind."""

    def check(body: bytes) -> bool:
        try:
            data = json.loads(body)
        except ValueError:
            return False
        payload = (data.get("data") or {}).get(name)
        return not data.get("errors") and bool(payload) and not payload.get("errors")

    return check


def graphql(
    path: str, query: str, variables: dict | None, token: str | None, check: str | None
) -> Request:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    return Request("POST", path, body, headers, 200, ok_data(check) if check else None)


def api_requests(seeded: Seeded, count: int) -> dict[str, list[Request]]:
    token = seeded.token
    devices = seeded.devices
    plugin_graphql = f"{PLUGIN_PATH}graphql/"
    activation = f"{PLUGIN_PATH}activation/"
    json_headers = {"Content-Type": "application/json"}

    def device(i: int, etag: bool) -> Request:
        key, fingerprint, tag = devices[i % len(devices)]
        body = json.dumps({"key": key, "fingerprint": fingerprint}).encode()
        headers = {**json_headers, "If-None-Match": tag} if etag else json_headers
        return Request("POST", activation, body, headers, 304 if etag else 200)

    return {
        "shop": [graphql("/graphql/", SHOP, None, None, "shop")] * count,
        "me": [graphql("/graphql/", ME, None, token, "me")] * count,
        "verify": [
            graphql(
                plugin_graphql,
                VERIFY,
                {"key": devices[i % len(devices)][0]},
                token,
                "verifyLicenseKey",
            )
            for i in range(count)
        ],
        "activate": [device(i, False) for i in range(count)],
        "refresh 304": [device(i, True) for i in range(count)],
        # The floor of the plugin route: Saleor's routing to the plugin, then our webhook
        # refusing the method before reading anything.
        "route floor 405": [Request("GET", activation, None, {}, 405)] * count,
    }


def license_lines_add(seeded: Seeded, checkout_id: str) -> Request:
    lines = [
        {
            "variantId": seeded.license_variants[n % len(seeded.license_variants)],
            "action": "NEW",
            "quantity": 1,
            "maintenanceYears": 1,
        }
        for n in range(LINES)
    ]
    return graphql(
        f"{PLUGIN_PATH}graphql/",
        LICENSE_LINES_ADD,
        {"checkoutId": checkout_id, "lines": lines},
        seeded.token,
        "checkoutLicenseLinesAdd",
    )


def plain_lines_add(seeded: Seeded, checkout_id: str) -> Request:
    lines = [{"variantId": v, "quantity": 1} for v in seeded.plain_variants[:LINES]]
    return graphql(
        "/graphql/",
        LINES_ADD,
        {"id": checkout_id, "lines": lines},
        seeded.token,
        "checkoutLinesAdd",
    )


def complete(seeded: Seeded, checkout_id: str) -> Request:
    return graphql("/graphql/", COMPLETE, {"id": checkout_id}, seeded.token, "checkoutComplete")


# --- the server ---------------------------------------------------------------------------


def start_server(env: dict[str, str], port: int, code: Path = REPO) -> subprocess.Popen[bytes]:
    """Saleor under uvicorn; the plugin (and this module's settings) imported from ``code``
    (first on ``PYTHONPATH``, ahead of the installed plugin)."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "saleor.asgi:application",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
        "--no-proxy-headers",
    ]
    return subprocess.Popen(command, env=env, cwd=code)


def wait_ready(port: int, timeout: float = 300) -> None:
    common.wait_ready(port, "/health/", timeout)


# --- in-process: fulfillment and sweeps ---------------------------------------------------


class StatementCounter:
    """Statements this process sends, per labelled stretch (``with counter: ...``)."""

    def __init__(self) -> None:
        from benchmarks.saleor_sql import Counter

        self.counter = Counter()
        self._stack = None

    def __enter__(self) -> StatementCounter:
        self.counter.__init__()  # type: ignore[misc]
        self._stack = self.counter.counting()
        self._stack.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stack is not None
        self._stack.__exit__(*exc)

    @property
    def total(self) -> int:
        return self.counter.total


def paid_order(seeded: Seeded, units: int):  # type: ignore[no-untyped-def]
    """A paid order of one license line of ``units`` units, added and checked the way a
    checkout's is (the intent signed by the plugin's checkout service)."""
    from decimal import Decimal

    from django.utils import timezone
    from saleor.account.models import User
    from saleor.channel.models import Channel
    from saleor.order import OrderChargeStatus, OrderStatus
    from saleor.order.models import Order, OrderLine
    from saleor.product.models import ProductVariant

    from saleor_license_plugin import conf
    from saleor_license_plugin.licensing.checkout_lines import LineIntent
    from saleor_license_plugin.saleor_host.auth import decode_global_id, user_global_id

    settings = conf.from_django_settings()
    user = User.objects.get(pk=seeded.user_pk)
    channel = Channel.objects.get(slug=seeded.channel_slug)
    variant = ProductVariant.objects.get(
        pk=int(decode_global_id(seeded.license_variants[0], "ProductVariant") or 0)
    )
    intent = LineIntent(
        action="new",
        variant_id=seeded.license_variants[0],
        quantity=units,
        unit_price="100.00",
        currency="USD",
        buyer_id=user_global_id(user.pk),
        quoted_at=timezone.now().isoformat(),
        maintenance_years=1,
    )
    total = Decimal(100) * units
    order = Order.objects.create(
        user=user,
        user_email=user.email,
        channel=channel,
        currency="USD",
        status=OrderStatus.UNFULFILLED,
        charge_status=OrderChargeStatus.FULL,
        total_gross_amount=total,
        total_net_amount=total,
        undiscounted_total_gross_amount=total,
        undiscounted_total_net_amount=total,
        total_charged_amount=total,
        lines_count=1,
        billing_address=user.default_billing_address.get_copy(),
    )
    OrderLine.objects.create(
        order=order,
        variant=variant,
        product_name=variant.product.name,
        variant_name=variant.name,
        product_sku=variant.sku,
        is_shipping_required=False,
        is_gift_card=False,
        quantity=units,
        currency="USD",
        unit_price_net_amount=Decimal(100),
        unit_price_gross_amount=Decimal(100),
        total_price_net_amount=total,
        total_price_gross_amount=total,
        undiscounted_unit_price_net_amount=Decimal(100),
        undiscounted_unit_price_gross_amount=Decimal(100),
        undiscounted_total_price_net_amount=total,
        undiscounted_total_price_gross_amount=total,
        private_metadata=intent.to_metadata(settings.key_secret),
    )
    return order


def fulfillment(seeded: Seeded, units: int) -> dict[str, float]:
    from saleor_license_plugin import conf
    from saleor_license_plugin.fulfillment.tasks import fulfill_order
    from saleor_license_plugin.models import License
    from saleor_license_plugin.saleor_host.orders import order_payload

    order = paid_order(seeded, units)
    payload = order_payload(order, conf.from_django_settings(), paid=True)
    assert payload is not None
    counter = StatementCounter()
    profiler = None
    if os.environ.get("BENCH_PROFILE_FULFILLMENT"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    with counter:
        fulfill_order(payload)  # the task's body, on this one worker
    took = time.perf_counter() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    issued = License.objects.filter(origin_order_id=str(order.pk)).count()
    if issued != units:
        raise RuntimeError(f"fulfillment issued {issued} of {units} licenses")
    return {"units": units, "seconds": took, "statements": counter.total}


def seed_sweep(count: int, seeded: Seeded) -> None:
    """``count`` licenses (bulk insert) with term expiries spread over two years, a twentieth
    already lapsed, 2,000 customers."""
    from django.utils import timezone

    from saleor_license_plugin import conf
    from saleor_license_plugin.models import License

    for batch in common.lapsing_licenses(
        count,
        secret=conf.from_django_settings().key_secret,
        now=timezone.now(),
        owner="sweep",
        lapsed_days=36.5,
        product_code=seeded.license_variants[-1],
        edition_rank=4,
    ):
        License.objects.bulk_create(batch)


def sweeps(count: int, seeded: Seeded) -> dict[str, object]:
    from django.core import mail
    from django.db import connection
    from django.utils import timezone

    from saleor_license_plugin.fulfillment.host import task_host
    from saleor_license_plugin.fulfillment.orders import expire_due
    from saleor_license_plugin.fulfillment.reminders import send_reminders
    from saleor_license_plugin.models import License

    started = time.perf_counter()
    seed_sweep(count, seeded)
    seeded_in = time.perf_counter() - started
    mail.outbox = []
    counter = StatementCounter()
    host = task_host()
    lapsed = License.objects.filter(status="active", term_expires_at__lte=timezone.now()).count()
    started = time.perf_counter()
    with counter, host.context():
        counts = expire_due(batch=500)  # one periodic run: every page until none is left
    expiry_time = time.perf_counter() - started
    expiry_statements = counter.total
    started = time.perf_counter()
    connection.force_debug_cursor = True  # the sweep reports its statements per page from it
    try:
        with counter, host.context():
            report = send_reminders(host)
    finally:
        connection.force_debug_cursor = False
    reminder_time = time.perf_counter() - started
    return {
        "seeded_in": seeded_in,
        "lapsed": lapsed,
        "expired": counts["expired"],
        "expiry_pages": math.ceil(counts["expired"] / 500) + (counts["expired"] % 500 == 0),
        "expiry_statements": expiry_statements,
        "expiry_seconds": expiry_time,
        "reminder_pages": report.pages,
        "reminder_statements_per_page": sorted(set(report.queries_per_page)),
        "reminder_claimed": report.claimed,
        "reminder_emails": report.emails_sent,
        "reminder_statements": counter.total,
        "reminder_seconds": reminder_time,
    }


# --- in-process: per-request time and profiles of the API scenarios ------------------------


def in_process(seeded: Seeded, count: int, profile: str | None) -> None:
    """Each API scenario served ``count`` times in this process through Django's test client
    (Saleor's WSGI handler and middleware, one thread, no network): milliseconds per request,
    a lower-noise view than the HTTP rounds. With ``profile``, that scenario under cProfile."""
    import cProfile
    import pstats

    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
    requests = api_requests(seeded, count)

    def serve(request: Request) -> None:
        extra = {
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in request.headers.items()
            if name.lower() != "content-type"
        }
        response = client.generic(
            request.method, request.path, request.body or b"", "application/json", **extra
        )
        body = response.content
        if response.status_code != request.expect or (request.check and not request.check(body)):
            raise RuntimeError(f"{request.path}: {response.status_code} {body[:300]!r}")

    times = {}
    for name, made in requests.items():
        for request in made[:10]:
            serve(request)
        started = time.perf_counter()
        for request in made:
            serve(request)
        times[name] = (time.perf_counter() - started) / len(made) * 1000
    base = times["shop"]
    print(
        "in-process (test client, one thread): "
        + ", ".join(f"{name} {ms:.1f} ms ({base / ms:.2f})" for name, ms in times.items()),
        flush=True,
    )
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for request in requests[profile]:
            serve(request)
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        stats.print_callees(os.environ.get("BENCH_CALLEES", "plugin.py.*webhook"))


# --- the run ------------------------------------------------------------------------------


def table(results: list[Result], base: Result) -> str:
    lines = [
        f"{'scenario':<24} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} "
        f"{'mean ms':>8} {'vs shop':>8} {'SQL':>5} {'ours':>5}"
    ]
    for r in results:
        total, ours = r.sql or (0, 0)
        lines.append(
            f"{r.name:<24} {len(r.latencies):>8} {r.errors:>6} {r.throughput:>7.1f} "
            f"{r.percentile(0.5):>7.1f} {r.mean:>8.1f} "
            f"{r.throughput / (base.throughput or 1):>8.2f} "
            f"{total:>5} {ours:>5}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The plugin inside Saleor (loopback only).")
    parser.add_argument("--licenses", type=int, default=200, help="activated licenses to seed")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--requests", type=int, default=1500, help="API: per scenario, all rounds")
    parser.add_argument("--seconds", type=float, default=45.0, help="per scenario, all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--checkouts", type=int, default=60, help="per checkout scenario, all rounds"
    )
    parser.add_argument("--units", type=int, default=10_000, help="fulfillment: units (and 2x)")
    parser.add_argument("--sweep-licenses", type=int, default=100_000)
    parser.add_argument(
        "--only",
        default="api,checkout,fulfillment,sweeps",
        help="comma-separated: api, checkout, fulfillment, sweeps, inprocess",
    )
    parser.add_argument("--profile", help="with inprocess: profile this API scenario")
    parser.add_argument(
        "--compare",
        help="a checkout of other plugin code (e.g. main) to serve from a second Saleor server, "
        "measured in the same interleaved rounds",
    )
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))

    conf = saleor_env_conf()
    database = os.environ.get("BENCH_SALEOR_DB", "slp_perf_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    sql_log = os.environ.get("BENCH_SQL_LOG_FILE", f"/tmp/{database}-sql.log")  # noqa: S108
    Path(sql_log).unlink(missing_ok=True)
    env = environment(database, redis_url, sql_log)
    os.environ.update(env)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    print(
        f"Saleor {conf.get('SALEOR_FOUND_VERSION')}; machine: {os.cpu_count()} cores; "
        f"database {database} from {conf['SALEOR_DB_TEMPLATE']}; cache {redis_url}",
        flush=True,
    )
    create_database(database, conf["SALEOR_DB_TEMPLATE"])
    import django

    django.setup()
    started = time.perf_counter()
    seeded = seed(args.licenses)
    print(
        f"Seeded {args.licenses} activated licenses in {time.perf_counter() - started:.1f} s",
        flush=True,
    )

    results: dict[str, list[Result]] = {}
    from django.conf import settings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    if "inprocess" in parts:
        in_process(seeded, 200, args.profile)
    if parts & {"api", "checkout"}:
        wanted = [("this checkout", REPO)]
        if args.compare:
            wanted.append(("compared", Path(args.compare).resolve()))
        servers: Servers = []
        processes = []
        try:
            for label, code in wanted:
                port = free_port()
                processes.append(start_server({**env, "PYTHONPATH": str(code)}, port, code))
                servers.append((label, port))
            for _, port in servers:
                wait_ready(port)
            print(
                "Saleor under uvicorn (ASGI, 1 worker each): "
                + ", ".join(f"{label} on {HOST}:{port}" for label, port in servers)
                + f"; {args.concurrency} keep-alive clients, {args.rounds} interleaved rounds\n",
                flush=True,
            )
            if "api" in parts:
                for label, part in run_api(servers, seeded, args).items():
                    results.setdefault(label, []).extend(part)
            if "checkout" in parts:
                for label, part in run_checkout(servers, seeded, args).items():
                    results.setdefault(label, []).extend(part)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
        for label, found in results.items():
            base = next((r for r in found if r.name == "shop"), None) or found[0]
            print(f"--- {label} ---", flush=True)
            print(table(found, base), flush=True)
            print(goals(found, base), flush=True)
            print("", flush=True)
        print(f"(statements of each counted request: {sql_log})", flush=True)
    if "fulfillment" in parts:
        runs = [fulfillment(seeded, args.units), fulfillment(seeded, 2 * args.units)]
        small, large = runs
        for run in runs:
            print(
                f"fulfillment of one paid order of {run['units']:.0f} units: "
                f"{run['seconds']:.1f} s, {run['statements']:.0f} statements "
                f"({run['statements'] / run['units']:.2f} per unit)",
                flush=True,
            )
        print(
            f"  2x the units: {large['seconds'] / small['seconds']:.2f}x the time (goal <= 2.2; "
            f"10k goal <= 60 s)",
            flush=True,
        )
    if "sweeps" in parts:
        sweep = sweeps(args.sweep_licenses, seeded)
        print(
            f"sweeps over {args.sweep_licenses} licenses: {json.dumps(sweep, default=str)}",
            flush=True,
        )
    return 0 if all(r.errors == 0 for found in results.values() for r in found) else 1


Servers = list[tuple[str, int]]  # (label, port)


def _merge(into: Result, part: Result) -> None:
    into.latencies += part.latencies
    into.errors += part.errors
    into.elapsed += part.elapsed


def run_api(servers: Servers, seeded: Seeded, args: argparse.Namespace) -> dict[str, list[Result]]:
    per_round = args.requests // args.rounds
    requests = api_requests(seeded, per_round)
    results = {label: {name: Result(name) for name in requests} for label, _ in servers}
    for label, port in servers:
        for name, made in requests.items():
            results[label][name].sql = counted(port, made[0], f"{label} {name}")
    for round_ in range(args.rounds):
        for name, made in requests.items():
            # The same scenario on each server back to back, in turn first.
            for label, port in servers[round_ % 2 :] + servers[: round_ % 2]:
                part = load(
                    port,
                    made,
                    concurrency=args.concurrency,
                    seconds=args.seconds / args.rounds,
                    warmup=20,
                )
                _merge(results[label][name], part)
    return {label: list(by_name.values()) for label, by_name in results.items()}


CHECKOUT_SCENARIOS = [
    "linesAdd 10 license",
    "linesAdd 10 plain",
    "complete 10 license",
    "complete 10 plain",
]


def checkout_steps(seeded: Seeded, lic_ids: list[str], plain_ids: list[str]) -> list[list[Request]]:
    return [
        [license_lines_add(seeded, c) for c in lic_ids],
        [plain_lines_add(seeded, c) for c in plain_ids],
        [complete(seeded, c) for c in lic_ids],
        [complete(seeded, c) for c in plain_ids],
    ]


def run_checkout(
    servers: Servers, seeded: Seeded, args: argparse.Namespace
) -> dict[str, list[Result]]:
    per_round = max(args.concurrency, args.checkouts // args.rounds)
    names = CHECKOUT_SCENARIOS
    results = {label: {name: Result(name) for name in names} for label, _ in servers}
    # Counted once each, on checkouts of their own: the first pair warms the server up, the
    # second is counted.
    for label, port in servers:
        lic, plain = empty_checkouts(2, seeded), empty_checkouts(2, seeded)
        for n in (0, 1):
            steps = checkout_steps(seeded, [lic[n]], [plain[n]])
            for name, [step] in zip(names, steps, strict=True):
                sql = counted(port, step, f"{label} {name}", repeat=False)
                if n:
                    results[label][name].sql = sql
    for round_ in range(args.rounds):
        prepared = {
            label: checkout_steps(
                seeded, empty_checkouts(per_round, seeded), empty_checkouts(per_round, seeded)
            )
            for label, _ in servers
        }
        for index, name in enumerate(names):
            for label, port in servers[round_ % 2 :] + servers[: round_ % 2]:
                part = load(port, prepared[label][index], concurrency=args.concurrency, seconds=1e6)
                _merge(results[label][name], part)
    return {label: list(by_name.values()) for label, by_name in results.items()}


def goals(results: list[Result], base: Result) -> str:
    by = {r.name: r for r in results}
    lines = [""]

    def ratio(name: str, goal: float) -> None:
        if name in by:
            value = by[name].throughput / (base.throughput or 1)
            lines.append(
                f"{name} / shop: {value:.2f} (goal >= {goal}): "
                + ("met" if value >= goal else "MISSED")
            )

    ratio("verify", 0.70)
    ratio("refresh 304", 1.5)
    ratio("activate", 0.9)

    def times(a: str, b: str, goal: float) -> None:
        if a in by and b in by and by[b].latencies:
            mean = by[a].mean / by[b].mean
            p50 = by[a].percentile(0.5) / by[b].percentile(0.5)
            lines.append(
                f"{a} / {b}: {mean:.2f}x the mean time, {p50:.2f}x the p50 (goal <= "
                f"{goal}x): " + ("met" if mean <= goal else "MISSED")
            )

    times("complete 10 license", "complete 10 plain", 1.15)
    times("linesAdd 10 license", "linesAdd 10 plain", 1.5)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
