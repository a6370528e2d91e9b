"""What a frame list asks for: filters and an order, read from a request's fields and checked against the
dataset's meta schema before any SQL runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.queries.fields import MetaSchema
from hyperdatasets.queries.filters import (
    FrameFilter,
    frame_filter_from,
    frame_filter_sql,
    frame_filters_from,
    frame_filters_sql,
)
from hyperdatasets.queries.ordering import Order, order_from
from hyperdatasets.queries.sql import Dialect, Sql, join

# The request fields of a selection; ``label_rules`` and ``filters`` are JSON (text in a query string).
SELECTION_FIELDS = ("query", "sources_query", "label_rules", "filter_by_roi", "filters", "order_by")


@dataclass
class FrameSelection:
    """Frames that pass every one of ``filters`` (a shorthand filter and the ORed ``filters`` list are
    each one entry), in ``order``."""

    filters: list[list[FrameFilter]]
    order: Order
    schema: MetaSchema

    def condition(self, dialect: Dialect) -> Sql:
        """The SQL condition; compiling it also tells ``dialect`` whether the frame document is read.
        Queries are checked against the schema before, when the selection is made."""
        return join([frame_filters_sql(dialect, self.schema, group) for group in self.filters], "AND")


def _json_field(value: Any, name: str) -> Any:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput.for_field(name, f"is not JSON ({exc})") from None
    return value


def selection_from(dataset_ids: list[Any], fields: dict[str, Any]) -> FrameSelection | None:
    """The selection the request's ``fields`` (``SELECTION_FIELDS``) make, or None when they ask for
    nothing (every frame in the default order)."""
    given = {name: fields.get(name) for name in SELECTION_FIELDS if fields.get(name) not in (None, "")}
    if not given:
        return None
    schema = MetaSchema.of(dataset_ids)
    groups: list[list[FrameFilter]] = []
    shorthand = {key: given[key] for key in ("query", "sources_query", "filter_by_roi") if key in given}
    if "label_rules" in given:
        shorthand["label_rules"] = _json_field(given["label_rules"], "label_rules")
    if shorthand:
        if "query" in shorthand:
            shorthand["frame_query"] = shorthand.pop("query")
        groups.append([filter_checked(frame_filter_from(shorthand, "", aliases={"frame_query": "query"}), schema)])
    if "filters" in given:
        groups.append([filter_checked(f, schema) for f in frame_filters_from(_json_field(given["filters"], "filters"))])
    return FrameSelection(groups, order_from(given.get("order_by"), schema), schema)


def filter_checked(frame_filter: FrameFilter, schema: MetaSchema) -> FrameFilter:
    """Compile once for SQLite to refuse unknown fields and type clashes here, with their positions (a
    selection's filters, a dataview's rules)."""
    frame_filter_sql(Dialect("sqlite"), schema, frame_filter)
    return frame_filter
