"""Batch deletes against the cloud stores, one interface for S3, Google Cloud Storage and Azure Blob.

``delete_batch(bucket, keys)`` sends one provider batch and reports every key as one of:
- ``deleted``: the store confirmed it, or it was already gone (404 counts as deleted);
- ``retry``: throttled or a transient server error (429, 503, SlowDown, 5xx, connection errors);
- ``error``: a refusal that retrying will not change (access denied, bad request), with its message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["deleted", "retry", "error"]


@dataclass(frozen=True)
class KeyResult:
    outcome: Outcome
    message: str = ""


DELETED = KeyResult("deleted")


def all_keys(keys: list[str], result: KeyResult) -> dict[str, KeyResult]:
    return {key: result for key in keys}


def http_outcome(status: int, message: str) -> KeyResult:
    if status == 404 or 200 <= status < 300:
        return DELETED
    if status in (408, 429) or status >= 500:
        return KeyResult("retry", message)
    return KeyResult("error", message)


@dataclass(frozen=True)
class ObjectRef:
    """A parsed object URI: the bucket (container) and key the provider deletes."""

    provider: str
    bucket: str
    key: str
    account: str = ""


def parse_object_uri(uri: str) -> ObjectRef | None:
    """``s3://bucket/key``, ``gs://bucket/key``, ``azure://container/key`` or
    ``azure://account.blob.core.windows.net/container/key``; None when the URI names no object."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme not in ("s3", "gs", "azure"):
        return None
    account = ""
    if scheme == "azure":
        host, _, tail = rest.partition("/")
        if "." in host:
            account, rest = host.split(".", 1)[0], tail
    bucket, _, key = rest.partition("/")
    if not bucket or not key:
        return None
    return ObjectRef(scheme, bucket, key, account)
