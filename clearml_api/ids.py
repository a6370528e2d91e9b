"""Ids on ClearML's wire are 32 hex digits; this server's are UUIDs. Both forms are taken, the hex one sent."""

from __future__ import annotations

import uuid
from typing import Any

from clearml_api.envelope import INVALID_ID, ApiError


def wire_id(value: Any) -> str | None:
    return None if value is None else uuid.UUID(str(value)).hex


def parse_id(field: str, value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ApiError(400, f"{field}: must be an id (32 hex digits)", INVALID_ID)
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApiError(400, f"{field}: {value!r} is not an id (32 hex digits)", INVALID_ID) from None
