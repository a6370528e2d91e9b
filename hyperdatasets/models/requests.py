"""Writes sent with an ``Idempotency-Key`` and the answers they got (services.idempotency)."""

from django.conf import settings
from django.db import models


class IdempotentRequest(models.Model):
    """The answer to a write sent with a key: the same key from the same user answers it again, without
    writing twice. Kept for a day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body")
    status = models.PositiveSmallIntegerField()
    response = models.BinaryField(help_text="the JSON answer")
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
