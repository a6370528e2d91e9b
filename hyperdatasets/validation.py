"""Field rules shared by the services, the admin forms and the API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.frame_documents import ENCODED_NUL

MAX_NAME_LENGTH = 255
MAX_TAGS = 100
MAX_METADATA_BYTES = 256 * 1024
MAX_JSON_NUMBER = 2**63 - 1
MAX_DESCRIPTION_LENGTH = 10_000
# The rules below as regular expressions, for the OpenAPI schema: a name has no control characters and does
# not start or end with whitespace; free text has no NUL; a mask label is not only whitespace. Whitespace is
# spelled out (Python's str.isspace, which str.strip uses) because `\s` means different sets in Python's and
# ECMAScript's regular expressions, and clients validate with either.
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NAME_PATTERN = rf"^[^\x00-\x1f{_SPACE}](?:[^\x00-\x1f]*[^\x00-\x1f{_SPACE}])?$"
TEXT_PATTERN = r"^[^\x00]*$"
LABEL_PATTERN = rf"^[^\x00]*[^\x00{_SPACE}][^\x00]*$"


def clean_name(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput.for_field(field, "must be a string")
    if not value.strip():
        raise InvalidInput.for_field(field, "must not be empty")
    if value != value.strip():
        raise InvalidInput.for_field(field, "must not start or end with whitespace")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput.for_field(field, f"must be at most {MAX_NAME_LENGTH} characters")
    if any(ord(ch) < 32 for ch in value):
        raise InvalidInput.for_field(field, "must not contain control characters")
    return value


def clean_text(field: str, value: Any, max_length: int = MAX_DESCRIPTION_LENGTH) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput.for_field(field, "must be a string")
    if len(value) > max_length:
        raise InvalidInput.for_field(field, f"must be at most {max_length} characters")
    if "\x00" in value:
        raise InvalidInput.for_field(field, "must not contain NUL characters")
    return value


def clean_metadata(field: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput.for_field(field, "must be a JSON object")
    _check_magnitudes(field, value)
    try:
        encoded = orjson.dumps(value)
    except TypeError as exc:
        raise InvalidInput.for_field(field, f"must be JSON-serialisable ({exc})") from None
    if ENCODED_NUL.search(encoded):
        raise InvalidInput.for_field(field, "must not contain NUL characters")
    if len(encoded) > MAX_METADATA_BYTES:
        raise InvalidInput.for_field(field, f"must be at most {MAX_METADATA_BYTES} bytes as JSON")
    return orjson.loads(encoded)


def _check_magnitudes(field: str, value: Any) -> None:
    """Every number in metadata lies within ±(2**63-1), integer or not (the bound the schema states: JSON
    Schema cannot tell 1e300 from an integer). Iterative, so any nesting the parser accepted is walked."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, int | float) and not isinstance(item, bool) and not abs(item) <= MAX_JSON_NUMBER:
            raise InvalidInput.for_field(
                field, f"numbers must lie within ±{MAX_JSON_NUMBER} (give larger ones as strings)")


def clean_tags(value: Any) -> list[str]:
    """Tags in the given order, duplicates dropped."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput.for_field("tags", "must be a list of strings")
    tags: list[str] = []
    for tag in value:
        clean_name("tags", tag)
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInput.for_field("tags", f"at most {MAX_TAGS} tags")
    return tags


def clean_name_list(field: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidInput.for_field(field, "must be a list")
    return [clean_name(field, item) for item in value]
