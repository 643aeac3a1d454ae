"""Fuzzing both endpoints in process, through the router, as any caller could (issue 9).

Inputs: documents generated from the real schema (random selections, aliases, fragments,
arguments as literals or variables of every input type, random variable values), the same
documents mangled, deep nesting of every kind, garbage bodies, device requests. Text includes
NUL, lone surrogates, controls and the real key, ids and cursors of the test's own data.

Every answer must be: below 500; JSON whose every error has a documented code (a
``LicenseErrorCode`` or a ``RequestErrorCode``) in the endpoint's own shape; free of traceback
text; and nothing may be logged at ERROR (an unexpected exception).

``make test`` runs a few dozen inputs per test; ``make fuzz`` runs ``FUZZ_EXAMPLES`` per test
(20,000 each: over 100,000 inputs) and prints the figures.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import RequestFactory
from graphql.type import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from graphql.type.definition import get_named_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saleor_license_plugin.graphql.core import _encode_cursor, to_global_id
from saleor_license_plugin.graphql.errors import RequestErrorCode
from saleor_license_plugin.graphql.schema import schema
from saleor_license_plugin.http.router import dispatch
from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.errors import LicenseErrorCode
from saleor_license_plugin.licensing.ports import ANONYMOUS
from tests.api.helpers import ALICE, BOB, CATALOG, STAFF, issue

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
LICENSE_CODES = {code.value for code in LicenseErrorCode}
DOCUMENTED = LICENSE_CODES | {code.value for code in RequestErrorCode}
PRINCIPALS = [ANONYMOUS, ALICE, BOB, STAFF]
FIGURES: Counter[str] = Counter()
STARTED = time.perf_counter()

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    """The fuzz explores the API, not the rate limiter (tests/api/test_ratelimit.py does)."""
    unlimited = {name: "1000000000/60" for name in settings.SALEOR_LICENSE["RATE_LIMITS"]}
    settings.SALEOR_LICENSE = {**settings.SALEOR_LICENSE, "RATE_LIMITS": unlimited}


@pytest.fixture
def world():
    """Real data for the inputs to hit: a key, ids, a deployment, cursors."""
    deployment = lifecycle.create_deployment(name="Head office", owner_id=ALICE.user_id)
    license, key = issue("pro-8", ALICE, deployment=deployment)
    _, other_key = issue("cloud-8", BOB)
    return {
        "@KEY": key,
        "@OTHER_KEY": other_key,
        "@LICENSE_ID": to_global_id("License", license.pk),
        "@DEPLOYMENT_ID": to_global_id("Deployment", deployment.pk),
        "@PUBLIC_ID": deployment.public_id,
        "@CURSOR": _encode_cursor([license.created_at.isoformat(), license.pk]),
        "@NAME_CURSOR": _encode_cursor([deployment.name, deployment.pk]),
    }


@pytest.fixture(scope="module", autouse=True)
def figures():
    yield
    if "FUZZ_EXAMPLES" in os.environ:  # make fuzz
        elapsed = time.perf_counter() - STARTED
        print(f"\nfuzz: {FIGURES['inputs']} inputs in {elapsed:.0f} s")
        for name, count in sorted(FIGURES.items()):
            print(f"  {name}: {count}")


# --- text ----------------------------------------------------------------------------------

SPECIAL_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\u202e",
    "\x7f",
    "\n\t",
    "D-AAAAAAAA",
    "d-7kq2mxw9",
    "0" * 25,
    "7KQ2M-XW9TD-R4HNC-0PBVE-Z3F6A",
    "TGljZW5zZTp4",  # License:x
    "W10=",  # []
    "WyJ4XHUwMDAwIiwgMV0=",  # ["x\u0000", 1]
    "A" * 300,
    "é" * 40,
    "'; DROP TABLE x; --",
    "{{7*7}}",
    "%s%n",
    "../../etc/passwd",
]
REAL = ["@KEY", "@OTHER_KEY", "@LICENSE_ID", "@DEPLOYMENT_ID", "@PUBLIC_ID", "@CURSOR"]
REAL += ["@NAME_CURSOR"]

texts = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(exclude_categories=()), max_size=30),
    st.sampled_from(SPECIAL_TEXT),
    st.sampled_from(REAL),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=10,
)


def real(value: Any, world: dict[str, str]) -> Any:
    """Put the test's real keys, ids and cursors where the strategies drew placeholders."""
    if isinstance(value, str):
        for placeholder, actual in world.items():
            value = value.replace(placeholder, actual)
        return value
    if isinstance(value, list):
        return [real(item, world) for item in value]
    if isinstance(value, dict):
        return {real(k, world): real(v, world) for k, v in value.items()}
    return value


