"""Root query fields."""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from typing import Any

import graphene
from django.db.models import Count, Q, QuerySet

from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.graphql.core import (
    alphabetical,
    connection_field,
    customer_by_public_id,
    from_global_id,
    newest_first,
    none_if_not_found,
    query,
    require_signed_in,
    require_user,
    text,
)
from saleor_license_plugin.graphql.types import (
    DeploymentCountableConnection,
    LicenseCountableConnection,
    LicenseKindEnum,
    LicenseStatistics,
    LicenseStatusCount,
    LicenseStatusEnum,
    LicenseType,
    LicensingPublicKey,
)
from saleor_license_plugin.licensing import access
from saleor_license_plugin.licensing.entitlements import get_signer, public_key_b64
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.lookup import key_digest, visible_license
from saleor_license_plugin.models import (
    Deployment,
    License,
    LicenseEvent,
    LicenseKind,
    LicenseStatus,
)

MAX_EXPIRING_DAYS = 3660


class LicenseFilterInput(graphene.InputObjectType):
    status = graphene.List(graphene.NonNull(LicenseStatusEnum))
    edition = graphene.String()
    search = graphene.String(
        description="Key hint, edition, owner e-mail, deployment or end customer (company)."
    )
    kind = graphene.List(graphene.NonNull(LicenseKindEnum))
    customer_id = graphene.String(description="One end customer's (its public id, C-…).")
    expiring_within_days = graphene.Int(
        description="Term or maintenance ends within this many days."
    )
    key = graphene.String(description="Staff: the full license key, as typed.")
    order_id = graphene.String(
        description="Staff: licenses an order issued or changed (Saleor's order global id or "
        "its id)."
    )
    owner_id = graphene.String(description="Staff: licenses owned or resold by this user id.")


def visible_licenses(ctx: ApiContext) -> QuerySet[License]:
    """Licenses the caller owns or resells; every license for staff."""
    require_signed_in(ctx)
    return access.visible_licenses(ctx.principal)


def visible_deployments(ctx: ApiContext) -> QuerySet[Deployment]:
    require_signed_in(ctx)
    return access.visible_deployments(ctx.principal)


def expiring_q(ctx: ApiContext, days: int) -> Q:
    until = ctx.now + timedelta(days=days)
    return Q(status=LicenseStatus.ACTIVE) & (
        Q(term_expires_at__gt=ctx.now, term_expires_at__lte=until)
        | Q(maintenance_expires_at__gt=ctx.now, maintenance_expires_at__lte=until)
    )


def filter_licenses(
    ctx: ApiContext, queryset: QuerySet[License], spec: dict[str, Any]
) -> QuerySet[License]:
    if statuses := spec.get("status"):
        queryset = queryset.filter(status__in=list(statuses))
    if kinds := spec.get("kind"):
        queryset = queryset.filter(kind__in=[getattr(k, "value", k) for k in kinds])
    if spec.get("customer_id") is not None:
        require_user(ctx)
        queryset = queryset.filter(customer=customer_by_public_id(ctx, spec["customer_id"]))
    if edition := text(spec.get("edition"), "edition", maximum=64):
        queryset = queryset.filter(edition__iexact=edition)
    if search := text(spec.get("search"), "search", maximum=100):
        queryset = queryset.filter(
            Q(key_hint__iexact=search.replace("-", ""))
            | Q(edition__icontains=search)
            | Q(owner_email__icontains=search)
            | Q(deployment__public_id__iexact=search)
            | Q(deployment__name__icontains=search)
            | Q(customer__company__icontains=search)
        )
    staff_filters = ("key", "order_id", "owner_id")
    if any(spec.get(name) is not None for name in staff_filters) and not ctx.principal.is_staff:
        raise LicenseError(
            LicenseErrorCode.PERMISSION_DENIED, "Only staff filter by key, order or owner."
        )
    if spec.get("key") is not None:
        queryset = queryset.filter(key_digest=key_digest(spec["key"]))
    if order := text(spec.get("order_id"), "orderId", maximum=200):
        order = order_pk(order)
        queryset = queryset.filter(Q(origin_order_id=order) | Q(pk__in=events_of_order(order)))
    if owner := text(spec.get("owner_id"), "ownerId", maximum=128):
        queryset = queryset.filter(Q(owner_id=owner) | Q(reseller_id=owner))
    days = spec.get("expiring_within_days")
    if days is not None:
        if not 0 <= days <= MAX_EXPIRING_DAYS:
            raise LicenseError(
                LicenseErrorCode.INVALID,
                f"expiringWithinDays must be between 0 and {MAX_EXPIRING_DAYS}.",
                "expiringWithinDays",
            )
        queryset = queryset.filter(expiring_q(ctx, days))
    return queryset


