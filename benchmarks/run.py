"""Throughput and latency of the license API against a bare lookup view, in one run.

    python -m benchmarks.run [--licenses 500] [--concurrency 8] [--requests 3000] [--seconds 20]

Starts the standalone server (PostgreSQL when ``DATABASE_URL`` is set, else SQLite; Redis when
``REDIS_URL`` is set or a local Redis answers) as one uvicorn process per CPU (WSGI interface,
a thread pool each) or, without uvicorn, Django's threaded server, on loopback. Seeds
licenses, then measures with a bounded pool of keep-alive HTTP clients:

- ``baseline``: a bare view that digests a key and does one indexed lookup;
- ``verify``: ``verifyLicenseKey`` with offers, as a portal calls it;
- ``activate``: a full device activation (200, signed document);
- ``refresh 304``: the same device sending its ETag.

Rate limits stay on (the production code path) but are raised through settings
(``LICENSE_RATE_LIMITS``). The database named by ``DATABASE_URL`` receives the seed data (and
keeps it): use a scratch database.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import common
from benchmarks.common import free_port

HOST = "127.0.0.1"
RAISED_LIMITS = {
    "verify_ip": "100000000/60",
    "verify_key": "100000000/60",
    "activate_ip": "100000000/60",
    "activate_key": "100000000/60",
}
VERIFY = (
    "mutation($key: String!) { verifyLicenseKey(key: $key) { errors { field code message } "
    "verification { status edition capacity termExpiresAt maintenanceExpiresAt actions "
    "upgrades { variantId total { amount currency } } maintenance { total { amount currency } } "
    "expansions { variantId unitPrice { amount currency } } } } }"
)


@dataclass
class Request:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]
    expect: int


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/13"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        return None
    return url


def environment(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="saleor_license_plugin.server.settings",
        # Fixed, so a re-run against the same scratch database can read its signing key.
        SECRET_KEY="benchmark-only-not-secret",  # noqa: S106
        LICENSE_KEY_SECRET="benchmark-only-key-secret",  # noqa: S106
        LICENSE_DATA_DIR=str(data_dir),
        LICENSE_RATE_LIMITS=json.dumps(RAISED_LIMITS),
        LICENSE_BENCHMARK="1",
        DATABASE_URL=os.environ.get("DATABASE_URL", ""),
        REDIS_URL=redis_url() or "",
        CONN_MAX_AGE="600",
        LOG_LEVEL="ERROR",
    )
    return env


def seed(count: int) -> tuple[str, list[tuple[str, str, str]]]:
    """A customer token and ``count`` (key, fingerprint, etag) of activated licenses."""
    import django

    django.setup()
    from django.core.management import call_command

    from saleor_license_plugin.licensing import activation, lifecycle
    from saleor_license_plugin.licensing.catalog import EditionTerms
    from saleor_license_plugin.licensing.keys import format_key
    from saleor_license_plugin.models import License
    from saleor_license_plugin.server.catalog import load_catalog
    from saleor_license_plugin.server.models import ApiToken

    call_command("migrate", verbosity=0)
    catalog = load_catalog()
    user = f"user:bench-{secrets.token_hex(4)}"
    variants = ["std-8", "pro-8", "pro-16", "ent-32", "cloud-8"]
    rows = []
    for index in range(count):
        item = catalog.get(variants[index % len(variants)])
        assert item is not None and isinstance(item.terms, EditionTerms)
        issued = lifecycle.issue_license(
            terms=item.terms,
            owner=lifecycle.Owner(user),
            product_code=item.variant_id,
            maintenance_years=1 if item.variant_id != "cloud-8" else 0,
        )
        assert issued.key is not None
        license = License.objects.select_related("deployment").get(pk=issued.license.pk)
        fingerprint = f"bench-device-{index:06}"
        granted = activation.activate(license, fingerprint, actor="bench")
        rows.append((format_key(issued.key), fingerprint, granted.etag))
    _, token = ApiToken.issue(user_id=user, name="bench")
    return token, rows


def start_servers(
    env: dict[str, str], workers: int
) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    """``workers`` single-process servers, one port each; clients spread over them.

    (uvicorn's own ``--workers`` mode added ~40 ms to every response with a body here: a
    Nagle/delayed-ACK interaction on the shared socket. Separate processes avoid it.)
    """
    ports = [free_port() for _ in range(workers)]
    processes = []
    for port in ports:
        try:
            import uvicorn  # noqa: F401

            command = [
                sys.executable,
                "-m",
                "uvicorn",
                "saleor_license_plugin.server.wsgi:application",
                "--interface",
                "wsgi",  # a fixed thread pool: persistent DB connections stay bounded
                "--host",
                HOST,
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
                "--no-proxy-headers",  # as documented: the peer address is the client
            ]
        except ImportError:
            command = [sys.executable, "-m", "django", "runserver", f"{HOST}:{port}", "--noreload"]
        processes.append(subprocess.Popen(command, env=env))
    return processes, ports


def wait_ready(port: int, timeout: float = 60) -> None:
    common.wait_ready(port, "/graphql/", timeout)


def load(
    name: str,
    ports: list[int],
    make: Callable[[int], Request],
    *,
    concurrency: int,
    requests: int,
    seconds: float,
    warmup: int,
) -> Result:
    """``requests`` requests (at most ``seconds``) from ``concurrency`` keep-alive clients."""
    result = Result(name)
    lock = threading.Lock()
    counter = iter(range(10**9))
    deadline_box: list[float] = [0.0]

    def worker(measure: bool, budget: int, port: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        while True:
            with lock:
                index = next(counter)
                if index >= budget or (measure and time.monotonic() > deadline_box[0]):
                    break
            request = make(index)
            started = time.perf_counter()
            try:
                connection.request(request.method, request.path, request.body, request.headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == request.expect
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
                ok = False
            took = time.perf_counter() - started
            if measure:
                with lock:
                    if ok:
                        result.latencies.append(took)
                    else:
                        result.errors += 1
        connection.close()

    def run(measure: bool, budget: int) -> None:
        nonlocal counter
        counter = iter(range(10**9))
        threads = [
            threading.Thread(target=worker, args=(measure, budget, ports[n % len(ports)]))
            for n in range(concurrency)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    run(False, warmup)
    started = time.monotonic()
    deadline_box[0] = started + seconds
    run(True, requests)
    result.elapsed = time.monotonic() - started
    return result


def scenarios(token: str, rows: list[tuple[str, str, str]]) -> dict[str, Callable[[int], Request]]:
    json_headers = {"Content-Type": "application/json"}
    auth = {**json_headers, "Authorization": f"Bearer {token}"}

    def baseline(i: int) -> Request:
        key = rows[i % len(rows)][0]
        return Request("GET", f"/bench/lookup/?key={key}", None, {}, 200)

    def verify(i: int) -> Request:
        body = json.dumps({"query": VERIFY, "variables": {"key": rows[i % len(rows)][0]}})
        return Request("POST", "/graphql/", body.encode(), auth, 200)

    def activate(i: int) -> Request:
        key, fingerprint, _ = rows[i % len(rows)]
        body = json.dumps({"key": key, "fingerprint": fingerprint}).encode()
        return Request("POST", "/activation/", body, json_headers, 200)

    def refresh(i: int) -> Request:
        key, fingerprint, etag = rows[i % len(rows)]
        body = json.dumps({"key": key, "fingerprint": fingerprint}).encode()
        return Request("POST", "/activation/", body, {**json_headers, "If-None-Match": etag}, 304)

    return {"baseline": baseline, "verify": verify, "activate": activate, "refresh 304": refresh}


def prebuilt(requests: list[Request]) -> Callable[[int], Request]:
    return lambda index: requests[index % len(requests)]


def report(results: list[Result]) -> str:
    base = results[0].throughput or 1.0
    lines = [
        f"{'scenario':<12} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'vs baseline':>11}",
    ]
    for r in results:
        lines.append(
            f"{r.name:<12} {len(r.latencies):>8} {r.errors:>6} {r.throughput:>8.0f} "
            f"{r.percentile(0.5):>7.1f} {r.percentile(0.99):>7.1f} {r.throughput / base:>10.0%}"
        )
    by_name = {r.name: r for r in results}
    verify_ratio = by_name["verify"].throughput / base
    refresh_ratio = by_name["refresh 304"].throughput / (by_name["activate"].throughput or 1.0)
    lines.append("")
    lines.append(
        f"verifyLicenseKey / baseline: {verify_ratio:.0%} (target >= 50%): "
        + ("met" if verify_ratio >= 0.5 else "MISSED")
    )
    lines.append(
        f"304 refresh / full activation: {refresh_ratio:.1f}x (target >= 2x): "
        + ("met" if refresh_ratio >= 2 else "MISSED")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="License API benchmark (loopback only).")
    parser.add_argument("--licenses", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=4500, help="per scenario, all rounds")
    parser.add_argument("--seconds", type=float, default=30.0, help="per scenario, at most")
    parser.add_argument("--warmup", type=int, default=100, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="license-bench-") as tmp:
        env = environment(Path(tmp))
        os.environ.update(env)
        database = "PostgreSQL" if env["DATABASE_URL"] else "SQLite"
        cache = "Redis" if env["REDIS_URL"] else "local memory"
        print(f"Seeding {args.licenses} licenses ({database}, cache: {cache})…", flush=True)
        token, rows = seed(args.licenses)
        servers, ports = start_servers(env, args.workers)
        try:
            for port in ports:
                wait_ready(port)
            print(
                f"Server: {args.workers} process(es) on {HOST}:{','.join(map(str, ports))}; "
                f"{args.concurrency} clients, up to {args.requests} requests or "
                f"{args.seconds:.0f} s per scenario in {args.rounds} interleaved rounds.\n",
                flush=True,
            )
            # Requests are built before timing, so the clients spend little CPU of their own.
            makers = {
                name: prebuilt([make(i) for i in range(len(rows))])
                for name, make in scenarios(token, rows).items()
            }
            results = {name: Result(name) for name in makers}
            # Rounds interleave the scenarios, so background load on the machine hits each alike.
            for _ in range(args.rounds):
                for name, make in makers.items():
                    part = load(
                        name,
                        ports,
                        make,
                        concurrency=args.concurrency,
                        requests=args.requests // args.rounds,
                        seconds=args.seconds / args.rounds,
                        warmup=args.warmup,
                    )
                    results[name].latencies += part.latencies
                    results[name].errors += part.errors
                    results[name].elapsed += part.elapsed
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)
    print(report(list(results.values())))
    return 0 if all(r.errors == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
