"""The plugin's one schema, the same in Saleor and standalone (``checkoutLicenseLinesAdd`` and
``renewalCheckoutCreate`` answer NOT_FOUND where the host has no checkouts). Resolvers receive
an :class:`~saleor_license_plugin.graphql.context.ApiContext` as ``info.context``.
"""

from __future__ import annotations

import graphene

from saleor_license_plugin.graphql.billing import (
    BillingContactCreate,
    BillingContactDelete,
    BillingContactSetDefault,
    BillingContactType,
    BillingContactUpdate,
    InvoiceCountableConnection,
    InvoiceDownload,
    InvoiceFilterInput,
    InvoiceType,
    resolve_billing_contacts,
    resolve_invoice,
    resolve_invoices,
)
from saleor_license_plugin.graphql.checkout import CheckoutLicenseLinesAdd
from saleor_license_plugin.graphql.core import connection_field
from saleor_license_plugin.graphql.mutations import Mutation
from saleor_license_plugin.graphql.partners import PartnerMutations, PartnerQueries
from saleor_license_plugin.graphql.provisioning import (
    SubscriptionAutoRenewSet,
    SubscriptionCancelAtPeriodEnd,
    SubscriptionDomainChange,
    SubscriptionDowngradeSchedule,
    SubscriptionProvisioned,
    SubscriptionProvisioningFailed,
    SubscriptionUpgradeCheckoutCreate,
)
from saleor_license_plugin.graphql.queries import Query
from saleor_license_plugin.graphql.renewals import (
    LicenseAutoRenewSet,
    LicenseReminderPreference,
    LicenseRemindersSet,
    RenewalCheckoutCreate,
    resolve_license_reminder_preference,
)
from saleor_license_plugin.graphql.subscriptions import (
    SubscriptionBillCheckoutCreate,
    SubscriptionCountableConnection,
    SubscriptionUsageReport,
    resolve_subscriptions,
)


class AllQueries(Query, PartnerQueries):
    license_reminder_preference = graphene.Field(
        LicenseReminderPreference,
        required=True,
        description="Your renewal reminder choice (signed-in customers).",
        resolver=resolve_license_reminder_preference,
    )
    billing_contacts = graphene.List(
        graphene.NonNull(BillingContactType),
        required=True,
        description="Your billing contacts, the default first (signed-in customers).",
        resolver=resolve_billing_contacts,
    )
    invoices = connection_field(
        InvoiceCountableConnection,
        filter=InvoiceFilterInput(),
        description="Your invoices, newest first; staff see all.",
        resolver=resolve_invoices,
    )
    invoice = graphene.Field(
        InvoiceType,
        id=graphene.ID(required=True),
        description="One invoice; null if there is none the caller may see.",
        resolver=resolve_invoice,
    )

    subscriptions = connection_field(
        SubscriptionCountableConnection,
        description="Your cloud/SaaS subscriptions (and your customers'); staff see all.",
        resolver=resolve_subscriptions,
    )

    class Meta:
        name = "Query"


class AllMutations(Mutation, PartnerMutations):
    checkout_license_lines_add = CheckoutLicenseLinesAdd.Field()
    renewal_checkout_create = RenewalCheckoutCreate.Field()
    license_reminders_set = LicenseRemindersSet.Field()
    license_auto_renew_set = LicenseAutoRenewSet.Field()
    subscription_usage_report = SubscriptionUsageReport.Field()
    subscription_bill_checkout_create = SubscriptionBillCheckoutCreate.Field()
    subscription_provisioned = SubscriptionProvisioned.Field()
    subscription_provisioning_failed = SubscriptionProvisioningFailed.Field()
    subscription_upgrade_checkout_create = SubscriptionUpgradeCheckoutCreate.Field()
    subscription_downgrade_schedule = SubscriptionDowngradeSchedule.Field()
    subscription_cancel_at_period_end = SubscriptionCancelAtPeriodEnd.Field()
    subscription_auto_renew_set = SubscriptionAutoRenewSet.Field()
    subscription_domain_change = SubscriptionDomainChange.Field()
    billing_contact_create = BillingContactCreate.Field()
    billing_contact_update = BillingContactUpdate.Field()
    billing_contact_set_default = BillingContactSetDefault.Field()
    billing_contact_delete = BillingContactDelete.Field()
    invoice_download = InvoiceDownload.Field()

    class Meta:
        name = "Mutation"


schema = graphene.Schema(query=AllQueries, mutation=AllMutations)
