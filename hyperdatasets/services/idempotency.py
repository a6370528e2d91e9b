"""Writes that a client may send again: ``Idempotency-Key``.

A client that sends a write with a key (1-255 visible ASCII characters) and does not hear the answer (a
dropped connection, a timeout) sends it again with the same key. The first write and its answer are stored
in one transaction; the same key from the same user then gets the stored answer, and nothing is written
again. The same key with another method, path or body is refused (409). Two requests racing with one key:
one writes, the other's write is rolled back and it answers what the first stored. Keys are kept for
``KEEP_FOR``; older ones are dropped as new ones are stored.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from hyperdatasets.exceptions import InvalidInput, StateConflict
from hyperdatasets.models import IdempotentRequest

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[!-~]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
KEEP_FOR = timedelta(hours=24)


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _stored(user, key: str, fingerprint: str) -> tuple[int, bytes] | None:
    row = IdempotentRequest.objects.filter(user=user, key=key).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise StateConflict(f"{HEADER} {key!r} was sent with another request; use a new key for a new request")
    return row.status, bytes(row.response)


def idempotent(user, key: str | None, fingerprint: Callable[[], str],
               write: Callable[[], tuple[int, bytes]]) -> tuple[int, bytes, bool]:
    """Run ``write`` (answering a status and a JSON body) once per user and key; answers the status, the body
    and whether it was stored before (a replay)."""
    if key is None:
        return (*write(), False)
    if not _KEY.fullmatch(key):
        raise InvalidInput.for_field(HEADER, "must be 1-255 visible ASCII characters")
    digest = fingerprint()
    stored = _stored(user, key, digest)
    if stored is not None:
        return (*stored, True)
    try:
        with transaction.atomic():
            status, body = write()
            IdempotentRequest.objects.filter(created__lt=timezone.now() - KEEP_FOR).delete()
            IdempotentRequest.objects.create(user=user, key=key, fingerprint=digest, status=status, response=body)
    except IntegrityError:
        stored = _stored(user, key, digest)  # a request with this key won the race: its write stands
        if stored is None:
            raise
        return (*stored, True)
    return status, body, False
