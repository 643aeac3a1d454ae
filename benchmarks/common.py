"""What the benchmark harnesses share: a scratch database for the in-process ones, a free
loopback port and a wait for a server to answer, and bulk rows of licenses whose terms lapse
over two years (the sweeps' workload)."""

from __future__ import annotations

import http.client
import os
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

HOST = "127.0.0.1"


def setup_scratch_database(database_url: str) -> None:
    """Create the database if it is missing, configure the standalone server's Django settings
    on it (bench-only secrets, emails kept in memory) and migrate."""
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        DJANGO_SETTINGS_MODULE="saleor_license_plugin.server.settings",
        SECRET_KEY="bench-only-not-secret",  # noqa: S106
        LICENSE_KEY_SECRET="bench-only-key-secret",  # noqa: S106
        DATABASE_URL=database_url,
        LOG_LEVEL="ERROR",
    )
    import django
    from django.conf import settings

    django.setup()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, path: str, timeout: float) -> None:
    """Until ``GET path`` answers 200 on the port, or RuntimeError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not start")


def lapsing_licenses(
    count: int,
    *,
    secret: bytes,
    now: datetime,
    owner: str,
    lapsed_days: float,
    **fields: Any,
) -> Iterator[list[Any]]:
    """``count`` active Cloud licenses in bulk-insert batches of 5,000: terms spread over two
    years from ``lapsed_days`` ago, 2,000 owners ``user:<owner>-<n>``; ``fields`` set the rest
    (product code, edition rank)."""
    from saleor_license_plugin.licensing import keys
    from saleor_license_plugin.models import License

    batch = []
    for index in range(count):
        canonical = keys.generate()
        name = f"{owner}-{index % 2000}"
        batch.append(
            License(
                status="active",
                edition="Cloud",
                capacity=8,
                term_expires_at=now + timedelta(days=(index * 7919) % 730 - lapsed_days),
                owner_id=f"user:{name}",
                owner_email=f"{name}@example.com",
                key_digest=keys.digest(canonical, secret),
                key_sealed=keys.seal(canonical, secret),
                key_hint=keys.hint(canonical),
                created_at=now,
                **fields,
            )
        )
        if len(batch) == 5000:
            yield batch
            batch = []
    if batch:
        yield batch
