"""Soak: many mixed requests against one standalone server process; resources must stay flat.

    python -m benchmarks.soak [--requests 100000] [--interface asgi|wsgi|both] [--concurrency 4]

Seeds licenses in a scratch PostgreSQL database (``DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/slp_soak``; created if missing), starts ONE uvicorn
process (so its file descriptors and memory are one process's) with its own Redis database,
and sends ``--requests`` requests in a fixed mix: ``verifyLicenseKey`` (API token), a full
device activation (200, signed document) and a refresh with the ETag (304), all through the
rate limits. Every ``--every`` requests it records the Redis clients on the server's database,
PostgreSQL connections to the soak database, the server's open file descriptors and its
resident memory. It fails (exit 1) if a request fails or a resource grows by more than
``--tolerance`` between the first sample after warm-up and the last (memory: ``--rss-mib``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from benchmarks.run import HOST, RAISED_LIMITS, VERIFY, free_port, seed, wait_ready

REDIS_DB = 12


@dataclass
class Sample:
    done: int
    seconds: float
    redis_clients: int
    pg_connections: int
    fds: int
    rss_mib: float

    def row(self) -> str:
        return (
            f"{self.done:>8} {self.seconds:>8.0f} {self.redis_clients:>6} "
            f"{self.pg_connections:>5} {self.fds:>5} {self.rss_mib:>8.1f}"
        )


HEADER = f"{'requests':>8} {'seconds':>8} {'redis':>6} {'pg':>5} {'fds':>5} {'rss MiB':>8}"


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def measure(pid: int, redis_url: str, database_url: str) -> tuple[int, int, int, float]:
    import psycopg
    import redis

    admin = redis.Redis.from_url(redis_url, db=0)
    try:
        redis_clients = sum(1 for c in admin.client_list() if int(c["db"]) == REDIS_DB)
    finally:
        admin.close()
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres") as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]
        ).fetchone()
    pg_connections = int(row[0]) if row else 0
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/status") as status:
        rss_kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return redis_clients, pg_connections, fds, rss_kib / 1024


def soak(interface: str, args: argparse.Namespace, env: dict[str, str], rows, token) -> bool:
    import http.client

    port = free_port()
    app = f"saleor_license_plugin.server.{interface}:application"
    command = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning", "--no-proxy-headers"]
    if interface == "wsgi":
        command += ["--interface", "wsgi"]
    server_env = {**env, "CONN_MAX_AGE": "0" if interface == "asgi" else "600"}
    server = subprocess.Popen(command, env=server_env)
    json_headers = {"Content-Type": "application/json"}
    auth = {**json_headers, "Authorization": f"Bearer {token}"}
    requests: list[tuple[str, bytes, dict[str, str], int]] = []
    for key, fingerprint, etag in rows:
        device = json.dumps({"key": key, "fingerprint": fingerprint}).encode()
        verify = json.dumps({"query": VERIFY, "variables": {"key": key}}).encode()
        requests.append(("/graphql/", verify, auth, 200))
        requests.append(("/activation/", device, json_headers, 200))
        requests.append(("/activation/", device, {**json_headers, "If-None-Match": etag}, 304))
    counter = itertools.count()
    lock = threading.Lock()
    failures: list[str] = []
    samples: list[Sample] = []
    started = time.monotonic()

    def sample(done: int) -> None:
        values = measure(server.pid, env["REDIS_URL"], env["DATABASE_URL"])
        samples.append(Sample(done, time.monotonic() - started, *values))
        print(samples[-1].row(), flush=True)

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        while True:
            index = next(counter)
            if index >= args.requests or len(failures) > 10:
                break
            path, body, headers, expect = requests[index % len(requests)]
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                response.read()
                if response.status != expect:
                    failures.append(f"{path}: {response.status} (expected {expect})")
            except (OSError, http.client.HTTPException) as error:
                failures.append(f"{path}: {error!r}")
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=60)
            if index and index % args.every == 0:
                with lock:
                    sample(index)
        connection.close()

    try:
        wait_ready(port)
        print(f"\n{interface.upper()}: {args.requests} requests, {args.concurrency} clients")
        print(HEADER, flush=True)
        sample(0)
        threads = [threading.Thread(target=client) for _ in range(args.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sample(args.requests)
    finally:
        server.terminate()
        server.wait(timeout=30)
    elapsed = time.monotonic() - started
    print(f"{args.requests / elapsed:.0f} req/s over {elapsed:.0f} s; failures: {len(failures)}")
    for failure in failures[:10]:
        print("  ", failure)
    # Compare the first sample after warm-up (the second) with the last one.
    first, last = samples[1] if len(samples) > 2 else samples[0], samples[-1]
    growth = {
        "redis clients": last.redis_clients - first.redis_clients,
        "pg connections": last.pg_connections - first.pg_connections,
        "fds": last.fds - first.fds,
    }
    flat = all(value <= args.tolerance for value in growth.values())
    rss_growth = last.rss_mib - first.rss_mib
    flat = flat and rss_growth <= args.rss_mib
    print(
        f"growth after warm-up: {growth}, rss {rss_growth:+.1f} MiB -> "
        + ("flat" if flat else "NOT FLAT")
    )
    return flat and not failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Standalone-server soak (loopback only).")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--interface", choices=["asgi", "wsgi", "both"], default="both")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--licenses", type=int, default=300)
    parser.add_argument("--every", type=int, default=10_000, help="sample interval (requests)")
    parser.add_argument("--tolerance", type=int, default=5, help="allowed growth in count")
    parser.add_argument("--rss-mib", type=float, default=40.0, help="allowed memory growth")
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/slp_soak"
    redis_base = (os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    ensure_database(database_url)
    with tempfile.TemporaryDirectory(prefix="license-soak-") as tmp:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="saleor_license_plugin.server.settings",
            SECRET_KEY="soak-only-not-secret",  # noqa: S106
            LICENSE_KEY_SECRET="soak-only-key-secret",  # noqa: S106
            LICENSE_DATA_DIR=tmp,
            LICENSE_RATE_LIMITS=json.dumps(RAISED_LIMITS),
            DATABASE_URL=database_url,
            REDIS_URL=f"{redis_base}/{REDIS_DB}",
            LOG_LEVEL="ERROR",
        )
        os.environ.update(env)
        print(f"Seeding {args.licenses} licenses in {database_url}…", flush=True)
        token, rows = seed(args.licenses)
        interfaces = ["asgi", "wsgi"] if args.interface == "both" else [args.interface]
        results = [soak(interface, args, env, rows, token) for interface in interfaces]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
