"""Billing contacts: who invoices are made out to and emailed to.

A customer (or partner) keeps a few contacts, one of them the default. A checkout names one in
its metadata (``license.billing_contact``: the contact's global id), checked at
``checkoutComplete``; with none named the default contact is billed, and with no contact at all
the order's billing address and the buyer's email.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from saleor_license_plugin.licensing.errors import LicenseError, LicenseErrorCode
from saleor_license_plugin.models import BillingContact

CONTACT_KEY = "license.billing_contact"  # checkout (and so order) metadata
CONTACT_TYPE = "BillingContact"
MAX_CONTACTS = 50

# Input field -> (most characters, required).
LIMITS: dict[str, tuple[int, bool]] = {
    "name": (255, True),
    "company": (255, False),
    "email": (254, True),
    "phone": (32, False),
    "street_address_1": (255, False),
    "street_address_2": (255, False),
    "city": (255, False),
    "postal_code": (32, False),
    "country_area": (128, False),
    "country": (2, False),
    "vat_number": (32, False),
}


@dataclass(frozen=True)
class BillTo:
    """What an invoice is made out to, as printed: a contact, or the order's billing address."""

    name: str = ""
    company: str = ""
    email: str = ""
    phone: str = ""
    street_address_1: str = ""
    street_address_2: str = ""
    city: str = ""
    postal_code: str = ""
    country_area: str = ""
    country: str = ""
    vat_number: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BillTo:
        names = {f.name for f in fields(cls)}
        return cls(**{k: str(v or "") for k, v in data.items() if k in names})

    @classmethod
    def of(cls, contact: BillingContact) -> BillTo:
        return cls(**{name: getattr(contact, name) for name in LIMITS})

    def lines(self) -> list[str]:
        """The address block, line by line, empty lines left out."""
        place = " ".join(part for part in (self.postal_code, self.city) if part)
        area = ", ".join(part for part in (self.country_area, self.country) if part)
        rows = [
            self.company,
            self.name,
            self.street_address_1,
            self.street_address_2,
            place,
            area,
        ]
        if self.vat_number:
            rows.append(f"VAT {self.vat_number}")
        return [row for row in rows if row]


def _invalid(message: str, field: str) -> LicenseError:
    return LicenseError(LicenseErrorCode.INVALID, message, field)


def clean_contact(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, str]:
    """Validated contact fields (camelCase names in errors, as the API names them)."""
    cleaned: dict[str, str] = {}
    for name, (maximum, required) in LIMITS.items():
        field = _camel(name)
        if name not in data or data[name] is None:
            if required and not partial:
                raise LicenseError(LicenseErrorCode.REQUIRED, "This field is required.", field)
            continue
        value = data[name]
        if not isinstance(value, str):
            raise _invalid("Expected text.", field)
        value = value.strip()
        if required and not value:
            raise LicenseError(LicenseErrorCode.REQUIRED, "This field is required.", field)
        if len(value) > maximum or not value.isprintable():
            raise _invalid(f"At most {maximum} printable characters.", field)
        cleaned[name] = value
    if "email" in cleaned:
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            raise _invalid("Not an e-mail address.", "email") from None
    if cleaned.get("country"):
        country = cleaned["country"].upper()
        if len(country) != 2 or not country.isalpha() or not country.isascii():
            raise _invalid("A two-letter country code (ISO 3166-1), e.g. PL.", "country")
        cleaned["country"] = country
    return cleaned


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() if not part.isdigit() else part for part in rest)


def _not_found(field: str = "id") -> LicenseError:
    return LicenseError(LicenseErrorCode.NOT_FOUND, "No such billing contact.", field)


def contacts_of(owner_id: str) -> list[BillingContact]:
    return list(BillingContact.objects.filter(owner_id=owner_id).order_by("-is_default", "pk"))


def owned_contact(owner_id: str, pk: int, field: str = "id") -> BillingContact:
    contact = BillingContact.objects.filter(pk=pk, owner_id=owner_id).first()
    if contact is None:
        raise _not_found(field)
    return contact


