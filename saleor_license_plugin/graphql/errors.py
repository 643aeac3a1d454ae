"""Codes of top-level errors about the request itself, beside the refusals'
:class:`~saleor_license_plugin.licensing.errors.LicenseErrorCode`.

They appear only in ``errors[].extensions.exception.code`` at the top level of a GraphQL
answer, never in a mutation's ``errors { code }`` (so they are not part of the schema's enum).
Saleor's own endpoint names these by exception class; these names follow the
``GRAPHQL_PARSE_FAILED`` / ``GRAPHQL_VALIDATION_FAILED`` convention of Apollo and others.
"""

from __future__ import annotations

from enum import StrEnum


class RequestErrorCode(StrEnum):
    # the query text is not GraphQL
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    # the document does not validate against the schema
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    # over a query limit (nesting, depth, fields, aliases, mutations, cost)
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    # an unexpected failure, logged server-side; the message has no detail
    INTERNAL_ERROR = "INTERNAL_ERROR"
