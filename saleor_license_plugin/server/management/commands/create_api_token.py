"""``manage.py create_api_token --user-id ID --email E [--staff] [--name N]``: prints the token
once; only its digest is stored."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from saleor_license_plugin.models import CUSTOMER_OWNER_PREFIX
from saleor_license_plugin.server.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for the standalone license server and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user-id", required=True, help="The user the token acts as.")
        parser.add_argument("--email", default="", help="The user's e-mail address.")
        parser.add_argument("--staff", action="store_true", help="Grant MANAGE_ORDERS.")
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        user_id = options["user_id"].strip()
        if not user_id or len(user_id) > 128:
            raise CommandError("--user-id must be 1 to 128 characters.")
        if user_id.startswith(CUSTOMER_OWNER_PREFIX):
            # The owner id of an end customer without an account: nobody may act as it.
            raise CommandError(f"User ids starting with {CUSTOMER_OWNER_PREFIX!r} are reserved.")
        if options["email"]:
            try:
                validate_email(options["email"])
            except ValidationError:
                raise CommandError("--email is not an e-mail address.") from None
        _, token = ApiToken.issue(
            user_id=user_id,
            email=options["email"],
            is_staff=options["staff"],
            name=options["name"][:100],
        )
        self.stdout.write(token)
