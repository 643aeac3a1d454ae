"""API tokens of the standalone server. Only a SHA-256 digest of each token is stored."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "slp_"  # noqa: S105  a label, not a secret


def token_digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    """A bearer token that acts as one user: a customer, a partner, or staff."""

    name = models.CharField(max_length=100, blank=True, default="")
    user_id = models.CharField(max_length=128)
    email = models.EmailField(blank=True, default="")
    is_staff = models.BooleanField(default=False, help_text="Grants MANAGE_ORDERS.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="The token's first symbols.")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.hint}… ({self.user_id})"

    @classmethod
    def issue(
        cls, *, user_id: str, email: str = "", is_staff: bool = False, name: str = ""
    ) -> tuple[ApiToken, str]:
        """A new token; the plain text is returned once and never stored."""
        token = new_token()
        row = cls.objects.create(
            name=name,
            user_id=user_id,
            email=email,
            is_staff=is_staff,
            digest=token_digest(token),
            hint=token[: len(TOKEN_PREFIX) + 6],
        )
        return row, token
