"""Settings in one place: every key, its type and default, the Django settings and the Dashboard.

Values come from ``settings.SALEOR_LICENSE`` (a dict) over :data:`DEFAULTS`. Inside Saleor the
plugin's Dashboard form applies on top, per request (:func:`from_dashboard`, :func:`using`):
a Dashboard field left empty keeps the Django setting, so a value set in Django is never
silently replaced by a form default.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings as django_settings

DEFAULT_RATE_LIMITS: dict[str, str | None] = {
    "verify_ip": "60/60",
    "verify_key": "20/60",
    "activate_ip": "120/3600",
    "activate_key": "30/3600",
}

DEFAULTS: dict[str, Any] = {
    # Secret for key digests and for encrypting keys at rest. Must never change once keys exist.
    "KEY_SECRET": None,
    # Ed25519 private key (PEM, or base64 of the 32-byte seed). Empty: generated once, kept in DB.
    "SIGNING_KEY": None,
    "MIN_YEARS": 1,
    "MAX_YEARS": 10,
    "PRORATE_UPGRADES": True,
    # Upgrade floor: the quote is never below max(FLOOR_AMOUNT, FLOOR_RATE x full difference).
    "UPGRADE_FLOOR_AMOUNT": "0",
    "UPGRADE_FLOOR_RATE": "0",
    "PENDING_PAYMENT_GRACE_DAYS": 0,
    "MAX_ACTIVATIONS": 1,
    # A checkout line's quote stays valid this long (the license and price must also be unchanged).
    "QUOTE_TTL_MINUTES": 24 * 60,
    # checkoutComplete requires checkout metadata license.terms_accepted=true / license.reference.
    "REQUIRE_TERMS_ACCEPTANCE": False,
    "REQUIRE_REFERENCE": False,
    # Send the keys by email once an order is paid.
    "SEND_KEY_EMAILS": True,
    # A paid line that cannot be applied (the license changed since checkout): refund that
    # line through the order's payment automatically (staff are told either way).
    "AUTO_REFUND_FAILED_LINES": True,
    # Who is told when a paid line cannot be applied; empty: Django's ADMINS.
    "STAFF_EMAILS": [],
    # Renewal reminders: days from each expiry (term and maintenance); negative is before.
    "REMINDER_SCHEDULE": [-60, -30, -7, 0, 7],
    "REMINDERS_ENABLED": True,
    # The storefront page a reminder's renewal link opens; {token} is replaced.
    "RENEWAL_URL": "",
    "RENEWAL_LINK_DAYS": 30,
    # Where this plugin's API is reached from outside (for unsubscribe links), e.g.
    # https://shop.example/plugins/global/saleor_license_plugin/ ; empty: no link.
    "PUBLIC_API_URL": "",
    # Auto-renew: charge this many days before the expiry; retry a declined card after these
    # days (then give up: the license expires as usual).
    "AUTO_RENEW_LEAD_DAYS": 7,
    "AUTO_RENEW_RETRY_DAYS": [1, 3, 7],
    # Subscriptions: usage reports for a period are accepted this many days after it ends.
    "USAGE_LATE_DAYS": 3,
    # Subscription bills: an unpaid bill makes the subscription past due; this many days
    # after the bill was issued it is suspended, and SUBSCRIPTION_CANCEL_DAYS after that
    # cancelled (its unpaid bills written off).
    "SUBSCRIPTION_GRACE_DAYS": 7,
    "SUBSCRIPTION_CANCEL_DAYS": 21,
    # "off": anonymous verifyLicenseKey callers get PERMISSION_DENIED; "minimal": status and
    # expiries only (no owner, deployment or offers).
    "ANONYMOUS_VERIFICATION": "off",
    # "<count>/<seconds>" per client IP and per key digest; None or "" switches one off.
    "RATE_LIMITS": DEFAULT_RATE_LIMITS,
    "RATE_LIMIT_CACHE": "default",  # a Django cache alias: Redis in production
    # X-Forwarded-For hops added by trusted proxies (0: the peer address is the client).
    "TRUSTED_PROXY_HOPS": 0,
    # At most this many device deactivations per license in the window (activation churn).
    "DEACTIVATION_LIMIT": 3,
    "DEACTIVATION_WINDOW_DAYS": 30,
    # Request bodies larger than this are refused (413) before they are parsed.
    "MAX_REQUEST_BYTES": 64 * 1024,
    # GraphQL query limits, as Saleor's GRAPHQL_QUERY_MAX_COMPLEXITY, GRAPHQL_ALIAS_COUNT_LIMIT
    # and GRAPHQL_MUTATION_COUNT_LIMIT (positive numbers: system check E001). A document over
    # one is refused before execution with QUERY_TOO_COMPLEX. Depth, fields and aliases count
    # with fragments expanded; the cost is 1 per object field times the page size (`first`)
    # of every list it is in (docs/api.md, "Query limits").
    "GRAPHQL_MAX_DEPTH": 20,
    "GRAPHQL_MAX_FIELDS": 500,
    "GRAPHQL_MAX_ALIASES": 25,
    "GRAPHQL_MAX_MUTATIONS": 4,
    "GRAPHQL_MAX_COST": 2000,
    # Standalone server: the catalog JSON file (default: the packaged demo catalog).
    "CATALOG_FILE": None,
    # Dotted path of the Celery tasks' host (what they need from Saleor); None: Saleor's when
    # Saleor is installed, else none.
    "TASK_HOST": None,
    # Where the Stripe gateway sends its API requests (an emulator for staging and end-to-end
    # tests, e.g. "http://localhost:8420"); None: Stripe's own API. A Django setting, not a
    # Dashboard field: the secret key goes wherever this points.
    "STRIPE_API_BASE": None,
    # Partners: per level code, how many open trial and not-for-resale licenses a partner may
    # create, e.g. {"gold": {"trials": 10, "nfr": 2}}; a partner's own quotas override its
    # level's; a level not listed allows none.
    "PARTNER_LEVELS": {},
    # Days a trial license runs (partner trials; staff may give another number per license).
    "TRIAL_DAYS": 30,
    # Invoices (Saleor's invoiceRequest, and on payment when INVOICE_ON_PAYMENT is on).
    "INVOICE_ON_PAYMENT": False,
    "SEND_INVOICE_EMAILS": True,
    # {seq} (required) is the gap-free counter; {year} and {month} start a new sequence.
    "INVOICE_NUMBER_FORMAT": "INV-{year}-{seq:06d}",
    # The seller block of every invoice: lines of text (name first; address, VAT number).
    "INVOICE_SELLER": "",
    # Printed at the bottom: payment terms, bank details.
    "INVOICE_FOOTER": "",
    # How long an emailed download link works (it works once).
    "INVOICE_LINK_HOURS": 24,
    # Where the PDFs are kept, never at a public URL: a STORAGES alias or a storage class's
    # dotted path; None: Django's PRIVATE_FILE_STORAGE (Saleor's private storage) if set,
    # else the default storage.
    "INVOICE_STORAGE": None,
    # Subscriptions: how a new instance is requested from the merchant's system (issue 11).
    # "manual": staff enter the result through the API; "celery": a Celery task named
    # PROVISIONING_TASK is sent with the request; "webhook": the request is POSTed as JSON to
    # PROVISIONING_URL (HTTPS), signed with PROVISIONING_SECRET (HMAC-SHA256), retried with
    # backoff. The mode is also a Dashboard field; the task, URL and secret are Django
    # settings only (the secret signs what goes to the URL), and a Dashboard mode they do not
    # support is refused.
    "PROVISIONING_MODE": "manual",
    "PROVISIONING_TASK": "",
    "PROVISIONING_URL": "",
    "PROVISIONING_SECRET": "",
    # An instance's initial password is kept (sealed) at most this long for its e-mails.
    "CREDENTIALS_TTL_HOURS": 72,
}

PROVISIONING_MODES = ("manual", "celery", "webhook")

ANONYMOUS_MODES = ("off", "minimal")
MAX_TRIAL_DAYS = 365


@dataclass(frozen=True)
class PartnerQuota:
    """What a partner level may create: open trials and not-for-resale licenses."""

    trials: int = 0
    nfr: int = 0


def _partner_levels(value: Any) -> dict[str, PartnerQuota]:
    levels = {}
    for level, quota in dict(value or {}).items():
        code = str(level).strip().lower()
        if not code or len(code) > 32:
            raise ValueError("PARTNER_LEVELS: level codes have 1 to 32 characters.")
        trials, nfr = int(quota.get("trials", 0)), int(quota.get("nfr", 0))
        if trials < 0 or nfr < 0:
            raise ValueError("PARTNER_LEVELS: quotas are whole numbers >= 0.")
        levels[code] = PartnerQuota(trials, nfr)
    return levels


def _trial_days(value: Any) -> int:
    days = int(value)
    if not 1 <= days <= MAX_TRIAL_DAYS:
        raise ValueError(f"TRIAL_DAYS: 1 to {MAX_TRIAL_DAYS}.")
    return days


@dataclass(frozen=True)
class LicenseSettings:
    key_secret: bytes
    signing_key: str | None = None
    min_years: int = 1
    max_years: int = 10
    prorate_upgrades: bool = True
    upgrade_floor_amount: Decimal = Decimal("0")
    upgrade_floor_rate: Decimal = Decimal("0")
    pending_payment_grace_days: int = 0
    max_activations: int = 1
    quote_ttl_minutes: int = 24 * 60
    require_terms_acceptance: bool = False
    require_reference: bool = False
    send_key_emails: bool = True
    auto_refund_failed_lines: bool = True
    staff_emails: tuple[str, ...] = ()
    reminder_schedule: tuple[int, ...] = (-60, -30, -7, 0, 7)
    reminders_enabled: bool = True
    renewal_url: str = ""
    renewal_link_days: int = 30
    public_api_url: str = ""
    auto_renew_lead_days: int = 7
    auto_renew_retry_days: tuple[int, ...] = (1, 3, 7)
    usage_late_days: int = 3
    subscription_grace_days: int = 7
    subscription_cancel_days: int = 21
    anonymous_verification: str = "off"
    rate_limits: Mapping[str, str | None] = field(default_factory=lambda: DEFAULT_RATE_LIMITS)
    rate_limit_cache: str = "default"
    trusted_proxy_hops: int = 0
    deactivation_limit: int = 3
    deactivation_window_days: int = 30
    max_request_bytes: int = 64 * 1024
    graphql_max_depth: int = 20
    graphql_max_fields: int = 500
    graphql_max_aliases: int = 25
    graphql_max_mutations: int = 4
    graphql_max_cost: int = 2000
    catalog_file: str | None = None
    task_host: str | None = None
    stripe_api_base: str | None = None
    partner_levels: Mapping[str, PartnerQuota] = field(default_factory=dict)
    trial_days: int = 30
    invoice_on_payment: bool = False
    send_invoice_emails: bool = True
    invoice_number_format: str = "INV-{year}-{seq:06d}"
    invoice_seller: str = ""
    invoice_footer: str = ""
    invoice_link_hours: int = 24
    invoice_storage: str | None = None
    provisioning_mode: str = "manual"
    provisioning_task: str = ""
    provisioning_url: str = ""
    provisioning_secret: str = field(default="", repr=False)
    credentials_ttl_hours: int = 72

    def with_overrides(self, **overrides: Any) -> LicenseSettings:
        return replace(self, **overrides)


def _key_secret(value: Any) -> bytes:
    if value:
        return value.encode() if isinstance(value, str) else bytes(value)
    # Derived from SECRET_KEY so a fresh install works; `checks.py` warns that it should be set
    # explicitly, because rotating SECRET_KEY would otherwise orphan every stored key.
    return hashlib.sha256(
        b"saleor-license-plugin/key-secret\x00" + django_settings.SECRET_KEY.encode()
    ).digest()


_override: ContextVar[LicenseSettings | None] = ContextVar("saleor_license_settings", default=None)


@contextmanager
def using(settings: LicenseSettings) -> Iterator[LicenseSettings]:
    """Run a block with these settings: how the Saleor plugin applies its Dashboard
    configuration to everything it calls, for that request only."""
    token = _override.set(settings)
    try:
        yield settings
    finally:
        _override.reset(token)


def get_settings() -> LicenseSettings:
    if (current := _override.get()) is not None:
        return current
    return from_django_settings()


def _schedule(value: Any) -> tuple[int, ...]:
    steps = sorted({int(step) for step in value})
    if not steps or any(abs(step) > 365 for step in steps):
        raise ValueError("REMINDER_SCHEDULE: 1 or more day offsets within a year.")
    return tuple(steps)


INVOICE_NUMBER_FIELDS = frozenset({"seq", "year", "month"})
MAX_INVOICE_NUMBER = 64


def _number_format(value: Any) -> str:
    """An invoice number format: ``{seq}`` once (a format spec such as ``{seq:06d}`` allowed),
    optionally ``{year}`` and ``{month}``, at most 64 characters once formatted."""
    import string

    text = str(value or "").strip()
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        sample = text.format(seq=999999, year=2026, month=12)
    except (ValueError, KeyError, IndexError):
        fields, sample = ["?"], ""
    if fields.count("seq") != 1 or not set(fields) <= INVOICE_NUMBER_FIELDS:
        raise ValueError(
            "An invoice number format needs {seq} once and may use {year} and {month}, "
            "e.g. INV-{year}-{seq:06d}."
        )
    if not sample.strip() or len(sample) > MAX_INVOICE_NUMBER or not sample.isprintable():
        raise ValueError(f"An invoice number has at most {MAX_INVOICE_NUMBER} characters.")
    return text


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def provisioning_settings(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The provisioning settings, checked together: a mode the plugin knows, and what that
    mode needs (a task name; an HTTPS URL, plain HTTP only to this machine, and a secret of
    at least 32 characters)."""
    from urllib.parse import urlsplit

    mode = str(raw["PROVISIONING_MODE"] or "manual").strip().lower()
    if mode not in PROVISIONING_MODES:
        raise ValueError(f"PROVISIONING_MODE: one of {', '.join(PROVISIONING_MODES)}.")
    task = str(raw["PROVISIONING_TASK"] or "").strip()
    url = str(raw["PROVISIONING_URL"] or "").strip()
    secret = str(raw["PROVISIONING_SECRET"] or "")
    if mode == "celery" and not task:
        raise ValueError("PROVISIONING_MODE celery needs PROVISIONING_TASK (a task name).")
    if mode in ("celery", "webhook") and len(secret) < 32:
        raise ValueError("PROVISIONING_SECRET: at least 32 characters (signs every request).")
    if mode == "webhook":
        parts = urlsplit(url)
        loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        if not parts.hostname or not (parts.scheme == "https" or loopback):
            raise ValueError("PROVISIONING_URL: an https:// URL (http only to localhost).")
    hours = int(raw["CREDENTIALS_TTL_HOURS"])
    if not 1 <= hours <= 24 * 30:
        raise ValueError("CREDENTIALS_TTL_HOURS: 1 to 720.")
    return {
        "provisioning_mode": mode,
        "provisioning_task": task,
        "provisioning_url": url,
        "provisioning_secret": secret,
        "credentials_ttl_hours": hours,
    }


