"""Small real HTTP servers on 127.0.0.1 for the payment tests (no mocks)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests


class ScriptedServer:
    """A threaded HTTP server whose handler is ``self.handle``. It can be told to stall
    (sleep before answering) or to fail with a status, for the next N requests."""

    def __init__(self) -> None:
        self.stall_seconds = 0.0
        self.stall_count = 0
        self.fail_status = 0
        self.fail_count = 0
        self.late_seconds = 0.0  # answer late *after* handling (the work is done, the reply is not)
        self.late_count = 0
        self.late_method = ""  # only requests with this method answer late ("" = any)
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                with outer.lock:
                    outer.requests.append((self.command, self.path, headers, body))
                    stall = outer.stall_seconds if outer.stall_count > 0 else 0.0
                    outer.stall_count = (
                        max(0, outer.stall_count - 1) if stall else outer.stall_count
                    )
                    fail = outer.fail_status if outer.fail_count > 0 else 0
                    outer.fail_count = max(0, outer.fail_count - 1) if fail else outer.fail_count
                if stall:
                    time.sleep(stall)
                if fail:
                    self._reply(fail, {"success": False, "error_info": "fake failure"})
                    return
                status, payload = outer.handle(self.command, self.path, headers, body)
                with outer.lock:
                    applies = outer.late_method in ("", self.command)
                    late = outer.late_seconds if outer.late_count > 0 and applies else 0.0
                    outer.late_count = max(0, outer.late_count - 1) if late else outer.late_count
                if late:
                    time.sleep(late)
                self._reply(status, payload)

            def _reply(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ScriptedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def stall(self, seconds: float, count: int = 1) -> None:
        self.stall_seconds, self.stall_count = seconds, count

    def answer_late(self, seconds: float, count: int = 1, method: str = "") -> None:
        self.late_seconds, self.late_count, self.late_method = seconds, count, method

    def fail(self, status: int = 500, count: int = 1) -> None:
        self.fail_status, self.fail_count = status, count

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        return 200, {}


class RecordingProxy(ScriptedServer):
    """Forwards every request to ``upstream`` and keeps what was sent (to see headers)."""

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        forward = {
            k: v for k, v in headers.items() if k not in ("host", "content-length", "connection")
        }
        response = requests.request(
            method, self.upstream + path, headers=forward, data=body, timeout=10
        )
        return response.status_code, response.json()
