"""The ``name`` patterns of ClearML's ``get_all`` calls (Python regular expressions, case-insensitive), applied
without letting a pattern run away: the client's own form ``^<escaped name>$`` is an exact match in SQL, a
pattern without regular-expression syntax a substring match in SQL, and any other pattern of at most 256
characters, with no quantified group and at most two repetitions (``*``, ``+``, ``{``: backtracking then stays
polynomial and small on names of at most 255 characters), is applied in Python to the names of the rows the
caller may see."""

from __future__ import annotations

import re

from django.db.models import QuerySet

from clearml_api.envelope import INVALID_FIELD, ApiError

MAX_PATTERN = 256
_SPECIAL = set(".^$*+?{}[]\\|()")
_NESTED = re.compile(r"\)[*+?{]")
_REPEAT = re.compile(r"(?<!\\)[*+{]")
MAX_REPEATS = 2


def _literal(body: str) -> str | None:
    """The text an escaped pattern stands for, or None if it holds regular-expression syntax."""
    out, i = [], 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body) and not body[i + 1].isalnum():
            out.append(body[i + 1])
            i += 2
            continue
        if char in _SPECIAL:
            return None
        out.append(char)
        i += 1
    return "".join(out)


def filter_by_name(rows: QuerySet, pattern: object, field: str = "name") -> QuerySet | list:
    if pattern is None or pattern == "":
        return rows
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN:
        raise ApiError(400, f"name: must be a pattern of at most {MAX_PATTERN} characters", INVALID_FIELD)
    if pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$"):
        exact = _literal(pattern[1:-1])
        if exact is not None:
            return rows.filter(**{f"{field}__iexact": exact})
    plain = _literal(pattern)
    if plain is not None:
        return rows.filter(**{f"{field}__icontains": plain})
    if _NESTED.search(pattern) or len(_REPEAT.findall(pattern)) > MAX_REPEATS:
        raise ApiError(400, f"name: patterns with a quantified group or more than {MAX_REPEATS} repetitions are "
                            "not served", INVALID_FIELD)
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ApiError(400, f"name: not a regular expression ({exc})", INVALID_FIELD) from None
    return [row for row in rows if compiled.search(getattr(row, field))]