def from_django_settings() -> LicenseSettings:
    raw = {**DEFAULTS, **getattr(django_settings, "SALEOR_LICENSE", {})}
    return LicenseSettings(
        key_secret=_key_secret(raw["KEY_SECRET"]),
        signing_key=raw["SIGNING_KEY"] or None,
        min_years=int(raw["MIN_YEARS"]),
        max_years=int(raw["MAX_YEARS"]),
        prorate_upgrades=bool(raw["PRORATE_UPGRADES"]),
        upgrade_floor_amount=Decimal(str(raw["UPGRADE_FLOOR_AMOUNT"])),
        upgrade_floor_rate=Decimal(str(raw["UPGRADE_FLOOR_RATE"])),
        pending_payment_grace_days=int(raw["PENDING_PAYMENT_GRACE_DAYS"]),
        max_activations=int(raw["MAX_ACTIVATIONS"]),
        quote_ttl_minutes=int(raw["QUOTE_TTL_MINUTES"]),
        require_terms_acceptance=bool(raw["REQUIRE_TERMS_ACCEPTANCE"]),
        require_reference=bool(raw["REQUIRE_REFERENCE"]),
        send_key_emails=bool(raw["SEND_KEY_EMAILS"]),
        auto_refund_failed_lines=bool(raw["AUTO_REFUND_FAILED_LINES"]),
        staff_emails=tuple(raw["STAFF_EMAILS"] or ()),
        reminder_schedule=_schedule(raw["REMINDER_SCHEDULE"]),
        reminders_enabled=bool(raw["REMINDERS_ENABLED"]),
        renewal_url=str(raw["RENEWAL_URL"] or ""),
        renewal_link_days=int(raw["RENEWAL_LINK_DAYS"]),
        public_api_url=str(raw["PUBLIC_API_URL"] or ""),
        auto_renew_lead_days=int(raw["AUTO_RENEW_LEAD_DAYS"]),
        auto_renew_retry_days=tuple(int(days) for days in raw["AUTO_RENEW_RETRY_DAYS"]),
        usage_late_days=int(raw["USAGE_LATE_DAYS"]),
        subscription_grace_days=max(0, int(raw["SUBSCRIPTION_GRACE_DAYS"])),
        subscription_cancel_days=max(0, int(raw["SUBSCRIPTION_CANCEL_DAYS"])),
        anonymous_verification=str(raw["ANONYMOUS_VERIFICATION"] or "off"),
        rate_limits={**DEFAULT_RATE_LIMITS, **(raw["RATE_LIMITS"] or {})},
        rate_limit_cache=str(raw["RATE_LIMIT_CACHE"]),
        trusted_proxy_hops=int(raw["TRUSTED_PROXY_HOPS"] or 0),
        deactivation_limit=int(raw["DEACTIVATION_LIMIT"]),
        deactivation_window_days=int(raw["DEACTIVATION_WINDOW_DAYS"]),
        max_request_bytes=int(raw["MAX_REQUEST_BYTES"]),
        graphql_max_depth=int(raw["GRAPHQL_MAX_DEPTH"]),
        graphql_max_fields=int(raw["GRAPHQL_MAX_FIELDS"]),
        graphql_max_aliases=int(raw["GRAPHQL_MAX_ALIASES"]),
        graphql_max_mutations=int(raw["GRAPHQL_MAX_MUTATIONS"]),
        graphql_max_cost=int(raw["GRAPHQL_MAX_COST"]),
        catalog_file=raw["CATALOG_FILE"] or None,
        task_host=raw["TASK_HOST"] or None,
        stripe_api_base=str(raw["STRIPE_API_BASE"] or "").strip().rstrip("/") or None,
        partner_levels=_partner_levels(raw["PARTNER_LEVELS"]),
        trial_days=_trial_days(raw["TRIAL_DAYS"]),
        invoice_on_payment=bool(raw["INVOICE_ON_PAYMENT"]),
        send_invoice_emails=bool(raw["SEND_INVOICE_EMAILS"]),
        invoice_number_format=_number_format(raw["INVOICE_NUMBER_FORMAT"]),
        invoice_seller=str(raw["INVOICE_SELLER"] or ""),
        invoice_footer=str(raw["INVOICE_FOOTER"] or ""),
        invoice_link_hours=int(raw["INVOICE_LINK_HOURS"]),
        invoice_storage=raw["INVOICE_STORAGE"] or None,
        **provisioning_settings(raw),
    )


