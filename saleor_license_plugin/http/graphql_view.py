"""The GraphQL endpoint: ``POST`` JSON ``{query, variables, operationName}``; ``GET`` GraphiQL.

Documents are checked, parsed and validated once per schema and limits, and kept in a small
LRU cache (refusals too), so a client repeating the same query (a portal, a device) pays only
for its variables, its cost and execution (:mod:`saleor_license_plugin.graphql.document`).

Every error has a code in ``extensions.exception.code``: a ``LicenseErrorCode`` for refusals
and bad input, a ``RequestErrorCode`` for the request itself (parse, validation, limits,
``INTERNAL_ERROR``). Refusals are not logged; an unexpected exception is logged once, here.
"""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict
from contextvars import ContextVar
from threading import Lock
from typing import Any

import graphene
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from graphql import GraphQLError
from graphql.error import format_error as format_graphql_error
from graphql.execution import ExecutionResult, execute
from graphql.language.ast import Document

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.graphql.document import (
    DocumentRefused,
    QueryLimits,
    coerce_variables,
    prepare,
    query_cost,
    select_operation,
)
from saleor_license_plugin.graphql.errors import RequestErrorCode
from saleor_license_plugin.http.client import client_ip
from saleor_license_plugin.http.graphiql import GRAPHIQL_HTML
from saleor_license_plugin.http.responses import BadRequest, read_json_object
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Catalog, CheckoutHost, Principal

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 20_000
CACHE_SIZE = 256
INTERNAL_ERROR_MESSAGE = "Internal server error."

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


# --- the error shape -----------------------------------------------------------------------


def graphql_error(
    code: LicenseErrorCode | RequestErrorCode | str,
    message: str,
    field: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One error as GraphQL answers carry it."""
    error: dict[str, Any] = {
        "message": message,
        "extensions": {"exception": {"code": str(code)}, **(extensions or {})},
    }
    if field:
        error["extensions"]["field"] = field
    return error


def error_response(
    status: int, code: LicenseErrorCode | RequestErrorCode, message: str, field: str | None = None
) -> JsonResponse:
    """An answer of ``/graphql/`` that is only an error (401, 405, 413, …)."""
    return JsonResponse({"errors": [graphql_error(code, message, field)]}, status=status)


def _with_code(error: GraphQLError, code: RequestErrorCode) -> dict[str, Any]:
    formatted = format_graphql_error(error)
    formatted["extensions"] = {
        **copy.deepcopy(formatted.get("extensions") or {}),
        "exception": {"code": code.value},
    }
    return formatted


def refused_errors(refused: DocumentRefused) -> list[dict[str, Any]]:
    code = refused.code
    if refused.errors and isinstance(code, RequestErrorCode):
        return [_with_code(error, code) for error in refused.errors]
    return [graphql_error(code, refused.message, refused.field, refused.extensions)]


def format_error(error: Exception) -> dict[str, Any]:
    """An execution error: refusals keep their code; anything else is logged once and reported
    as ``INTERNAL_ERROR`` without detail."""
    original = getattr(error, "original_error", None)
    if isinstance(original, LicenseError):
        formatted = graphql_error(original.code, original.message, original.field)
    elif isinstance(error, GraphQLError) and (error.extensions or {}).get("exception"):
        formatted = format_graphql_error(error)  # a refusal raised as a coded GraphQLError
    else:
        logger.error("GraphQL execution failed", exc_info=original or error)
        formatted = graphql_error(RequestErrorCode.INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE)
    if isinstance(error, GraphQLError) and error.path is not None:
        formatted["path"] = error.path
    return formatted


# --- documents -----------------------------------------------------------------------------


class _DocumentCache:
    """(schema, limits, query) → the prepared document, or the errors it was refused with;
    least recently used evicted."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Any, Document | list[dict[str, Any]]] = OrderedDict()
        self._lock = Lock()

    def get(
        self, schema: graphene.Schema, query: str, limits: QueryLimits
    ) -> Document | list[dict[str, Any]]:
        key = (id(schema), limits, query)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
        if found is None:
            try:
                found = prepare(schema, query, limits)
            except DocumentRefused as refused:
                found = refused_errors(refused)
            with self._lock:
                self._items[key] = found
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return copy.deepcopy(found) if isinstance(found, list) else found


documents = _DocumentCache(CACHE_SIZE)


# --- the view ------------------------------------------------------------------------------


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
        query, variables, operation_name = _request_fields(read_json_object(request))
    except BadRequest as bad:
        return error_response(bad.status, bad.code, bad.message, bad.field)

    limits = QueryLimits.from_settings(get_settings())
    document = documents.get(schema, query, limits)
    if isinstance(document, list):
        return JsonResponse({"errors": document}, status=400)
    try:
        operation = select_operation(document, operation_name)
        values = coerce_variables(schema, operation, variables)
        cost = query_cost(schema, document, operation, values)
    except DocumentRefused as refused:
        return JsonResponse({"errors": refused_errors(refused)}, status=400)
    measured = {"cost": {"requestedQueryCost": cost, "maximumAvailable": limits.max_cost}}
    if cost > limits.max_cost:
        message = f"The query costs {cost}; at most {limits.max_cost} is allowed."
        error = graphql_error(RequestErrorCode.QUERY_TOO_COMPLEX, message, extensions=measured)
        return JsonResponse({"errors": [error]}, status=400)

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
            variable_values=variables,  # coerced again, as coerce_variables did: the same
            operation_name=operation_name,
        )
    except RecursionError:
        logger.warning("GraphQL execution ran out of stack (a query limit is too high?)")
        body = {"errors": [graphql_error(RequestErrorCode.QUERY_TOO_COMPLEX, "Too deep.")]}
        return JsonResponse(body, status=400)
    except Exception as error:  # the operation and variables were checked above
        return JsonResponse({"errors": [format_error(error)]}, status=500)
    finally:
        _executing.reset(token)
    assert isinstance(result, ExecutionResult)  # synchronous executor: never a promise
    payload: dict[str, Any] = {}
    if result.errors:
        payload["errors"] = [format_error(e) for e in result.errors]
    if not result.invalid:
        payload["data"] = result.data
    payload["extensions"] = measured
    return JsonResponse(payload, status=400 if result.invalid else 200)
