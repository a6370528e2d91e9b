"""Parsing a query with luqum, the errors it gives, and the values of its terms."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from luqum.exceptions import ParseError
from luqum.thread import parse as luqum_parse
from luqum.tree import Item, Phrase, Term, Word

from hyperdatasets.exceptions import InvalidInput

MAX_QUERY_LENGTH = 10_000
MAX_DEPTH = 64  # nested groups and operators
MAX_TERMS = 1024  # the conditions one query compiles to (a term without a field counts once per field)


class QueryError(InvalidInput):
    """A query that cannot be run: where (the character position in its text) and why."""

    code = "invalid_query"

    def __init__(self, field: str, position: int, reason: str) -> None:
        rule = f"at position {position}: {reason}"
        super().__init__(f"{field}: {rule}", details={field: [rule]})
        self.position = position
        self.reason = reason


_POSITION = re.compile(r"position (\d+)")


def parse(text: Any, field: str) -> Item | None:
    """The query's tree, or None for an empty query (every frame)."""
    if not isinstance(text, str):
        raise InvalidInput.for_field(field, "must be a string")
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidInput.for_field(field, f"at most {MAX_QUERY_LENGTH} characters")
    if "\x00" in text:
        raise QueryError(field, text.index("\x00"), "NUL is not allowed in a query")
    if not text.strip():
        return None
    try:
        return luqum_parse(text)
    except ParseError as exc:
        found = _POSITION.search(str(exc))
        position = int(found.group(1)) if found else len(text)
        reason = str(exc).removeprefix("Syntax error in input : ").rstrip("!")
        reason = re.sub(r" at (position \d+|the end)$", "", reason).replace("unexpected  ", "unexpected ")
        raise QueryError(field, position, reason) from None


# --- terms -----------------------------------------------------------------------------------------------

_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def term_text(term: Term) -> str:
    """A word or phrase's value, its escapes undone (a phrase without its quotes)."""
    raw = term.value[1:-1] if isinstance(term, Phrase) else term.value
    return _ESCAPED.sub(r"\1", raw)


# Wildcard parts: a str is literal text, None is "*" (any run) and "" is "?" (one character).
ANY_RUN, ONE_CHAR = None, ""


def wildcard_parts(word: Word) -> list[str | None] | None:
    """A word with an unescaped ``*`` or ``?`` as its parts in order: literal texts, ``ANY_RUN`` for ``*``
    and ``ONE_CHAR`` for ``?``; None when the word has no wildcard."""
    parts: list[str | None] = []
    literal: list[str] = []
    wild = False
    chars = iter(word.value)
    for char in chars:
        if char == "\\":
            literal.append(next(chars, "\\"))
        elif char in "*?":
            wild = True
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(ANY_RUN if char == "*" else ONE_CHAR)
        else:
            literal.append(char)
    if literal:
        parts.append("".join(literal))
    return parts if wild else None


def number_value(text: str) -> float | None:
    """The number a term spells, or None."""
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        return None
    value = float(text)
    return value if abs(value) != float("inf") else None


# --- dates -----------------------------------------------------------------------------------------------

# ISO 8601 from the year down to the fraction of a second, with an optional zone.
DATE_PATTERN = re.compile(
    r"(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})(?:[T ](?P<h>\d{2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})"
    r"(?:\.(?P<f>\d{1,6}))?)?)?)?)?)?(?P<z>Z|[+-]\d{2}:?\d{2})?"
)


def is_date(text: str) -> bool:
    """A bound that reads as a date (at least year and month, so a number is not taken for a year)."""
    found = DATE_PATTERN.fullmatch(text)
    return found is not None and found.group("mo") is not None


def date_millis(text: str, round_up: bool) -> int | None:
    """Epoch milliseconds of an ISO date bound, the missing parts filled as Elasticsearch fills them: with
    their first value, or (``round_up``, for ``lte`` and ``gt``) their last, so ``[2024-10-20 TO
    2024-10-30]`` takes all of the 30th. None when the text is no valid date."""
    found = DATE_PATTERN.fullmatch(text)
    if found is None or found.group("mo") is None:
        return None
    parts = found.groupdict()
    try:
        start = datetime(int(parts["y"]), int(parts["mo"]), int(parts["d"] or 1), int(parts["h"] or 0),
                         int(parts["mi"] or 0), int(parts["s"] or 0),
                         int((parts["f"] or "0").ljust(6, "0")), tzinfo=_zone(parts["z"]))
    except ValueError:
        return None
    millis = int(start.replace(microsecond=0).timestamp()) * 1000 + start.microsecond // 1000
    if not round_up or parts["f"] is not None:
        return millis
    step = next(unit for key, unit in (("s", timedelta(seconds=1)), ("mi", timedelta(minutes=1)),
                                        ("h", timedelta(hours=1)), ("d", timedelta(days=1)), ("mo", None))
                if parts[key] is not None or key == "mo")
    if step is None:  # year and month: to the month's end
        following = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=start.tzinfo)
        return int(following.timestamp() * 1000) - 1
    return int((start + step).timestamp() * 1000) - 1


def _zone(text: str | None):
    if text is None or text == "Z":
        return UTC
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


# A string date bound rounded up: every text it begins (a later time of that day, say) sorts below it.
ROUND_UP_SUFFIX = "\U0010ffff"
