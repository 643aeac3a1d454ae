"""Counting SQL statements per request in the benchmark's Saleor server.

A request carrying ``X-Bench-Count`` is served with an execute wrapper on every database
connection; the answer carries ``X-Bench-SQL: <total> <ours>``, where *ours* are the statements
issued while the plugin's code (``saleor_license_plugin/``) is on the stack: our own queries and
what we ask Saleor to do. The rest are Saleor's: its middleware, the plugin manager loading
plugin configurations, its GraphQL API. With ``BENCH_SQL_LOG`` set, each counted request's
statements are appended to that file (``ours``/``saleor``, then the SQL, truncated).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse

OURS = f"{os.sep}saleor_license_plugin{os.sep}"


def _ours() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if OURS in frame.f_code.co_filename:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


class Counter:
    def __init__(self) -> None:
        self.total = 0
        self.ours = 0
        self.statements: list[tuple[bool, str]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        ours = _ours()
        self.total += 1
        self.ours += ours
        self.statements.append((ours, " ".join(str(sql).split())[:300]))
        return execute(sql, params, many, context)

    def counting(self) -> ExitStack:
        stack = ExitStack()
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(self))
        return stack


def count_queries(get_response: Callable[[HttpRequest], HttpResponse]) -> Any:
    def middleware(request: HttpRequest) -> HttpResponse:
        if "X-Bench-Count" not in request.headers:
            return get_response(request)
        counter = Counter()
        with counter.counting():
            response = get_response(request)
        response["X-Bench-SQL"] = f"{counter.total} {counter.ours}"
        log = os.environ.get("BENCH_SQL_LOG")
        if log:
            with open(log, "a") as out:
                out.write(f"# {request.method} {request.path} {request.headers['X-Bench-Count']}\n")
                for ours, sql in counter.statements:
                    out.write(f"{'ours  ' if ours else 'saleor'} {sql}\n")
        return response

    return middleware