def _lock_owner(owner_id: str) -> list[BillingContact]:
    """The owner's contacts, locked: default changes and the count limit serialize on them."""
    return list(BillingContact.objects.select_for_update().filter(owner_id=owner_id))


def create_contact(
    owner_id: str,
    data: Mapping[str, Any],
    *,
    make_default: bool = False,
    now: datetime | None = None,
) -> BillingContact:
    cleaned = clean_contact(data)
    now = now or timezone.now()
    with transaction.atomic():
        existing = _lock_owner(owner_id)
        if len(existing) >= MAX_CONTACTS:
            raise _invalid(f"At most {MAX_CONTACTS} billing contacts.", "input")
        default = make_default or not any(contact.is_default for contact in existing)
        if default:
            BillingContact.objects.filter(owner_id=owner_id, is_default=True).update(
                is_default=False, updated_at=now
            )
        return BillingContact.objects.create(
            owner_id=owner_id, is_default=default, created_at=now, updated_at=now, **cleaned
        )


def update_contact(
    owner_id: str,
    pk: int,
    data: Mapping[str, Any],
    *,
    make_default: bool = False,
    now: datetime | None = None,
) -> BillingContact:
    cleaned = clean_contact(data, partial=True)
    now = now or timezone.now()
    with transaction.atomic():
        _lock_owner(owner_id)
        contact = owned_contact(owner_id, pk)
        for name, value in cleaned.items():
            setattr(contact, name, value)
        if make_default and not contact.is_default:
            BillingContact.objects.filter(owner_id=owner_id, is_default=True).update(
                is_default=False, updated_at=now
            )
            contact.is_default = True
        contact.updated_at = now
        contact.save()
        return contact


def set_default(owner_id: str, pk: int, now: datetime | None = None) -> BillingContact:
    return update_contact(owner_id, pk, {}, make_default=True, now=now)


def delete_contact(owner_id: str, pk: int) -> None:
    """Delete a contact. Invoices keep what they printed; a checkout that named it fails its
    check at completion, and an order that named it is billed to its billing address."""
    with transaction.atomic():
        _lock_owner(owner_id)
        owned_contact(owner_id, pk).delete()


# --- checkouts and orders ----------------------------------------------------------------------


def contact_pk(value: Any) -> int | None:
    """The primary key in a contact's global id (``BillingContact:12``, base64), else None."""
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, _, pk = raw.partition(":")
    return int(pk) if kind == CONTACT_TYPE and pk.isdigit() and len(pk) <= 18 else None


def contact_global_id(pk: int) -> str:
    return base64.b64encode(f"{CONTACT_TYPE}:{pk}".encode()).decode()


def check_checkout_contact(metadata: Mapping[str, Any], buyer_id: str | None) -> None:
    """At ``checkoutComplete``: a contact the checkout names must be the buyer's own."""
    value = metadata.get(CONTACT_KEY)
    if value is None or (isinstance(value, str) and not value.strip()):
        return
    pk = contact_pk(value)
    if (
        pk is None
        or buyer_id is None
        or not BillingContact.objects.filter(pk=pk, owner_id=buyer_id).exists()
    ):
        raise LicenseError(
            LicenseErrorCode.BILLING_CONTACT_NOT_FOUND,
            f"The billing contact in checkout metadata {CONTACT_KEY} is not one of yours.",
            "metadata",
        )


def bill_to_for_order(
    owner_id: str, metadata: Mapping[str, Any], fallback: BillTo
) -> tuple[BillTo, str]:
    """(who the order is billed to, the contact's global id or ''): the contact the order names
    if it is still the owner's, else (none named) the owner's default contact, else the order's
    billing address. A named contact that is gone falls back to the billing address, not to
    another contact."""
    named = metadata.get(CONTACT_KEY)
    if owner_id:
        if named:
            pk = contact_pk(named)
            contact = (
                BillingContact.objects.filter(pk=pk, owner_id=owner_id).first() if pk else None
            )
        else:
            contact = BillingContact.objects.filter(owner_id=owner_id, is_default=True).first()
        if contact is not None:
            return BillTo.of(contact), contact_global_id(contact.pk)
    return fallback, ""
