"""Batch loaders: related rows of a page of results in one query instead of one per row.

graphene 2 resolves a list field by field; a resolver that queries per row makes a page of
``licenses(first: 100)`` cost 100 queries more. A loader collects the keys the page asks for
and answers them together (``promise``'s DataLoader, which graphene 2 and Saleor use). One
loader per request, kept on the ApiContext, so nothing is cached across requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from promise import Promise
from promise.dataloader import DataLoader

from saleor_license_plugin.graphql.context import ApiContext
from saleor_license_plugin.models import AutoRenewal


class LastRenewalAttemptLoader(DataLoader):
    """License id → its latest auto-renewal row with at least one attempt (or None)."""

    def batch_load_fn(self, license_ids: Iterable[int]) -> Promise:
        ids = list(license_ids)
        latest: dict[int, AutoRenewal] = {}
        # One row per license and period, so a license has few; newest first, first one wins
        # (portable: the standalone server runs on SQLite, which has no DISTINCT ON).
        rows = (
            AutoRenewal.objects.filter(license_id__in=ids)
            .exclude(attempts=0)
            .order_by("-updated_at", "-pk")
        )
        for row in rows:
            latest.setdefault(row.license_id, row)
        return Promise.resolve([latest.get(pk) for pk in ids])


def load(ctx: ApiContext, loader: type[DataLoader], key: Any) -> Promise:
    """``loader``'s answer for ``key``, batched with every other key of this request."""
    instance = ctx.loaders.get(loader.__name__)
    if instance is None:
        instance = ctx.loaders[loader.__name__] = loader()
    return instance.load(key)
