"""From a request's query text to something safe to execute: the text guard, parsing, the
query limits, validation, the operation, the variables and the cost.

graphql-core 2 parses and validates recursively: a document nested a few hundred levels deep
(selections, list or object literals, fragment spreads) or a fragment cycle exhausted Python's
stack inside validation, and one response name selected a few thousand times made validation
quadratic (11 s for 16 kB). So nothing reaches graphql-core unchecked:

1. the text: at most :data:`MAX_TOKENS` tokens and brackets nested at most :data:`MAX_NESTING`
   deep, counted outside strings and comments, before parsing;
2. the parsed document, walked with explicit stacks and fragments expanded (each fragment once
   per selection, as the executor merges them): only operations and fragments, no unused
   fragment, no fragment cycle, nesting, depth, fields, aliases, mutations, and at most
   :data:`MAX_SAME_NAME` selections of one response name in one selection;
3. graphql-core's validation, then per request the operation, the variables and the cost.

Every refusal is a :class:`DocumentRefused` with a code; a ``RecursionError`` that still
happens in graphql-core is one too (``QUERY_TOO_COMPLEX``), never a 500.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, parse, validate
from graphql.execution.values import get_variable_values
from graphql.language import ast
from graphql.type import GraphQLEnumType, GraphQLScalarType, GraphQLSchema
from graphql.type.definition import get_named_type
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from saleor_license_plugin.conf import LicenseSettings
from saleor_license_plugin.graphql.core import DEFAULT_PAGE, MAX_PAGE
from saleor_license_plugin.graphql.errors import RequestErrorCode
from saleor_license_plugin.licensing.errors import LicenseErrorCode

# Fixed bounds that keep graphql-core's recursion far from Python's limit (1000 frames; about
# four per level) wherever the plugin runs, Saleor's own stack included.
MAX_NESTING = 50
MAX_TOKENS = 3000
MAX_SAME_NAME = 10
# Validation errors returned at most (graphql-js stops at 100; one per conflicting pair of
# fields could otherwise make megabytes).
MAX_ERRORS = 20

Code = RequestErrorCode | LicenseErrorCode
TOO_COMPLEX = RequestErrorCode.QUERY_TOO_COMPLEX
NOT_VALID = RequestErrorCode.GRAPHQL_VALIDATION_FAILED


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int
    max_fields: int
    max_aliases: int
    max_mutations: int
    max_cost: int

    @classmethod
    def from_settings(cls, settings: LicenseSettings) -> QueryLimits:
        return cls(
            max_depth=settings.graphql_max_depth,
            max_fields=settings.graphql_max_fields,
            max_aliases=settings.graphql_max_aliases,
            max_mutations=settings.graphql_max_mutations,
            max_cost=settings.graphql_max_cost,
        )


class DocumentRefused(Exception):
    """A request refused before execution: one error, or graphql-core's validation errors."""

    def __init__(
        self,
        code: Code,
        message: str,
        *,
        field: str | None = None,
        errors: list[GraphQLError] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
        self.errors = errors or []
        self.extensions = extensions or {}


def too_complex(message: str) -> DocumentRefused:
    return DocumentRefused(TOO_COMPLEX, message)


# --- 1. the text ---------------------------------------------------------------------------

_STRING_OR_COMMENT = re.compile(r'["#]')
_STRING_BODY = re.compile(r'(?:[^"\\\n\r]|\\.)*"?')
_LINE_END = re.compile(r"[\n\r]")
_BRACKETS = re.compile(r"[{}\[\]()]")
_TOKEN = re.compile(r"[_0-9A-Za-z.+-]+|[^\s,]")


def _code_parts(text: str) -> Iterator[str]:
    """The text outside strings and comments (a string counts as a token: yields ``"``)."""
    position, end = 0, len(text)
    while position < end:
        found = _STRING_OR_COMMENT.search(text, position)
        if found is None:
            yield text[position:]
            return
        yield text[position : found.start()]
        position = found.end()
        if found.group() == "#":
            line_end = _LINE_END.search(text, position)
            position = end if line_end is None else line_end.end()
            continue
        yield '"'
        if text.startswith('""', position):  # a block string; only \""" escapes
            close = position + 2
            while True:
                close = text.find('"""', close)
                if close == -1 or text[close - 1] != "\\":
                    break
                close += 3
            position = end if close == -1 else close + 3
        else:
            position = _STRING_BODY.match(text, position).end()  # type: ignore[union-attr]


def check_text(text: str) -> None:
    """Refuse text that would be slow to parse or too deep for graphql-core's recursion."""
    tokens = depth = 0
    for part in _code_parts(text):
        tokens += len(_TOKEN.findall(part))
        if tokens > MAX_TOKENS:
            raise too_complex(f"The query has more than {MAX_TOKENS} tokens.")
        for bracket in _BRACKETS.findall(part):
            if bracket in "{[(":
                depth += 1
                if depth > MAX_NESTING:
                    raise too_complex(f"The query nests brackets more than {MAX_NESTING} deep.")
            else:
                depth = max(depth - 1, 0)


# --- 2. the parsed document ----------------------------------------------------------------


def _spreads(selection_set: ast.SelectionSet) -> set[str]:
    """Names of the fragments spread anywhere under a selection set."""
    found: set[str] = set()
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, ast.FragmentSpread):
                found.add(selection.name.value)
            elif selection.selection_set is not None:
                stack.append(selection.selection_set)
    return found