# --- the Dashboard form (Saleor's plugin configuration) ---------------------------------------
# Every field is text; empty means "keep the Django setting". Booleans accept true/false, yes/no,
# 1/0 (and real booleans from configurations saved by earlier versions).

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_bool(value: Any) -> bool | None:
    """True/False, or None for empty; ValueError for anything else."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("Enter true or false (or leave empty for the Django setting).")


def parse_decimal(value: Any) -> Decimal | None:
    """A finite decimal >= 0, or None for empty; ValueError otherwise."""
    if _blank(value):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("Enter a decimal number, e.g. 0 or 0.25.") from None
    if not number.is_finite() or number < 0:
        raise ValueError("Enter a decimal number, e.g. 0 or 0.25.")
    return number


def parse_days(value: Any) -> int | None:
    """A whole number >= 0, or None for empty; ValueError otherwise."""
    if _blank(value):
        return None
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError("Enter a whole number of days.")
    return int(text)


def parse_anonymous(value: Any) -> str | None:
    if _blank(value):
        return None
    mode = str(value).strip().lower()
    if mode not in ANONYMOUS_MODES:
        raise ValueError("Use 'off' or 'minimal'.")
    return mode


def parse_emails(value: Any) -> tuple[str, ...] | None:
    """Comma-separated addresses, or None for empty; ValueError for one that is not."""
    if _blank(value):
        return None
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    emails = tuple(part.strip() for part in str(value).split(",") if part.strip())
    for email in emails:
        try:
            validate_email(email)
        except ValidationError:
            raise ValueError(f"Not an e-mail address: {email[:60]}") from None
    return emails


def parse_schedule(value: Any) -> tuple[int, ...] | None:
    """``"60, 30, 7, 0, -7"``: days before expiry, 0 on the day, negative after (as merchants
    say it); None for empty."""
    if _blank(value):
        return None
    try:
        return _schedule(-int(part) for part in str(value).split(",") if part.strip())
    except ValueError:
        raise ValueError("Give days before expiry, e.g. 60, 30, 7, 0, -7.") from None


def parse_url(value: Any) -> str | None:
    if _blank(value):
        return None
    url = str(value).strip()
    if not url.startswith(("https://", "http://")) or len(url) > 500:
        raise ValueError("Give an http(s) URL.")
    return url


def parse_trial_days(value: Any) -> int | None:
    days = parse_days(value)
    if days is not None and not 1 <= days <= MAX_TRIAL_DAYS:
        raise ValueError(f"Enter 1 to {MAX_TRIAL_DAYS} days.")
    return days


def parse_partner_levels(value: Any) -> dict[str, PartnerQuota] | None:
    """``"gold: 10/2, silver: 5/1"``: per level code, open trials / not-for-resale licenses;
    None for empty."""
    if _blank(value):
        return None
    levels: dict[str, dict[str, int]] = {}
    message = "Give level: trials/nfr pairs, e.g. gold: 10/2, silver: 5/1."
    for part in str(value).split(","):
        if not part.strip():
            continue
        level, colon, quota = part.partition(":")
        trials, slash, nfr = quota.partition("/")
        if not (colon and slash and trials.strip().isdigit() and nfr.strip().isdigit()):
            raise ValueError(message)
        levels[level.strip()] = {"trials": int(trials), "nfr": int(nfr)}
    try:
        return _partner_levels(levels)
    except ValueError:
        raise ValueError(message) from None


def parse_number_format(value: Any) -> str | None:
    if _blank(value):
        return None
    return _number_format(value)


def parse_block(value: Any) -> str | None:
    """Lines of text (the seller block, the invoice footer): at most 20 lines of 200."""
    if _blank(value):
        return None
    lines = [line.rstrip() for line in str(value).strip().splitlines()]
    if len(lines) > 20 or any(len(line) > 200 or not line.isprintable() for line in lines):
        raise ValueError("At most 20 lines of 200 printable characters.")
    return "\n".join(lines)


MAX_GRACE_DAYS = 365


def parse_grace_days(value: Any) -> int | None:
    """Subscriptions' windows (late usage reports, the grace before suspending, then before
    cancelling): 0 to 365 days, or None for empty."""
    days = parse_days(value)
    if days is not None and days > MAX_GRACE_DAYS:
        raise ValueError(f"Enter 0 to {MAX_GRACE_DAYS} days.")
    return days


def parse_provisioning_mode(value: Any) -> str | None:
    """manual, celery or webhook, or None for empty. The task name, URL and secret a mode
    needs are Django settings only (the secret signs what goes to the URL), so a mode they do
    not support is refused here, not at the first subscription."""
    if _blank(value):
        return None
    mode = str(value).strip().lower()
    if mode not in PROVISIONING_MODES:
        raise ValueError(f"Use one of {', '.join(PROVISIONING_MODES)}.")
    raw = {**DEFAULTS, **getattr(django_settings, "SALEOR_LICENSE", {})}
    try:
        provisioning_settings({**raw, "PROVISIONING_MODE": mode})
    except ValueError as error:
        raise ValueError(f"Set the Django settings this mode needs first: {error}") from None
    return mode


def parse_slugs(value: Any) -> frozenset[str]:
    return frozenset(slug.strip() for slug in str(value or "").split(",") if slug.strip())


# Dashboard field -> (LicenseSettings attribute, parser). ``signing_key`` is checked apart (PEM).
DASHBOARD_FIELDS: dict[str, tuple[str, Any]] = {
    "prorate_upgrades": ("prorate_upgrades", parse_bool),
    "upgrade_floor_amount": ("upgrade_floor_amount", parse_decimal),
    "upgrade_floor_rate": ("upgrade_floor_rate", parse_decimal),
    "pending_payment_grace_days": ("pending_payment_grace_days", parse_days),
    "send_key_emails": ("send_key_emails", parse_bool),
    "auto_refund_failed_lines": ("auto_refund_failed_lines", parse_bool),
    "staff_emails": ("staff_emails", parse_emails),
    "reminder_schedule": ("reminder_schedule", parse_schedule),
    "renewal_url": ("renewal_url", parse_url),
    "require_terms_acceptance": ("require_terms_acceptance", parse_bool),
    "require_reference": ("require_reference", parse_bool),
    "anonymous_verification": ("anonymous_verification", parse_anonymous),
    "partner_levels": ("partner_levels", parse_partner_levels),
    "trial_days": ("trial_days", parse_trial_days),
    "invoice_on_payment": ("invoice_on_payment", parse_bool),
    "send_invoice_emails": ("send_invoice_emails", parse_bool),
    "invoice_number_format": ("invoice_number_format", parse_number_format),
    "invoice_seller": ("invoice_seller", parse_block),
    "invoice_footer": ("invoice_footer", parse_block),
    "usage_late_days": ("usage_late_days", parse_grace_days),
    "subscription_grace_days": ("subscription_grace_days", parse_grace_days),
    "subscription_cancel_days": ("subscription_cancel_days", parse_grace_days),
    "provisioning_mode": ("provisioning_mode", parse_provisioning_mode),
}


# The form as a new shop sees it: everything empty, so the Django settings apply.
DASHBOARD_DEFAULTS: dict[str, Any] = {
    "signing_key": "",
    "default_channel": "",
    **{name: "" for name in DASHBOARD_FIELDS},
    "deployment_required_products": "",
}


def dashboard_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """Messages per field for a Dashboard form that cannot be applied (empty: it can)."""
    errors = {}
    for name, (_, parse) in DASHBOARD_FIELDS.items():
        try:
            parse(values.get(name))
        except ValueError as error:
            errors[name] = str(error)
    return errors


def from_dashboard(values: Mapping[str, Any], base: LicenseSettings) -> LicenseSettings:
    """``base`` (the Django settings) with every non-empty Dashboard value applied. A value
    that does not parse (saved before validation existed) keeps the Django setting."""
    overrides: dict[str, Any] = {}
    for name, (attribute, parse) in DASHBOARD_FIELDS.items():
        try:
            value = parse(values.get(name))
        except ValueError:
            continue
        if value is not None:
            overrides[attribute] = value
    signing_key = str(values.get("signing_key") or "").strip()
    if signing_key:
        overrides["signing_key"] = signing_key
    return base.with_overrides(**overrides)