def string_literal(text: str) -> str:
    return json.dumps(text)  # JSON's escapes are GraphQL's


# --- documents from the schema -------------------------------------------------------------

names = st.from_regex(r"[a-z][A-Za-z0-9_]{0,6}", fullmatch=True)


def rarely(draw: Any, one_in: int) -> bool:
    """True about once in ``one_in`` draws (hypothesis favours 0 in integer ranges)."""
    return draw(st.sampled_from(range(one_in))) == one_in - 1


WRONG_LITERALS = ["null", "0", "-1", "2147483648", "1.5e308", '"x"', "true", "[]", "{}", "NOPE"]


@st.composite
def literal(draw: Any, type_: Any, depth: int = 0) -> str:
    """A value of an input type, written as a GraphQL literal; now and then a wrong one."""
    if rarely(draw, 40):
        return draw(st.sampled_from(WRONG_LITERALS))
    if isinstance(type_, GraphQLNonNull):
        return draw(literal(type_.of_type, depth))
    if isinstance(type_, GraphQLList):
        if depth > 3 or draw(st.booleans()):
            return draw(literal(type_.of_type, depth + 1))
        items = draw(st.lists(literal(type_.of_type, depth + 1), max_size=3))
        return "[" + ", ".join(items) + "]"
    if isinstance(type_, GraphQLEnumType):
        return draw(st.sampled_from([*(v.name for v in type_.values), "NOPE", "active"]))
    if isinstance(type_, GraphQLInputObjectType):
        if depth > 3:
            return "{}"
        chosen = draw(st.lists(st.sampled_from(sorted(type_.fields)), max_size=4, unique=True))
        parts = [f"{name}: {draw(literal(type_.fields[name].type, depth + 1))}" for name in chosen]
        return "{" + ", ".join(parts) + "}"
    assert isinstance(type_, GraphQLScalarType)
    if type_.name == "Int":
        return str(draw(st.integers(min_value=-(2**40), max_value=2**40) | st.integers(-3, 150)))
    if type_.name == "Float":
        return repr(draw(st.floats(allow_nan=False, allow_infinity=False)))
    if type_.name == "Boolean":
        return draw(st.sampled_from(["true", "false"]))
    return string_literal(draw(texts))


@st.composite
def variable_value(draw: Any, type_: Any, depth: int = 0) -> Any:
    """A JSON value for a variable of an input type; now and then anything at all."""
    if rarely(draw, 25):
        return draw(json_values)
    if isinstance(type_, GraphQLNonNull):
        return draw(variable_value(type_.of_type, depth))
    if isinstance(type_, GraphQLList):
        return draw(st.lists(variable_value(type_.of_type, depth + 1), max_size=3))
    if isinstance(type_, GraphQLEnumType):
        return draw(st.sampled_from([*(v.name for v in type_.values), "NOPE"]))
    if isinstance(type_, GraphQLInputObjectType):
        if depth > 3:
            return {}
        chosen = draw(st.lists(st.sampled_from(sorted(type_.fields)), max_size=4, unique=True))
        return {n: draw(variable_value(type_.fields[n].type, depth + 1)) for n in chosen}
    if type_.name == "Int":
        return draw(st.integers(-3, 150) | st.integers(-(2**40), 2**40))
    if type_.name == "Float":
        return draw(st.floats())
    if type_.name == "Boolean":
        return draw(st.booleans())
    return draw(texts)


class Operation:
    """What a document being drawn collects: its variables and their values."""

    def __init__(self) -> None:
        self.definitions: list[str] = []
        self.values: dict[str, Any] = {}


@st.composite
def arguments(draw: Any, field: Any, operation: Operation) -> str:
    args = sorted(field.args)
    required = [n for n in args if isinstance(field.args[n].type, GraphQLNonNull)]
    chosen = (
        set(draw(st.lists(st.sampled_from(args), max_size=len(args), unique=True)))
        if args
        else set()
    )
    if not rarely(draw, 25):
        chosen |= set(required)
    if rarely(draw, 60):
        chosen.add(draw(names))  # an argument the field does not have
    parts = []
    for name in sorted(chosen):
        type_ = field.args[name].type if name in field.args else None
        if type_ is not None and draw(st.booleans()):
            variable = f"v{len(operation.definitions)}"
            operation.definitions.append(f"${variable}: {type_}")
            if not rarely(draw, 25):
                operation.values[variable] = draw(variable_value(type_))
            parts.append(f"{name}: ${variable}")
        else:
            parts.append(f"{name}: {draw(literal(type_)) if type_ else '1'}")
    return f"({', '.join(parts)})" if parts else ""


