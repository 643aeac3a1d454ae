"""Who is calling, in Saleor's terms: global ids and Saleor's JWT into a plain Principal."""

from __future__ import annotations

from typing import Any

import graphene
from django.http import HttpRequest

from saleor_license_plugin.licensing.ports import Principal


def user_global_id(user_pk: Any) -> str:
    return graphene.Node.to_global_id("User", user_pk)


def variant_global_id(variant_pk: Any) -> str:
    return graphene.Node.to_global_id("ProductVariant", variant_pk)


def decode_global_id(global_id: str, type_name: str) -> str | None:
    """The primary key in a global id of ``type_name``; None for anything else."""
    try:
        kind, pk = graphene.Node.from_global_id(global_id)
    except Exception:  # graphene 2 raises assorted errors for garbage input
        return None
    return pk if kind == type_name and pk else None


def principal_for_user(user: Any) -> Principal:
    """The plain principal of a Saleor user (or anonymous)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Principal()
    from saleor.permission.enums import get_permission_names

    names = frozenset(get_permission_names(user.effective_permissions))
    return Principal(user_global_id(user.pk), user.email, names)


def principal_from_request(request: HttpRequest) -> Principal:
    """Saleor's own JWT (``Authorization: Bearer``), validated the way Saleor's API does."""
    import jwt
    from saleor.core.auth import get_token_from_request
    from saleor.core.jwt import get_user_from_access_payload, is_saleor_token, jwt_decode

    token = get_token_from_request(request)
    if not token or not is_saleor_token(token):
        return Principal()
    try:
        user = get_user_from_access_payload(jwt_decode(token), request)
    except jwt.PyJWTError:
        return Principal()
    return principal_for_user(user)
