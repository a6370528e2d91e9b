"""``python manage.py clearml_credentials USERNAME [--label TEXT]``: a new ClearML API credential pair for the
user, printed as ``ACCESS_KEY SECRET_KEY`` on one line (the secret is not kept: this is its only showing)."""

from django.core.management.base import BaseCommand, CommandError

from clearml_api.credentials import credential_create, user_by_name
from hyperdatasets.exceptions import ServiceError


class Command(BaseCommand):
    help = "Make a ClearML API credential pair (access key and secret) for a user; prints them on one line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--label", default="", help="what the pair is for")

    def handle(self, *args, **options):
        try:
            credential, secret = credential_create(user_by_name(options["username"]), options["label"])
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{credential.access_key} {secret}")
