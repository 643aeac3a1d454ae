"""Shared GraphQL building blocks: errors, money, ids, connections, the mutation base class."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar

import graphene
from django.db.models import Q, QuerySet
from graphene import relay
from graphql import GraphQLError

from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.licensing import access, partners
from saleor_license_plugin.licensing.catalog import EditionTerms
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import MANAGE_ORDERS, CatalogItem
from saleor_license_plugin.licensing.pricing import Money as MoneyValue
from saleor_license_plugin.models import Deployment, EndCustomer, License

LicenseErrorCodeEnum = graphene.Enum.from_enum(
    LicenseErrorCode, description="Why a license operation was refused."
)

MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_TEXT = 255


class LicenseErrorType(graphene.ObjectType):
    field = graphene.String(
        description="Name of the input field at fault; null when not about one field."
    )
    message = graphene.String(description="The error message.")
    code = graphene.Field(LicenseErrorCodeEnum, required=True, description="The error code.")

    class Meta:
        name = "LicenseError"
        description = "A refused license operation, as Saleor reports errors."


class Money(graphene.ObjectType):
    currency = graphene.String(required=True, description="Currency code.")
    amount = graphene.Float(required=True, description="Amount of money.")

    class Meta:
        description = "Represents amount of money in specific currency."

    @staticmethod
    def resolve_amount(root: MoneyValue, info: Any) -> float:
        return float(root.amount)


def context(info: Any) -> ApiContext:
    ctx = info.context
    assert isinstance(ctx, ApiContext)
    return ctx


# --- errors --------------------------------------------------------------------------------


def as_graphql_error(error: LicenseError) -> GraphQLError:
    """A refusal in a query (queries have no ``errors`` field): a top-level error with a code."""
    extensions: dict[str, Any] = {"exception": {"code": error.code.value}}
    if error.field:
        extensions["field"] = error.field
    return GraphQLError(error.message, extensions=extensions)


def permission_denied(message: str = "You do not have permission to do this.") -> LicenseError:
    return LicenseError(LicenseErrorCode.PERMISSION_DENIED, message)


def require_user(ctx: ApiContext) -> str:
    if ctx.principal.user_id is None:
        raise permission_denied("Sign in to do this.")
    return ctx.principal.user_id


def require_staff(ctx: ApiContext) -> None:
    if not ctx.principal.has_perm(MANAGE_ORDERS):
        raise permission_denied(f"You need the {MANAGE_ORDERS} permission.")


def require_signed_in(ctx: ApiContext) -> None:
    """Staff (an API token may have no user id) or a signed-in user."""
    if not ctx.principal.is_staff:
        require_user(ctx)


def query[T](resolve: Callable[..., T]) -> Callable[..., T]:
    """A root query field's resolver, written as ``resolve(ctx, **arguments)``: a
    :class:`LicenseError` becomes a top-level error with its code (queries have no
    ``errors`` field)."""

    @functools.wraps(resolve)
    def resolver(root: Any, info: Any, **arguments: Any) -> T:
        try:
            return resolve(context(info), **arguments)
        except LicenseError as error:
            raise as_graphql_error(error) from None

    return resolver


def none_if_not_found[T](find: Callable[[], T]) -> T | None:
    """What ``find`` returns; null where it is ``NOT_FOUND`` (a nullable field's answer)."""
    try:
        return find()
    except LicenseError as error:
        if error.code is LicenseErrorCode.NOT_FOUND:
            return None
        raise


def text(value: Any, field: str, *, maximum: int = MAX_TEXT, required: bool = False) -> str:
    """A stripped string input within bounds."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise LicenseError(LicenseErrorCode.INVALID, "Expected text.", field)
    value = value.strip()
    if required and not value:
        raise LicenseError(LicenseErrorCode.REQUIRED, "This field is required.", field)
    if len(value) > maximum or not value.isprintable():
        raise LicenseError(
            LicenseErrorCode.INVALID,
            f"At most {maximum} printable characters.",
            field,
        )
    return value


# --- global ids ----------------------------------------------------------------------------


def to_global_id(type_name: str, pk: int) -> str:
    return relay.Node.to_global_id(type_name, pk)


def from_global_id(value: Any, type_name: str, field: str = "id") -> int:
    """The primary key in a global id of ``type_name``; ``INVALID_ID`` for anything else."""
    if isinstance(value, str) and len(value) <= 200:
        try:
            raw = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raw = ""
        found, _, pk = raw.partition(":")
        if found == type_name and pk.isdigit() and len(pk) <= 18:
            return int(pk)
    raise LicenseError(LicenseErrorCode.INVALID_ID, f"Not a valid {type_name} id.", field)


# --- lookups by public id ------------------------------------------------------------------


def deployment_by_public_id(ctx: ApiContext, value: Any, field: str = "deploymentId") -> Deployment:
    """A deployment the caller owns or manages (any for staff); NOT_FOUND otherwise."""
    return access.visible_deployment(
        text(value, field, maximum=32, required=True), ctx.principal, field
    )


def customer_by_public_id(ctx: ApiContext, value: Any, field: str = "customerId") -> EndCustomer:
    """An end customer the caller manages (any for staff); NOT_FOUND otherwise."""
    return access.visible_customer(
        text(value, field, maximum=32, required=True), ctx.principal, field
    )


def managed_customer(ctx: ApiContext, value: Any, field: str = "customerId") -> EndCustomer:
    """A customer the caller may change or act for: its active partner's, or staff."""
    require_user(ctx)
    customer = customer_by_public_id(ctx, value, field)
    if not ctx.principal.is_staff:
        partners.require_partner(ctx.principal)
    return customer


def fresh_license(pk: int) -> License:
    """A license as a response shows it, read again after a change."""
    return License.objects.select_related("deployment").get(pk=pk)


def license_edition(ctx: ApiContext, value: Any, field: str = "variantId") -> CatalogItem:
    """The catalog item of a license edition; NOT_A_LICENSE_PRODUCT for anything else."""
    item = ctx.catalog.get(text(value, field, maximum=200))
    if item is None or not isinstance(item.terms, EditionTerms):
        raise LicenseError(LicenseErrorCode.NOT_A_LICENSE_PRODUCT, "Not a license edition.", field)
    return item


# --- connections ---------------------------------------------------------------------------


class CountableConnection(relay.Connection):
    """A page of nodes and the total count, as Saleor's connections are."""

    total_count = graphene.Int(description="A total count of items in the collection.")

    class Meta:
        abstract = True


def connection_field(
    connection: type[relay.Connection], *, description: str, resolver: Any = None, **arguments: Any
) -> graphene.Field:
    """A paged root field: its ``arguments``, then ``first`` and ``after``."""
    return graphene.Field(
        connection,
        **arguments,
        first=graphene.Int(),
        after=graphene.String(),
        description=description,
        resolver=resolver,
    )


def page_size(first: Any) -> int:
    if first is None:
        return DEFAULT_PAGE
    if not isinstance(first, int) or not 1 <= first <= MAX_PAGE:
        raise LicenseError(
            LicenseErrorCode.INVALID, f"first must be between 1 and {MAX_PAGE}.", "first"
        )
    return first


def _encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode()


MAX_PK = 2**63 - 1  # bigint


def _storable(value: str) -> bool:
    """Text PostgreSQL can compare with: no NUL, no lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _decode_cursor(cursor: str) -> list[Any]:
    """``[value, pk]`` as :func:`_encode_cursor` wrote it: text and a positive bigint; anything
    else (a NUL, a lone surrogate, a number PostgreSQL cannot compare) is ``INVALID``."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != 2
        or not isinstance(values[0], str)
        or not _storable(values[0])
        or type(values[1]) is not int
        or not 0 < values[1] <= MAX_PK
    ):
        raise LicenseError(LicenseErrorCode.INVALID, "Not a valid cursor.", "after")
    return values


