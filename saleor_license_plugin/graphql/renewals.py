"""Renewals in the API: a reminder's link becomes a checkout; customers opt out of reminders."""

from __future__ import annotations

from typing import Any

import graphene

from saleor_license_plugin.conf import get_settings
from saleor_license_plugin.fulfillment.reminders import is_opted_out, set_opt_out
from saleor_license_plugin.graphql.checkout import CheckoutLicenseLine, added_lines, checkout_host
from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.graphql.core import (
    BaseMutation,
    from_global_id,
    permission_denied,
    require_user,
    text,
)
from saleor_license_plugin.graphql.types import LicenseType
from saleor_license_plugin.licensing import lifecycle
from saleor_license_plugin.licensing.checkout_lines import LineInput
from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.licensing.renewals import REMINDED, read_link_token
from saleor_license_plugin.models import License


class RenewalCheckoutCreate(BaseMutation):
    checkout_id = graphene.ID(description="A new checkout holding the renewal lines.")
    lines = graphene.List(graphene.NonNull(CheckoutLicenseLine))

    class Arguments:
        token = graphene.String(required=True, description="The token of a renewal link.")

    class Meta:
        description = (
            "Turn a renewal reminder's link into a checkout with a one-year renewal line for "
            "every license in it (RENEW_LICENSE or RENEW_MAINTENANCE), priced as "
            "checkoutLicenseLinesAdd prices them. Only the customer the link was sent to can "
            "use it; licenses revoked or suspended since are left out."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, token: Any = None) -> Any:
        link = read_link_token(
            text(token, "token", maximum=4096, required=True), get_settings().renewal_link_days
        )
        host = checkout_host(ctx, "token")
        user_id = require_user(ctx)
        if link.owner_id != user_id:
            raise permission_denied("This renewal link was sent to another customer.")
        licenses = License.objects.in_bulk([pk for pk, _ in link.items])
        lines = [
            LineInput(
                variant_id=licenses[pk].product_code,
                action=kind.line_action,
                license_key=licenses[pk].display_key(),
                years=1,
            )
            for pk, kind in link.items
            if pk in licenses
            and licenses[pk].owner_id == user_id
            and licenses[pk].status in REMINDED
        ]
        if not lines:
            raise LicenseError(
                LicenseErrorCode.NOTHING_TO_RENEW, "Nothing in this link can be renewed.", "token"
            )
        checkout_id, added = host.create_checkout(ctx.principal, lines, client_ip=ctx.client_ip)
        return cls.success(checkout_id=checkout_id, lines=added_lines(added))


class LicenseRemindersSet(BaseMutation):
    reminders_opted_out = graphene.Boolean()

    class Arguments:
        opt_out = graphene.Boolean(required=True, description="true: no renewal reminders.")

    class Meta:
        description = "Turn your renewal reminders off or on again."

    @classmethod
    def perform(cls, ctx: ApiContext, opt_out: Any = None) -> Any:
        preference = set_opt_out(require_user(ctx), bool(opt_out))
        return cls.success(reminders_opted_out=preference.reminders_opted_out)


class LicenseAutoRenewSet(BaseMutation):
    license = graphene.Field(LicenseType)

    class Arguments:
        id = graphene.ID(required=True, description="The license's global id.")
        enabled = graphene.Boolean(required=True)

    class Meta:
        description = (
            "Turn auto-renew on or off for a license you own or manage. Turning it on needs a "
            "card saved when the license was paid for (AUTO_RENEW_NEEDS_CARD otherwise)."
        )

    @classmethod
    def perform(cls, ctx: ApiContext, id: Any = None, enabled: Any = None) -> Any:
        require_user(ctx)
        pk = from_global_id(id, "License")
        license = License.objects.filter(pk=pk).first()
        if license is None or not ctx.principal.can_see(license):
            raise LicenseError(LicenseErrorCode.NOT_FOUND, "License not found.", "id")
        changed = lifecycle.set_auto_renew(
            license.pk, enabled=bool(enabled), actor=ctx.actor, now=ctx.now
        )
        return cls.success(license=changed)


class LicenseReminderPreference(graphene.ObjectType):
    opted_out = graphene.Boolean(required=True)


def resolve_license_reminder_preference(root: Any, info: Any) -> LicenseReminderPreference:
    from saleor_license_plugin.graphql.core import context

    return LicenseReminderPreference(opted_out=is_opted_out(require_user(context(info))))
