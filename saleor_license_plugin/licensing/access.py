"""The one access rule, and the one way to find a deployment by its public id.

A license or deployment is visible to its owner, to the reseller who manages it for the owner,
and to staff. Anyone else is told it does not exist, in the same words as for one that really
does not exist (no existence oracle).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.models import Deployment, License

MAX_DEPLOYMENT_ID = 32
DEPLOYMENT_NOT_FOUND = "No such deployment."


def _visible(principal: Principal) -> Q | None:
    """``Principal.can_see`` as a query."""
    if principal.is_staff:
        return None
    return Q(owner_id=principal.user_id) | Q(reseller_id=principal.user_id)


def visible_licenses(principal: Principal) -> QuerySet[License]:
    """Licenses the caller owns or resells; every license for staff (signed-in callers only)."""
    rule = _visible(principal)
    return License.objects.all() if rule is None else License.objects.filter(rule)


def visible_deployments(principal: Principal) -> QuerySet[Deployment]:
    rule = _visible(principal)
    return Deployment.objects.all() if rule is None else Deployment.objects.filter(rule)


def normalize_deployment_id(value: Any, field: str = "deploymentId") -> str:
    """``" d-7kq2mxw9 "`` -> ``"D-7KQ2MXW9"``; ``INVALID`` for anything that cannot be one."""
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_DEPLOYMENT_ID:
        raise LicenseError(
            LicenseErrorCode.INVALID, "deploymentId must be a deployment's public id.", field
        )
    public_id = value.strip().upper()
    if not public_id.isprintable() or not public_id.isascii():
        raise LicenseError(
            LicenseErrorCode.INVALID, "deploymentId must be a deployment's public id.", field
        )
    return public_id


def serves(deployment: Deployment, owner_id: str, reseller_id: str = "") -> bool:
    """The deployment is the owner's, or managed by the owner's reseller: the deployments a
    license (of ``owner_id``, resold by ``reseller_id``) may be bound to."""
    return deployment.owner_id == owner_id or bool(
        reseller_id and deployment.reseller_id == reseller_id
    )


def find_deployment(value: Any, field: str = "deploymentId") -> Deployment | None:
    """The deployment with this public id (any owner), or None."""
    return Deployment.objects.filter(public_id=normalize_deployment_id(value, field)).first()


def deployment_not_found(field: str = "deploymentId") -> LicenseError:
    return LicenseError(LicenseErrorCode.NOT_FOUND, DEPLOYMENT_NOT_FOUND, field)


def visible_deployment(value: Any, principal: Principal, field: str = "deploymentId") -> Deployment:
    """A deployment the caller may use; ``NOT_FOUND`` for an unknown one and for anyone
    else's alike."""
    deployment = find_deployment(value, field)
    if deployment is None or not principal.can_see(deployment):
        raise deployment_not_found(field)
    return deployment
