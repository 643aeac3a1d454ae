"""What every resolver may use: who asks, from where, against which catalog, at what time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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

    @property
    def actor(self) -> str:
        """How events name the caller."""
        return f"user:{self.principal.user_id}" if self.principal.user_id else "anonymous"
