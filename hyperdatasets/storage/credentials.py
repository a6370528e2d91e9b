"""Per-bucket credentials: a ``StorageCredential`` row for the bucket, else one for the whole provider,
else the environment (``AWS_*`` / ``AWS_ENDPOINT_URL``, ``STORAGE_EMULATOR_HOST`` /
``GOOGLE_APPLICATION_CREDENTIALS``, ``AZURE_STORAGE_CONNECTION_STRING``).

Secrets are encrypted at rest with a key derived from SECRET_KEY (Fernet) and are only ever decrypted here,
to build a client; nothing returns them to a caller that renders or logs.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from hyperdatasets.models import StorageCredential


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"hyperdatasets.storage-credential:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


@dataclass(frozen=True)
class Credentials:
    """What a client needs for one bucket; ``secret`` is decrypted and must never be shown."""

    endpoint_url: str = ""
    region: str = ""
    access_key: str = ""
    secret: str = ""
    source: str = "environment"

    def __repr__(self) -> str:  # keep the secret out of tracebacks and logs
        return f"Credentials(endpoint_url={self.endpoint_url!r}, source={self.source!r})"


def credentials_for(provider: str, bucket: str) -> Credentials:
    rows = {c.bucket: c for c in StorageCredential.objects.filter(provider=provider, bucket__in=[bucket, ""])}
    row = rows.get(bucket) or rows.get("")
    if row is None:
        return Credentials()
    try:
        secret = _fernet().decrypt(row.secret_encrypted.encode()).decode() if row.secret_encrypted else ""
    except InvalidToken:
        # SECRET_KEY changed since the secret was saved: the row must be edited again.
        secret = ""
    return Credentials(endpoint_url=row.endpoint_url, region=row.region, access_key=row.access_key, secret=secret,
                       source=f"credential {row}")
