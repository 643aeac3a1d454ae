"""The GraphQL endpoint: ``POST`` JSON ``{query, variables, operationName}``; ``GET`` GraphiQL.

Documents are parsed and validated once per schema and kept in a small LRU cache, so a client
repeating the same query (a portal, a device) pays only for execution.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from contextvars import ContextVar
from threading import Lock
from typing import Any

import graphene
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from graphql import GraphQLError, parse, validate
from graphql.error import format_error as format_graphql_error
from graphql.execution import ExecutionResult, execute
from graphql.language.ast import Document

from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.http.client import client_ip
from saleor_license_plugin.http.graphiql import GRAPHIQL_HTML
from saleor_license_plugin.http.responses import BadRequest, read_json_object
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Catalog, CheckoutHost, Principal

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 20_000
CACHE_SIZE = 256


class _DocumentCache:
    """(schema, query) → parsed document and validation errors, least recently used evicted."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[int, str], tuple[Document | None, list[Any]]] = OrderedDict()
        self._lock = Lock()

    def get(self, schema: graphene.Schema, query: str) -> tuple[Document | None, list[Any]]:
        key = (id(schema), query)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        try:
            document = parse(query)
        except GraphQLError as error:
            found: tuple[Document | None, list[Any]] = (None, [error])
        else:
            found = (document, validate(schema, document))
        with self._lock:
            self._items[key] = found
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return found


documents = _DocumentCache(CACHE_SIZE)

# graphql-core 2's executor logs every exception a resolver raises, refusals included, with a
# full traceback at ERROR ("graphql.execution.executor" and ".utils"; Saleor silences both in
# its LOGGING). While the plugin executes, those records are dropped: format_error logs what
# was unexpected, once. The host's own API, executing outside this flag, is left alone.
_executing = ContextVar("saleor_license_graphql_executing", default=False)


class _WhileExecuting(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _executing.get()


_QUIET = _WhileExecuting()
for _name in ("graphql.execution.executor", "graphql.execution.utils"):
    if not any(isinstance(f, _WhileExecuting) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(_QUIET)


def _error(code: LicenseErrorCode | str, message: str, field: str | None = None) -> dict[str, Any]:
    code_text = code.value if isinstance(code, LicenseErrorCode) else code
    error: dict[str, Any] = {"message": message, "extensions": {"exception": {"code": code_text}}}
    if field:
        error["extensions"]["field"] = field
    return error


def error_response(
    status: int, code: LicenseErrorCode, message: str, field: str | None = None
) -> JsonResponse:
    """An answer of ``/graphql/`` that is only an error (401, 405, 413, …): GraphQL's shape."""
    return JsonResponse({"errors": [_error(code, message, field)]}, status=status)


def format_error(error: Exception) -> dict[str, Any]:
    """Refusals keep their code; anything unexpected is logged and reported without detail."""
    original = getattr(error, "original_error", None)
    if isinstance(original, LicenseError):
        formatted = _error(original.code, original.message)
        if original.field:
            formatted["extensions"]["field"] = original.field
        return formatted
    if original is not None and not isinstance(original, GraphQLError):
        logger.error("GraphQL resolver failed", exc_info=original)
        return _error("INTERNAL_ERROR", "Internal server error.")
    return format_graphql_error(error)


def _request_fields(body: dict[str, Any]) -> tuple[str, dict[str, Any] | None, str | None]:
    query, variables, operation = (
        body.get("query"),
        body.get("variables"),
        body.get("operationName"),
    )
    if not isinstance(query, str) or not query.strip():
        raise BadRequest(400, LicenseErrorCode.REQUIRED, "Give a GraphQL query.", "query")
    if len(query) > MAX_QUERY_LENGTH:
        raise BadRequest(400, LicenseErrorCode.INVALID, "The query is too long.", "query")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest(400, LicenseErrorCode.INVALID, "variables must be an object.", "variables")
    if operation is not None and not isinstance(operation, str):
        raise BadRequest(
            400, LicenseErrorCode.INVALID, "operationName must be text.", "operationName"
        )
    return query, variables, operation


def serve(
    request: HttpRequest,
    *,
    principal: Principal,
    catalog: Catalog,
    schema: graphene.Schema,
    checkout: CheckoutHost | None = None,
) -> HttpResponse:
    if request.method == "GET":
        return HttpResponse(GRAPHIQL_HTML, content_type="text/html; charset=utf-8")
    if request.method != "POST":
        response = error_response(405, LicenseErrorCode.INVALID, "Use GET or POST.")
        response["Allow"] = "GET, POST"
        return response
    try:
        query, variables, operation = _request_fields(read_json_object(request))
    except BadRequest as bad:
        return error_response(bad.status, bad.code, bad.message, bad.field)

    document, errors = documents.get(schema, query)
    if document is None or errors:
        return JsonResponse({"errors": [format_error(e) for e in errors]}, status=400)
    context = ApiContext(
        request=request,
        principal=principal,
        catalog=catalog,
        client_ip=client_ip(request),
        now=timezone.now(),
        checkout=checkout,
    )
    token = _executing.set(True)
    try:
        result = execute(
            schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation,
        )
    except GraphQLError as error:  # e.g. an unknown operationName
        return JsonResponse({"errors": [format_error(error)]}, status=400)
    except Exception:  # graphene raises bare exceptions while coercing variables;
        # resolver failures never get here (the executor reports them in "errors").
        body = {"errors": [_error(LicenseErrorCode.INVALID, "A variable has the wrong type.")]}
        return JsonResponse(body, status=400)
    finally:
        _executing.reset(token)
    assert isinstance(result, ExecutionResult)  # synchronous executor: never a promise
    payload: dict[str, Any] = {}
    if result.errors:
        payload["errors"] = [format_error(e) for e in result.errors]
    if not result.invalid:
        payload["data"] = result.data
    return JsonResponse(payload, status=400 if result.invalid else 200)