def keyset_page(
    connection: type[relay.Connection],
    queryset: QuerySet[Any],
    *,
    first: Any,
    after: Any,
    field: str,
    descending: bool,
    dates: bool = False,
) -> relay.Connection:
    """One page of ``queryset`` ordered by (``field``, pk), after an opaque cursor. Two queries:
    the total count and the page. ``dates``: ``field`` is a datetime (ISO 8601 in cursors)."""
    to_cursor, from_cursor = (_datetime_cursor, _datetime_from_cursor) if dates else (_same, _same)
    size = page_size(first)
    total = queryset.count()
    ordering = (f"-{field}", "-pk") if descending else (field, "pk")
    queryset = queryset.order_by(*ordering)
    if after is not None:
        if not isinstance(after, str) or len(after) > 500:
            raise LicenseError(LicenseErrorCode.INVALID, "Not a valid cursor.", "after")
        raw_value, pk = _decode_cursor(after)
        try:
            value = from_cursor(raw_value)
        except (TypeError, ValueError):
            raise LicenseError(LicenseErrorCode.INVALID, "Not a valid cursor.", "after") from None
        op = "lt" if descending else "gt"
        queryset = queryset.filter(
            Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk})
        )
    rows = list(queryset[: size + 1])
    has_next = len(rows) > size
    rows = rows[:size]
    edge_type = connection.Edge
    edges = [
        edge_type(node=row, cursor=_encode_cursor([to_cursor(getattr(row, field)), row.pk]))
        for row in rows
    ]
    page_info = relay.PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return connection(edges=edges, page_info=page_info, total_count=total)


def newest_first(
    connection: type[relay.Connection],
    queryset: QuerySet[Any],
    *,
    first: Any,
    after: Any,
    field: str = "created_at",
) -> relay.Connection:
    """A page of ``queryset``, newest first by the datetime ``field``."""
    return keyset_page(
        connection, queryset, first=first, after=after, field=field, descending=True, dates=True
    )


def alphabetical(
    connection: type[relay.Connection],
    queryset: QuerySet[Any],
    *,
    first: Any,
    after: Any,
    field: str,
) -> relay.Connection:
    """A page of ``queryset`` in the text ``field``'s order."""
    return keyset_page(
        connection, queryset, first=first, after=after, field=field, descending=False
    )


def _same(value: Any) -> Any:
    return value


def _datetime_cursor(value: datetime) -> str:
    return value.isoformat()


def _datetime_from_cursor(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


# --- mutations -----------------------------------------------------------------------------


class BaseMutation(graphene.Mutation):
    """Runs :meth:`perform`; a :class:`LicenseError` becomes ``errors { field code message }``."""

    errors = graphene.List(graphene.NonNull(LicenseErrorType), required=True)

    class Meta:
        abstract = True

    staff_only: ClassVar[bool] = False
    # Subclasses define ``perform(cls, ctx, **arguments)``: the mutation's work.
    perform: ClassVar[Callable[..., Any]]

    @classmethod
    def mutate(cls, root: Any, info: Any, **data: Any) -> Any:
        ctx = context(info)
        try:
            if cls.staff_only:
                require_staff(ctx)
            return cls.perform(ctx, **data)
        except LicenseError as error:
            return cls(errors=[error_value(error)])

    @classmethod
    def success(cls, **fields: Any) -> Any:
        return cls(errors=[], **fields)


def error_value(error: LicenseError) -> LicenseErrorType:
    return LicenseErrorType(field=error.field, message=error.message, code=error.code.value)
