"""The plugin's one schema, the same in Saleor and standalone (``checkoutLicenseLinesAdd``
answers NOT_FOUND where the host has no checkouts). Resolvers receive an
:class:`~saleor_license_plugin.graphql.context.ApiContext` as ``info.context``.
"""

from __future__ import annotations

import graphene

from saleor_license_plugin.graphql.checkout import CheckoutLicenseLinesAdd
from saleor_license_plugin.graphql.mutations import Mutation
from saleor_license_plugin.graphql.queries import Query


class AllMutations(Mutation):
    checkout_license_lines_add = CheckoutLicenseLinesAdd.Field()

    class Meta:
        name = "Mutation"


schema = graphene.Schema(query=Query, mutation=AllMutations)
