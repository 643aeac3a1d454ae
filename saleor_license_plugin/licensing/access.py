"""The one access rule, and the one way to find a deployment or an end customer by its public id.

A license or deployment is visible to its owner, to the partner who manages it for the owner
(``reseller_id``: a partner's user id), and to staff. The owner of a license a partner bought
for one of its end customers is that customer: its account once linked, else the customer
record (``customer:C-…``, which no caller ever is), so the partner sees such a license as its
manager and the customer, signed in, as its owner.

An end customer record is visible to its partner and to staff.

Anyone else is told a license, deployment or customer does not exist, in the same words as for
one that really does not exist (no existence oracle).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import Principal
from saleor_license_plugin.models import Deployment, EndCustomer, License, Subscription

MAX_DEPLOYMENT_ID = 32
DEPLOYMENT_NOT_FOUND = "No such deployment."
CUSTOMER_NOT_FOUND = "No such customer."


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


def visible_subscription(pk: int, principal: Principal, field: str = "id") -> Subscription:
    """A subscription whose license the caller may see (owner, its partner, staff);
    ``NOT_FOUND`` for an unknown one and for anyone else's alike."""
    found = Subscription.objects.select_related("license").filter(pk=pk).first()
    if found is None or not principal.can_see(found.license):
        raise LicenseError(LicenseErrorCode.NOT_FOUND, "No such subscription.", field)
    return found


def manages(principal: Principal, record: License | Deployment) -> bool:
    """The caller is the partner managing this license or deployment (or staff): it may move
    it between customers, not just see it."""
    if principal.is_staff:
        return True
    return principal.user_id is not None and record.reseller_id == principal.user_id


def visible_customers(principal: Principal) -> QuerySet[EndCustomer]:
    """The caller's end customers if it is a partner; every one for staff; none otherwise."""
    if principal.is_staff:
        return EndCustomer.objects.all()
    if principal.user_id is None:
        return EndCustomer.objects.none()
    return EndCustomer.objects.filter(partner__user_id=principal.user_id)


def normalize_customer_id(value: Any, field: str = "customerId") -> str:
    """``" c-7kq2mxw9 "`` -> ``"C-7KQ2MXW9"``; ``INVALID`` for anything that cannot be one."""
    return normalize_deployment_id(value, field)


def visible_customer(value: Any, principal: Principal, field: str = "customerId") -> EndCustomer:
    """An end customer the caller manages (any for staff); ``NOT_FOUND`` for an unknown one
    and for another partner's alike."""
    public_id = normalize_customer_id(value, field)
    customer = (
        visible_customers(principal).select_related("partner").filter(public_id=public_id).first()
    )
    if customer is None:
        raise LicenseError(LicenseErrorCode.NOT_FOUND, CUSTOMER_NOT_FOUND, field)
    return customer


def normalize_deployment_id(value: Any, field: str = "deploymentId") -> str:
    """``" d-7kq2mxw9 "`` -> ``"D-7KQ2MXW9"``; ``INVALID`` for anything that cannot be one."""
    message = f"{field} must be a public id, e.g. D-7KQ2MXW9."
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_DEPLOYMENT_ID:
        raise LicenseError(LicenseErrorCode.INVALID, message, field)
    public_id = value.strip().upper()
    if not public_id.isprintable() or not public_id.isascii():
        raise LicenseError(LicenseErrorCode.INVALID, message, field)
    return public_id


def serves(deployment: Deployment, owner_id: str, reseller_id: str = "") -> bool:
    """The deployments a license (of ``owner_id``, managed by partner ``reseller_id``) may be
    bound to: the owner's own, or one the same partner manages that belongs to no end
    customer (an end customer's deployment serves that customer's licenses only, through
    the owner it shares with them)."""
    return deployment.owner_id == owner_id or bool(
        reseller_id and deployment.reseller_id == reseller_id and deployment.customer_id is None
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
