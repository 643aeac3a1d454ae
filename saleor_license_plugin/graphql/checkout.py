"""``checkoutLicenseLinesAdd``: license lines into a host's checkout, priced on the server.

The mutation is part of the one schema everywhere (so storefront documents validate against
it), but only a host that has checkouts can serve it: inside Saleor, ``LicensePlugin.webhook``
passes a :class:`~saleor_license_plugin.licensing.ports.CheckoutHost` into the API context;
the standalone server has none and answers ``NOT_FOUND``.
"""

from __future__ import annotations

from typing import Any

import graphene

from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.graphql.core import BaseMutation, permission_denied, text
from saleor_license_plugin.graphql.subscriptions import SubscriptionLineInput, line_details
from saleor_license_plugin.graphql.types import LicenseActionEnum, LicenseQuote, quote_value
from saleor_license_plugin.licensing.checkout_lines import LineInput
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.ports import AddedLine, CheckoutHost
from saleor_license_plugin.licensing.pricing import LineAction

MAX_LINES = 50


class CheckoutLicenseLineInput(graphene.InputObjectType):
    variant_id = graphene.ID(required=True, description="The edition or add-on variant.")
    action = LicenseActionEnum(required=True)
    license_key = graphene.String(description="The key the line acts on (every action but NEW).")
    deployment_id = graphene.String(description="A deployment's public id, e.g. D-7KQ2MXW9.")
    years = graphene.Int(description="Renewals: years (default 1).")
    quantity = graphene.Int(description="NEW: licenses; EXPANSION: add-on units (default 1).")
    maintenance_years = graphene.Int(description="NEW: years of maintenance (default 0).")
    add_on = graphene.String(description="EXPANSION: the add-on code, checked against the variant.")
    subscription = graphene.InputField(
        lambda: SubscriptionLineInput, description="SUBSCRIBE: the plan's order details."
    )
    auto_renew = graphene.Boolean(
        description="Renew this license automatically before it expires, on the card this "
        "checkout is paid with (Stripe, saved for off-session payments)."
    )


class CheckoutLicenseLine(graphene.ObjectType):
    id = graphene.ID(required=True, description="The checkout line's id.")
    quantity = graphene.Int(required=True)
    quote = graphene.Field(LicenseQuote, required=True)


def checkout_host(ctx: ApiContext, field: str) -> CheckoutHost:
    """The host's checkouts; ``NOT_FOUND`` (on ``field``) where the host has none."""
    if ctx.checkout is None:
        raise LicenseError(
            LicenseErrorCode.NOT_FOUND, "Checkouts are served inside Saleor only.", field
        )
    return ctx.checkout


def buyer_checkout(ctx: ApiContext, lines: Any, maximum: int, field: str) -> CheckoutHost:
    """:func:`checkout_host` for a signed-in buyer adding 1 to ``maximum`` ``lines`` (the
    argument ``field``)."""
    host = checkout_host(ctx, "checkoutId")
    if not ctx.principal.is_authenticated:
        raise permission_denied("Sign in to buy or change licenses.")
    if not lines or len(lines) > maximum:
        raise LicenseError(LicenseErrorCode.INVALID, f"Send 1 to {maximum} {field}.", field)
    return host


def added_lines(added: list[AddedLine]) -> list[CheckoutLicenseLine]:
    """The lines a checkout mutation added, as it answers them."""
    return [
        CheckoutLicenseLine(id=a.line_id, quantity=a.quantity, quote=quote_value(a.priced))
        for a in added
    ]


def _count(value: Any, default: int) -> int:
    return default if value is None else int(value)


class CheckoutLicenseLinesAdd(BaseMutation):
    checkout_id = graphene.ID(description="The checkout the lines were added to.")
    lines = graphene.List(graphene.NonNull(CheckoutLicenseLine))

    class Arguments:
        checkout_id = graphene.ID(required=True)
        lines = graphene.List(graphene.NonNull(CheckoutLicenseLineInput), required=True)

    class Meta:
        description = (
            "Add license lines to your checkout, priced on the server. Each line is its own "
            "checkout line and is checked again at checkoutComplete."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, checkout_id: Any = None, lines: Any = None) -> Any:
        host = buyer_checkout(ctx, lines, MAX_LINES, "lines")
        inputs = [
            LineInput(
                variant_id=text(line.get("variant_id"), "variantId", maximum=200, required=True),
                action=LineAction(line["action"]),
                license_key=text(line.get("license_key"), "licenseKey", maximum=100) or None,
                deployment_id=text(line.get("deployment_id"), "deploymentId", maximum=32) or None,
                years=_count(line.get("years"), 1),
                quantity=_count(line.get("quantity"), 1),
                maintenance_years=_count(line.get("maintenance_years"), 0),
                add_on=text(line.get("add_on"), "addOn", maximum=64) or None,
                auto_renew=bool(line.get("auto_renew")),
                subscription=line_details(line.get("subscription")),
            )
            for line in lines
        ]
        checkout_gid = text(checkout_id, "checkoutId", maximum=200, required=True)
        checkout_gid, added = host.add_license_lines(
            checkout_gid, ctx.principal, inputs, client_ip=ctx.client_ip
        )
        return cls.success(checkout_id=checkout_gid, lines=added_lines(added))
