"""What every resolver may use: who asks, from where, against which catalog, at what time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from saleor_license_plugin.licensing.ports import Catalog, CheckoutHost, Principal


@dataclass
class ApiContext:
    request: HttpRequest | None
    principal: Principal
    catalog: Catalog
    client_ip: str = "unknown"
    now: datetime = field(default_factory=timezone.now)
    checkout: CheckoutHost | None = None  # a host with checkouts (Saleor)
    # Per-request batch loaders (graphql/loaders.py), one per kind, so a list of 100 licenses
    # asking for the same related rows costs one query, not 100.
    loaders: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        """How events name the caller."""
        return f"user:{self.principal.user_id}" if self.principal.user_id else "anonymous"
