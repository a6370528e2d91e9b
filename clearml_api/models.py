"""API credentials for ClearML's client: an access key and a secret per pair, many per user, revocable.

The secret is shown once, when the pair is made, and stored as its SHA-256 only: secrets are 40 random
characters (about 238 bits), so a fast hash is as safe as a slow one and keeps every ``auth.login`` cheap.
"""

import uuid

from django.conf import settings
from django.db import models


class ApiCredential(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clearml_credentials")
    access_key = models.CharField(max_length=32, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    label = models.CharField(max_length=255, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.access_key} ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked is None
