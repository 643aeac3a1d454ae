"""The standalone server in a subprocess, served the way production serves it (uvicorn, ASGI or
WSGI, with the options of the command docs/api.md documents), on a free loopback port, with its
own SQLite file and a Redis database of its own."""

from __future__ import annotations

import http.client
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
APPS = {
    "asgi": "saleor_license_plugin.server.asgi:application",
    "wsgi": "saleor_license_plugin.server.wsgi:application",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def documented_options() -> list[str]:
    """The options of the server command in docs/api.md ("The standalone server"), less those
    the tests choose themselves (host, port, interface)."""
    section = DOCS.read_text().split("## The standalone server", 1)[1]
    line = next(line for line in section.splitlines() if " uvicorn " in line)
    words = shlex.split(line)
    words = words[words.index("uvicorn") + 2 :]  # after the application
    options = []
    while words:
        word = words.pop(0)
        if word in ("--host", "--port", "--interface"):
            words.pop(0)
        elif not word.startswith(("--host=", "--port=", "--interface=")):
            options.append(word)
    return options


def server_env(data_dir: Path, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="saleor_license_plugin.server.settings",
        SECRET_KEY="live-test-only-not-secret",
        LICENSE_KEY_SECRET="live-test-only-key-secret",
        LICENSE_DATA_DIR=str(data_dir),
        DATABASE_URL="",
        REDIS_URL=redis_url,
        LOG_LEVEL="ERROR",
        **extra,
    )
    return env


@contextmanager
def serve(interface: str, env: dict[str, str], startup_seconds: float = 60) -> Iterator[int]:
    """Migrate the server's database, start uvicorn with ``interface``; yield its port."""
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v", "0"], env=env, check=True, timeout=120
    )
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", APPS[interface], "--host", HOST]
    command += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    command += documented_options()
    if interface == "wsgi":
        command += ["--interface", "wsgi"]
    process = subprocess.Popen(command, env=env)
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            try:
                connection = http.client.HTTPConnection(HOST, port, timeout=2)
                connection.request("GET", "/graphql/")
                connection.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the standalone server did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


class Client:
    """One keep-alive HTTP connection to the server."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)

    def post_json(self, path: str, body: dict, headers: dict[str, str] | None = None) -> int:
        self.connection.request(
            "POST",
            path,
            json.dumps(body).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )
        response = self.connection.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        self.connection.close()