def order_pk(value: str) -> str:
    """Saleor's ``Order`` global id to the id licenses record; anything else as given."""
    try:
        raw = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return value
    kind, _, pk = raw.partition(":")
    return pk if kind == "Order" and pk else value


def events_of_order(order_id: str) -> QuerySet[Any]:
    return LicenseEvent.objects.filter(order_id=order_id).values("license_id")


def with_page_data(queryset: QuerySet[License]) -> QuerySet[License]:
    """Everything a license list shows, in the page's one query."""
    return queryset.select_related("deployment", "customer").annotate(
        live_activations=Count("activations", filter=Q(activations__deactivated_at__isnull=True))
    )


class Query(graphene.ObjectType):
    license = graphene.Field(
        LicenseType,
        id=graphene.ID(description="The license's global id."),
        key=graphene.String(description="The license key, as typed."),
        description="One license, by id or key; null if there is none the caller may see.",
    )
    licenses = connection_field(
        LicenseCountableConnection,
        filter=LicenseFilterInput(),
        description="The caller's licenses and their customers'; staff see all.",
    )
    deployments = connection_field(
        DeploymentCountableConnection,
        search=graphene.String(description="Part of a public id or name."),
        description="Deployments of the caller and their customers (typeahead).",
    )
    license_statistics = graphene.Field(
        LicenseStatistics,
        required=True,
        customer_id=graphene.String(description="One end customer's licenses (C-…)."),
        description="Counts over the licenses you may see (a partner: its own and its "
        "customers'), or one end customer's.",
    )
    licensing_public_key = graphene.Field(
        LicensingPublicKey, required=True, description="The key entitlements are signed with."
    )

    @staticmethod
    @query
    def resolve_license(ctx: ApiContext, id: Any = None, key: Any = None) -> License | None:
        if (id is None) == (key is None):
            raise LicenseError(LicenseErrorCode.REQUIRED, "Give either id or key.", "id")
        if key is not None:
            return none_if_not_found(
                lambda: visible_license(
                    key, ctx.principal, action="verify", client_ip=ctx.client_ip
                )
            )
        pk = from_global_id(id, "License")
        license = License.objects.select_related("deployment").filter(pk=pk).first()
        return license if license is not None and ctx.principal.can_see(license) else None

    @staticmethod
    @query
    def resolve_licenses(
        ctx: ApiContext, filter: Any = None, first: Any = None, after: Any = None
    ) -> Any:
        queryset = filter_licenses(ctx, visible_licenses(ctx), dict(filter or {}))
        return newest_first(
            LicenseCountableConnection, with_page_data(queryset), first=first, after=after
        )

    @staticmethod
    @query
    def resolve_deployments(
        ctx: ApiContext, search: Any = None, first: Any = None, after: Any = None
    ) -> Any:
        queryset = visible_deployments(ctx)
        if term := text(search, "search", maximum=100):
            queryset = queryset.filter(Q(public_id__icontains=term) | Q(name__icontains=term))
        return alphabetical(
            DeploymentCountableConnection, queryset, first=first, after=after, field="name"
        )

    @staticmethod
    @query
    def resolve_license_statistics(ctx: ApiContext, customer_id: Any = None) -> LicenseStatistics:
        queryset = filter_licenses(ctx, visible_licenses(ctx), {"customer_id": customer_id})
        month_start = ctx.now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        counts = queryset.aggregate(
            total=Count("pk"),
            expiring_30=Count("pk", filter=expiring_q(ctx, 30)),
            expiring_60=Count("pk", filter=expiring_q(ctx, 60)),
            expiring_90=Count("pk", filter=expiring_q(ctx, 90)),
            issued=Count("pk", filter=Q(created_at__gte=month_start)),
            trials_open=Count(
                "pk",
                filter=Q(kind=LicenseKind.TRIAL, status=LicenseStatus.ACTIVE)
                & Q(term_expires_at__gt=ctx.now),
            ),
            **{
                f"status_{status.value}": Count("pk", filter=Q(status=status.value))
                for status in LicenseStatus
            },
        )
        return LicenseStatistics(
            total=counts["total"],
            by_status=[
                LicenseStatusCount(status=status.value, count=counts[f"status_{status.value}"])
                for status in LicenseStatus
            ],
            expiring_within_30_days=counts["expiring_30"],
            expiring_within_60_days=counts["expiring_60"],
            expiring_within_90_days=counts["expiring_90"],
            issued_this_month=counts["issued"],
            trials_open=counts["trials_open"],
        )

    @staticmethod
    def resolve_licensing_public_key(root: Any, info: Any) -> LicensingPublicKey:
        signer = get_signer()
        return LicensingPublicKey(
            kid=signer.kid, algorithm="Ed25519", public_key=public_key_b64(signer.public_key)
        )
