"""The orders of a frame list and their keyset cursors.

``context_id`` (the default: context_id, timestamp, id), ``id``, ``timestamp``, ``saved``, ``updated``,
``width``, ``height`` (of the frame's first source) or ``meta.<key>``, each ascending or, with a leading
``-``, descending. Ties are broken by the frame id. Frames without the key (no such meta key, say) come
after the others ascending and before them descending, as the reverse order.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from hyperdatasets.exceptions import InvalidCursor, InvalidInput
from hyperdatasets.queries.fields import BOOLEAN, NUMBER, STRING, MetaSchema
from hyperdatasets.queries.sql import Dialect, Param, Sql, sql

ORDERS = ("context_id", "id", "timestamp", "saved", "updated", "width", "height", "meta.<key>")


@dataclass(frozen=True)
class Order:
    key: str  # as named, without the sign
    descending: bool = False
    meta_type: str | None = None

    @property
    def name(self) -> str:
        return ("-" if self.descending else "") + self.key

    @property
    def is_default(self) -> bool:
        return self.key == "context_id"

    @property
    def value_type(self) -> type | None:
        """What a cursor's sort value is: text or a number (None: the id order, whose value is the id)."""
        if self.key == "id":
            return None
        return str if self.key.startswith("meta.") and self.meta_type == STRING else float


DEFAULT_ORDER = Order("context_id")


def order_from(value: Any, schema: MetaSchema, field: str = "order_by") -> Order:
    if value is None or value == "":
        return DEFAULT_ORDER
    if not isinstance(value, str):
        raise InvalidInput.for_field(field, "must be a string")
    descending = value.startswith("-")
    key = value[1:] if descending else value.removeprefix("+")
    if key in ORDERS[:-1]:
        return Order(key, descending)
    if key.startswith("meta.") and len(key) > 5:
        kind = schema.type_of(key[5:])
        if kind is None:
            raise InvalidInput.for_field(field, f"{key} is not a meta key of this dataset")
        if kind not in (STRING, NUMBER, BOOLEAN):
            raise InvalidInput.for_field(field, f"{key} is a {kind}: frames are sorted by strings, numbers or "
                                                "booleans")
        if '"' in key:
            raise InvalidInput.for_field(field, "a key holding a double quote cannot be sorted by")
        return Order(key, descending, kind)
    raise InvalidInput.for_field(field, f"must be one of {', '.join(ORDERS)}, with - for descending")


def sort_key(order: Order, dialect: Dialect) -> Sql:
    """The SQL value frames are sorted by (NULL for a frame without it); not for the default order."""
    if order.key == "id":
        return Sql("e.frame_id", [])
    if order.key == "timestamp":
        return Sql("e.timestamp", [])
    if order.key in ("saved", "updated"):
        return Sql("e.saved", [])
    if order.key in ("width", "height"):
        return dialect.document().child(["sources", 0, order.key]).number()
    slot = dialect.meta().child(order.key[5:].split("."))
    if order.meta_type == NUMBER:
        return slot.number()
    if order.meta_type == BOOLEAN:
        return sql("(CASE WHEN {t} THEN 1 WHEN {f} THEN 0 END)", t=slot.boolean_is(True), f=slot.boolean_is(False))
    return sql("(CASE WHEN {k} THEN {v} END" + dialect.collate() + ")", k=slot.is_kind("string"), v=slot.text())


def order_by_sql(order: Order, key: Sql) -> Sql:
    direction = " DESC" if order.descending else ""
    if order.key == "id":
        return Sql(f" ORDER BY e.frame_id{direction}", [])
    return sql(" ORDER BY ({k}) IS NULL" + direction + ", {k}" + direction + ", e.frame_id" + direction, k=key)


def after_cursor_sql(order: Order, key: Sql, value: Any, frame_id: str) -> Sql:
    """Rows after the cursor's (value, frame id) in the order."""
    if order.key == "id":
        return Sql(f"e.frame_id {'<' if order.descending else '>'} %s", [frame_id])
    after = "<" if order.descending else ">"
    if value is None:
        if order.descending:
            return sql("((({k}) IS NULL AND e.frame_id < {f}) OR ({k}) IS NOT NULL)", k=key, f=Param(frame_id))
        return sql("(({k}) IS NULL AND e.frame_id > {f})", k=key, f=Param(frame_id))
    tail = "" if order.descending else " OR ({k}) IS NULL"
    return sql("(({k}) " + after + " {v} OR (({k}) = {v} AND e.frame_id " + after + " {f})" + tail + ")",
               k=key, v=Param(value), f=Param(frame_id))


def _sort_value_fits(order: Order, value: Any) -> bool:
    if value is None:
        return True
    if order.value_type is None or order.value_type is str:
        return type(value) is str
    return type(value) in (int, float) and abs(value) < 2**63


def cursor_encode(order: Order, value: Any, frame_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([order.name, value, frame_id])).decode().rstrip("=")


def cursor_decode(order: Order, cursor: str) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, value, frame_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if name != order.name or not isinstance(frame_id, str) or not _sort_value_fits(order, value):
            raise ValueError
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidCursor("cursor: is not a cursor returned by a previous page of this order",
                            details={"cursor": ["is not a cursor returned by a previous page of this order"]}
                            ) from None
    return value, frame_id
