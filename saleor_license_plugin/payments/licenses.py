"""What a payment event means for licenses: a chargeback suspends the order's licenses."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from saleor_license_plugin.licensing.errors import LicenseError
from saleor_license_plugin.licensing.lifecycle import suspend_license
from saleor_license_plugin.models import License, LicenseStatus

logger = logging.getLogger(__name__)


def suspend_for_chargeback(order_refs: Iterable[str], *, provider: str, reference: str) -> int:
    """Suspend every active license bought with the order (known by any of ``order_refs``: the
    order's id, global id or number). Idempotent per license and payment reference."""
    refs = [ref for ref in order_refs if ref]
    if not refs:
        return 0
    suspended = 0
    licenses = License.objects.filter(
        origin_order_id__in=refs, status__in=(LicenseStatus.ACTIVE, LicenseStatus.PENDING_PAYMENT)
    )
    for license_id in licenses.values_list("pk", flat=True):
        try:
            suspend_license(
                license_id,
                reason=f"chargeback ({provider})",
                idempotency_key=f"chargeback:{provider}:{reference}:{license_id}",
                actor=f"payment:{provider}",
            )
            suspended += 1
        except LicenseError as exc:
            logger.warning(
                "Could not suspend a license after a chargeback",
                extra={"license_id": license_id, "code": exc.code.value},
            )
    return suspended
