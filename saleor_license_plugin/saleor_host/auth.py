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
    if not (user.is_staff or user.is_superuser):
        # Saleor grants permissions through permission groups, whose members must be staff
        # (permissionGroupCreate/Update refuse anyone else), and sets ``is_staff`` from an app
        # token's permissions: a customer has none. Not asking saves a query on every
        # customer's request; a non-staff user given permissions some other way is refused
        # staff access here (never granted more).
        return Principal(user_global_id(user.pk), user.email)
    from saleor.permission.enums import get_permission_names

    names = frozenset(get_permission_names(user.effective_permissions))
    return Principal(user_global_id(user.pk), user.email, names)


def principal_from_request(request: HttpRequest) -> Principal:
    """Saleor's own JWT (``Authorization: Bearer``), validated the way Saleor's API does.

    A token Saleor issued to an app for a user (``type: thirdparty``, what the Dashboard hands
    an app's page) counts only when it was issued to this plugin's Dashboard app (claim
    ``app``: an installed, active App whose identifier is the manifest's id) and carries
    MANAGE_ORDERS among its permissions (the app's intersected with the user's); any other
    app's token is anonymous here. Expired tokens and bad signatures are anonymous too."""
    import jwt
    from saleor.core.auth import get_token_from_request
    from saleor.core.jwt import (
        APP_KEY_FIELD,
        JWT_THIRDPARTY_ACCESS_TYPE,
        get_user_from_access_payload,
        is_saleor_token,
        jwt_decode,
    )

    token = get_token_from_request(request)
    if not token or not is_saleor_token(token):
        return Principal()
    try:
        payload = jwt_decode(token)  # signature and expiry
        app_token = APP_KEY_FIELD in payload or payload.get("type") == JWT_THIRDPARTY_ACCESS_TYPE
        if app_token and not is_dashboard_app(payload.get(APP_KEY_FIELD)):
            return Principal()
        user = get_user_from_access_payload(payload, request)
    except jwt.PyJWTError:
        return Principal()
    principal = principal_for_user(user)
    if app_token and not principal.is_staff:
        return Principal()
    return principal


def is_dashboard_app(app_global_id: Any) -> bool:
    """Whether a token's ``app`` claim names this plugin's Dashboard app, installed and active."""
    from saleor.app.models import App

    from saleor_license_plugin.http.dashboard import APP_ID

    pk = decode_global_id(app_global_id, "App") if isinstance(app_global_id, str) else None
    if pk is None or not pk.isdigit():
        return False
    return (
        App.objects.not_removed()
        .filter(pk=int(pk), identifier=APP_ID, is_active=True, is_installed=True)
        .exists()
    )
