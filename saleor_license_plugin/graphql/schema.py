"""The schema, and a way to extend it (the Saleor-backed fields the plugin adds inside Saleor).

    schema = build_schema(extra_mutation_fields={"checkout_license_lines_add": Add.Field()})

Keys are snake_case field names (shown camelCase); values graphene fields. Resolvers receive an
:class:`~saleor_license_plugin.graphql.context.ApiContext` as ``info.context``.
"""

from __future__ import annotations

from typing import Any

import graphene

from saleor_license_plugin.graphql.checkout import CheckoutLicenseLinesAdd
from saleor_license_plugin.graphql.mutations import Mutation
from saleor_license_plugin.graphql.queries import Query


def build_schema(
    extra_query_fields: dict[str, Any] | None = None,
    extra_mutation_fields: dict[str, Any] | None = None,
) -> graphene.Schema:
    query = type("Query", (Query,), dict(extra_query_fields or {}))
    fields = {"checkout_license_lines_add": CheckoutLicenseLinesAdd.Field()}
    mutation = type("Mutation", (Mutation,), {**fields, **(extra_mutation_fields or {})})
    return graphene.Schema(query=query, mutation=mutation)


schema = build_schema()