@st.composite
def selection(draw: Any, type_: Any, operation: Operation, depth: int = 0) -> str:
    fields = type_.fields
    chosen = draw(
        st.lists(st.sampled_from([*sorted(fields), "__typename"]), min_size=1, max_size=4)
    )
    if rarely(draw, 60):
        chosen.append(draw(names))  # a field the type does not have
    parts = []
    for name in chosen:
        alias = f"{draw(names)}: " if rarely(draw, 5) else ""
        field = fields.get(name)
        if field is None:
            parts.append(f"{alias}{name}")
            continue
        text = alias + name + draw(arguments(field, operation))
        named = get_named_type(field.type)
        if hasattr(named, "fields") and not isinstance(named, GraphQLInputObjectType):
            if depth >= 4:
                text += " { __typename }"
            else:
                text += " { " + draw(selection(named, operation, depth + 1)) + " }"
        parts.append(text)
    if rarely(draw, 10):
        parts.append(f"... on {type_.name} {{ __typename }}")
    return " ".join(parts)


@st.composite
def documents(draw: Any) -> tuple[str, dict[str, Any]]:
    operation = Operation()
    kind = draw(st.sampled_from(["query", "query", "mutation"]))
    root = schema.get_query_type() if kind == "query" else schema.get_mutation_type()
    body = draw(selection(root, operation))
    if rarely(draw, 6):  # the same through a named fragment
        body = f"...R }} fragment R on {root.name} {{ {body}"
    header = kind
    if operation.definitions:
        header += f" Fuzz({', '.join(operation.definitions)})"
    return f"{header} {{ {body} }}", operation.values


@st.composite
def mangled(draw: Any) -> str:
    """A generated document with pieces cut, repeated or replaced by garbage."""
    text, _ = draw(documents())
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["cut", "insert", "repeat", "brackets"]))
        if action == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif action == "insert":
            garbage = draw(st.text(st.characters(exclude_categories=()), max_size=8))
            text = text[:at] + garbage + text[at:]
        elif action == "repeat":
            piece = text[at : at + draw(st.integers(1, 40))]
            text = text[:at] + piece * draw(st.integers(2, 60)) + text[at:]
        else:
            opening = draw(st.sampled_from(["{", "[", "(", "{a: ", "... on Query {"]))
            text = text[:at] + opening * draw(st.integers(1, 600)) + text[at:]
    return text


@st.composite
def deep(draw: Any) -> tuple[str, dict[str, Any] | None]:
    n = draw(st.integers(1, 2500))
    kind = draw(st.sampled_from(["selections", "list", "object", "inline", "chain", "variable"]))
    if kind == "selections":
        return "{ licenses " + "{ edges " * n + "}" * (n + 1), None
    if kind == "list":
        return "{ license(key: " + "[" * n + '"x"' + "]" * n + ") { id } }", None
    if kind == "object":
        return "{ licenses(filter: " + "{search: " * n + "1" + "}" * n + ") { totalCount } }", None
    if kind == "inline":
        return "{ " + "... on Query { " * n + "licensingPublicKey { kid }" + " }" * (n + 1), None
    if kind == "chain":
        n = min(n, 450)
        links = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(n))
        return "{ ...F0 } " + links + f" fragment F{n} on Query {{ __typename }}", None
    # JSON nested deeper than json.dumps goes: written out (the query is sent as JSON text)
    opened = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    nested = "".join("[" if bracket else '{"status": ' for bracket in opened) + '"ACTIVE"'
    nested += "".join("]" if bracket else "}" for bracket in reversed(opened))
    query = "query($f: LicenseFilterInput){ licenses(filter: $f){ totalCount } }"
    return query, {"f": Raw(nested)}


# --- requests and what every answer must be ------------------------------------------------


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def nothing_logged_at_error() -> Iterator[None]:
    handler, root = Failures(), logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    assert not handler.records, [r.getMessage()[:300] for r in handler.records]