def _check_fragments(
    operations: list[ast.OperationDefinition], fragments: dict[str, ast.FragmentDefinition]
) -> None:
    """Every fragment used, none spread within itself (graphql-core recurses on both)."""
    uses = {name: _spreads(f.selection_set) & fragments.keys() for name, f in fragments.items()}
    reached: set[str] = set()
    stack = [name for op in operations for name in _spreads(op.selection_set) if name in uses]
    while stack:
        name = stack.pop()
        if name not in reached:
            reached.add(name)
            stack.extend(uses[name])
    for name in fragments:
        if name not in reached:
            raise DocumentRefused(NOT_VALID, f'Fragment "{name}" is never used.')
    done: set[str] = set()
    for start in fragments:  # depth-first, iteratively: a spread back onto the path is a cycle
        path, on_path = [(start, iter(uses[start]))], {start}
        while path:
            name, following = path[-1]
            spread = next(following, None)
            if spread is None:
                path.pop()
                on_path.discard(name)
                done.add(name)
            elif spread in on_path:
                message = f'Cannot spread fragment "{spread}" within itself.'
                raise DocumentRefused(NOT_VALID, message)
            elif spread not in done:
                path.append((spread, iter(uses[spread])))
                on_path.add(spread)


def _merged(
    selection_set: ast.SelectionSet,
    fragments: dict[str, ast.FragmentDefinition],
    nesting: int,
) -> list[tuple[ast.Field, str | None, int]]:
    """The fields one selection set selects, inline fragments and fragments merged in (each
    fragment once, as the executor does): (field, the type condition it came under, nesting)."""
    fields: list[tuple[ast.Field, str | None, int]] = []
    seen: set[str] = set()
    stack: list[tuple[ast.SelectionSet, str | None, int]] = [(selection_set, None, nesting)]
    while stack:
        current, condition, level = stack.pop()
        if level > MAX_NESTING:
            raise too_complex(f"The query nests selections more than {MAX_NESTING} deep.")
        for selection in current.selections:
            if isinstance(selection, ast.Field):
                fields.append((selection, condition, level + 1))
            elif isinstance(selection, ast.InlineFragment):
                inner = selection.type_condition.name.value if selection.type_condition else None
                stack.append((selection.selection_set, inner or condition, level + 1))
            elif isinstance(selection, ast.FragmentSpread):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:
                    seen.add(name)
                    typed = fragment.type_condition
                    inner = typed.name.value if typed is not None else None
                    stack.append((fragment.selection_set, inner, level + 1))
    return fields


def _operations(
    document: ast.Document,
) -> tuple[list[ast.OperationDefinition], dict[str, ast.FragmentDefinition]]:
    operations: list[ast.OperationDefinition] = []
    fragments: dict[str, ast.FragmentDefinition] = {}
    for definition in document.definitions:
        if isinstance(definition, ast.OperationDefinition):
            operations.append(definition)
        elif isinstance(definition, ast.FragmentDefinition):
            fragments.setdefault(definition.name.value, definition)
        else:
            raise DocumentRefused(NOT_VALID, "A request may contain only operations and fragments.")
    return operations, fragments


def check_document(document: ast.Document, limits: QueryLimits) -> None:
    """The limits every operation in the document must keep, fragments expanded."""
    operations, fragments = _operations(document)
    _check_fragments(operations, fragments)
    fields = aliases = mutations = 0
    for operation in operations:
        stack = [(operation.selection_set, 0, 0)]  # (selection set, depth, nesting)
        root = True
        while stack:
            selection_set, depth, nesting = stack.pop()
            merged = _merged(selection_set, fragments, nesting)
            names = Counter((f.alias or f.name).value for f, _, _ in merged)
            name, count = names.most_common(1)[0] if names else ("", 0)
            if count > MAX_SAME_NAME:
                raise too_complex(
                    f'"{name}" is selected {count} times in one selection; '
                    f"at most {MAX_SAME_NAME} are allowed."
                )
            if root and operation.operation == "mutation":
                mutations += len(merged)
            root = False
            for field, _, level in merged:
                fields += 1
                aliases += field.alias is not None
                if field.selection_set is not None:
                    stack.append((field.selection_set, depth + 1, level))
            if merged and depth + 1 > limits.max_depth:
                raise too_complex(f"The query is deeper than {limits.max_depth} fields.")
            if fields > limits.max_fields:
                raise too_complex(f"The query selects more than {limits.max_fields} fields.")
            if aliases > limits.max_aliases:
                raise too_complex(f"The query uses more than {limits.max_aliases} aliases.")
            if mutations > limits.max_mutations:
                raise too_complex(f"A request may run at most {limits.max_mutations} mutations.")


