"""Create the first administrator of a fresh installation, non-interactively.

The password comes from HYPERDATASETS_ADMIN_PASSWORD, or is generated and written to var/admin-password
(mode 0600). It is never printed.
"""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the 'admin' superuser if no superuser exists yet."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("HYPERDATASETS_ADMIN_USER", "admin"))

    def handle(self, *args, username: str, **options):
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            self.stdout.write("A superuser exists already; nothing to do.")
            return
        password = os.environ.get("HYPERDATASETS_ADMIN_PASSWORD")
        password_file = settings.VAR_DIR / "admin-password"
        if not password:
            password = secrets.token_urlsafe(16)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
            where = f"its password is in {password_file}"
        else:
            where = "its password is the one in HYPERDATASETS_ADMIN_PASSWORD"
        users.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"Created superuser {username!r}; {where}."))