def send(path: str, raw: bytes, principal: Any = ANONYMOUS, **headers: Any) -> Any:
    request = RequestFactory().post(
        path, data=raw, content_type="application/json", REMOTE_ADDR="10.9.9.9", **headers
    )
    with nothing_logged_at_error():
        response = dispatch(request, path, principal=principal, catalog=CATALOG)
    FIGURES["inputs"] += 1
    FIGURES[f"{path.strip('/')} {response.status_code}"] += 1
    check(path, response)
    return response


def check(path: str, response: Any) -> None:
    assert response.status_code < 500, response.content[:500]
    text = response.content.decode("utf-8", "replace")
    assert "Traceback" not in text and 'File "' not in text, text[:500]
    if response.status_code == 304:
        return
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    graphql = path.strip("/") == "graphql"
    for error in body.get("errors", []):
        code = error["extensions"]["exception"]["code"] if graphql else error["code"]
        assert code in DOCUMENTED, error
        FIGURES[f"code {code}"] += 1
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict) and isinstance(payload.get("errors"), list):
            for error in payload["errors"]:  # as selected: "code" may be aliased away
                if isinstance(error, dict) and "code" in error:
                    assert error["code"] in LICENSE_CODES, error
                    FIGURES[f"code {error['code']}"] += 1
    if graphql and response.status_code == 200:
        assert "data" in body


class Raw(str):
    """JSON text to put into a body as it is."""


def graphql_body(query: str, variables: Any, operation: Any = None) -> bytes:
    body: dict[str, Any] = {"query": query}
    if operation is not None:
        body["operationName"] = operation
    if isinstance(variables, dict) and any(isinstance(v, Raw) for v in variables.values()):
        inner = ", ".join(f"{json.dumps(k)}: {v}" for k, v in variables.items())
        return (json.dumps(body)[:-1] + ', "variables": {' + inner + "}}").encode()
    if variables is not None:
        body["variables"] = variables
    return json.dumps(body).encode()


# --- the fuzz tests ------------------------------------------------------------------------


def test_documents_from_the_schema(world):
    @FUZZ
    @given(documents(), st.sampled_from(PRINCIPALS), st.none() | st.sampled_from(["Fuzz", "X"]))
    def run(document, principal, operation):
        query, variables = document
        body = graphql_body(real(query, world), real(variables, world), operation)
        send("/graphql/", body, principal)

    run()


def test_mangled_documents(world):
    @FUZZ
    @given(mangled(), st.sampled_from(PRINCIPALS))
    def run(query, principal):
        send("/graphql/", graphql_body(real(query, world)[:20_000], None), principal)

    run()


def test_deep_nesting():
    @FUZZ
    @given(deep(), st.sampled_from(PRINCIPALS))
    def run(document, principal):
        query, variables = document
        send("/graphql/", graphql_body(query[:20_000], variables), principal)

    run()


def test_garbage_bodies():
    bodies = st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.dictionaries(
            st.sampled_from(["query", "variables", "operationName", "key", "fingerprint"]),
            json_values,
        ).map(lambda v: json.dumps(v).encode()),
        st.integers(1, 70_000).map(lambda n: b"[" * n + b"]" * n),
        st.text(max_size=300).map(lambda t: json.dumps({"query": t}).encode()),
    )

    @FUZZ
    @given(bodies, st.sampled_from(["/graphql/", "/activation/"]), st.sampled_from(PRINCIPALS))
    def run(raw, path, principal):
        send(path, raw, principal)

    run()


def test_device_requests(world):
    field_values = st.one_of(json_values, st.sampled_from(REAL), st.just("pbx-serial-0001"))
    bodies = st.fixed_dictionaries(
        {},
        optional={
            "key": st.sampled_from(["@KEY", "@OTHER_KEY"]) | field_values,
            "fingerprint": field_values,
            "deploymentId": st.just("@PUBLIC_ID") | field_values,
            "extra": json_values,
        },
    )
    tags = st.none() | st.sampled_from(['"x"', "*", "W/", ",,,", "\x00"]) | st.text(max_size=20)

    @FUZZ
    @given(bodies, tags)
    def run(body, tag):
        headers = (
            {}
            if tag is None
            else {"HTTP_IF_NONE_MATCH": tag.encode("utf-8", "replace").decode("latin-1")}
        )
        send("/activation/", json.dumps(real(body, world)).encode(), **headers)

    run()