# --- 3. validation, and per request: the operation, variables, cost -----------------------


def prepare(schema: GraphQLSchema, text: str, limits: QueryLimits) -> ast.Document:
    """The parsed document if it keeps the limits and validates; :class:`DocumentRefused`."""
    check_text(text)
    try:
        document = parse(text)
    except GraphQLError as error:
        raise DocumentRefused(
            RequestErrorCode.GRAPHQL_PARSE_FAILED, error.message, errors=[error]
        ) from None
    except RecursionError:
        raise too_complex("The query is nested too deeply.") from None
    check_document(document, limits)
    try:
        errors = validate(schema, document)
    except RecursionError:
        raise too_complex("The query is nested too deeply.") from None
    if errors:
        raise DocumentRefused(NOT_VALID, errors[0].message, errors=errors[:MAX_ERRORS])
    return document


def select_operation(document: ast.Document, name: str | None) -> ast.OperationDefinition:
    """The operation to run: the one named, or the only one (``INVALID`` on operationName)."""
    operations = [d for d in document.definitions if isinstance(d, ast.OperationDefinition)]
    if name:
        for operation in operations:
            if operation.name is not None and operation.name.value == name:
                return operation
        message = f'Unknown operation named "{name[:100]}".'
    elif len(operations) == 1:
        return operations[0]
    else:
        message = "Give operationName: the document has more than one operation."
    raise DocumentRefused(LicenseErrorCode.INVALID, message, field="operationName")


def coerce_variables(
    schema: GraphQLSchema, operation: ast.OperationDefinition, variables: dict[str, Any] | None
) -> dict[str, Any]:
    """The variables as the operation declares them (``INVALID`` on variables)."""
    if operation.operation == "subscription":
        raise DocumentRefused(NOT_VALID, "This API has no subscriptions.")
    try:
        return get_variable_values(schema, operation.variable_definitions or [], variables or {})
    except GraphQLError as error:
        message = error.message if len(error.message) <= 500 else error.message[:500] + "…"
        raise DocumentRefused(LicenseErrorCode.INVALID, message, field="variables") from None
    except Exception:  # graphene's scalars raise bare ValueError, TypeError, Exception
        raise DocumentRefused(
            LicenseErrorCode.INVALID, "A variable has the wrong type.", field="variables"
        ) from None


def _page_size(field: ast.Field, variables: dict[str, Any]) -> int:
    """The ``first`` a list field is asked for, as the resolvers bound it."""
    value: Any = None
    for argument in field.arguments or []:
        if argument.name.value == "first":
            node = argument.value
            if isinstance(node, ast.Variable):
                value = variables.get(node.name.value)
            elif isinstance(node, ast.IntValue):
                value = int(node.value)
    if not isinstance(value, int):
        return DEFAULT_PAGE
    return max(1, min(value, MAX_PAGE))


def query_cost(
    schema: GraphQLSchema,
    document: ast.Document,
    operation: ast.OperationDefinition,
    variables: dict[str, Any],
) -> int:
    """Saleor's measure: each field that returns an object costs 1 times the page size of
    every list it is in, its own included (``first``, default 20); scalars cost nothing."""
    _, fragments = _operations(document)
    root = schema.get_mutation_type() if operation.operation == "mutation" else None
    total = 0
    stack: list[tuple[ast.SelectionSet, Any, int]] = [
        (operation.selection_set, root or schema.get_query_type(), 1)
    ]
    while stack:
        selection_set, parent, multiplier = stack.pop()
        for field, condition, _ in _merged(selection_set, fragments, 0):
            owner = schema.get_type(condition) if condition else parent
            name = field.name.value
            definition: Any
            if name == "__schema":
                definition = SchemaMetaFieldDef
            elif name == "__type":
                definition = TypeMetaFieldDef
            else:
                definition = getattr(owner, "fields", {}).get(name)
            if definition is None:  # __typename
                continue
            returns = get_named_type(definition.type)
            if isinstance(returns, GraphQLScalarType | GraphQLEnumType):
                continue
            factor = multiplier
            if "first" in definition.args:
                factor *= _page_size(field, variables)
            total += factor
            if field.selection_set is not None:
                stack.append((field.selection_set, returns, factor))
    return total
