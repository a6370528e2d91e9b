"""Pages and counts of a version's frames: filtered by the query language (``hyperdatasets.queries``), by a
label or a meta value, in any of the frame orders, with keyset cursors.

One SQL shape on both databases: the rows of the version's ancestors (``Ancestry``), each kept when no
closer ancestor holds its frame id, filtered and ordered. In the default order (context_id, timestamp, id)
the query walks the ``frame_page`` index and stops at the page's end. On PostgreSQL a condition on the
frame document (ROIs, sources) parses the row's JSON once (a lateral ``x.d``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection

from hyperdatasets.exceptions import InvalidCursor, InvalidInput
from hyperdatasets.models import DatasetVersion
from hyperdatasets.queries.ordering import DEFAULT_ORDER, after_cursor_sql, order_by_sql, sort_key
from hyperdatasets.queries.ordering import cursor_decode as order_cursor_decode
from hyperdatasets.queries.ordering import cursor_encode as order_cursor_encode
from hyperdatasets.queries.selection import FrameSelection
from hyperdatasets.queries.sql import Dialect, Sql, join
from hyperdatasets.selectors.frames import (
    FRAME_TABLE,
    LABEL_TABLE,
    MAX_PAGE_SIZE,
    RARE_LABEL_SHARE,
    Ancestry,
    db_uuid,
    frame_output,
    labels_in_frame_rows,
)

# --- cursors of the default order ------------------------------------------------------------------------


def cursor_encode(context_id: str, timestamp: int, frame_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([context_id, timestamp, frame_id])).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[str, int, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        context_id, timestamp, frame_id = orjson.loads(base64.urlsafe_b64decode(padded))
        if not (isinstance(context_id, str) and type(timestamp) is int and isinstance(frame_id, str)
                and abs(timestamp) < 2**63 and "\x00" not in context_id + frame_id):
            raise ValueError
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidCursor("cursor: is not a cursor returned by a previous page",
                            details={"cursor": ["is not a cursor returned by a previous page"]}) from None
    return context_id, timestamp, frame_id


@dataclass
class FramePage:
    frames: list[dict[str, Any]]
    next_cursor: str | None


def frames_page(
    version: DatasetVersion,
    *,
    cursor: str | None = None,
    limit: int = 100,
    label: str | None = None,
    meta_key: str | None = None,
    meta_value: Any = None,
    backward: bool = False,
    selection: FrameSelection | None = None,
) -> FramePage:
    """One page of a version's frames: those ``selection`` (a query, label rules, filters, an order) takes,
    of one ``label``, and with ``meta[meta_key] == meta_value`` (a dotted key path), all of them given
    together. ``backward`` walks the default order back from the cursor (nearest first)."""
    if type(limit) is not int or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput.for_field("limit", f"must be an integer from 1 to {MAX_PAGE_SIZE}")
    if label is not None and not isinstance(label, str):
        raise InvalidInput.for_field("label", "must be a string")
    order = selection.order if selection is not None else DEFAULT_ORDER
    if backward and not order.is_default:
        raise InvalidInput.for_field("order_by", "walking backwards is for the default order")
    dialect = version_dialect(version)
    condition = selection.condition(dialect) if selection is not None else None
    key = None if order.is_default else sort_key(order, dialect)
    columns = "e.frame_id, e.context_id, e.timestamp, e.version_id, e.saved, e.document"
    head: list[Sql] = [Sql(f"SELECT {columns}", [])]
    if key is not None:
        head.append(Sql(f", {key.text}", key.params))
    rare = label is not None and _label_is_rare(version, label)
    descending = order.descending != backward
    after = None
    if key is None and cursor is not None:
        after = Sql(f" AND (e.context_id, e.timestamp, e.frame_id) {'<' if descending else '>'} (%s, %s, %s)",
                    list(cursor_decode(cursor)))
    candidates = (key is None and label is None and meta_key is None and condition is not None
                  and _candidates_first(version, dialect, limit))
    if candidates:
        sql = [*head, _candidate_rows(version, dialect, after, descending)]
    else:
        sql = [*head, frame_rows(version, dialect, label, rare)]
    if condition is not None:
        sql.append(Sql(f" AND {condition.text}", condition.params))
    if meta_key is not None:
        sql.append(Sql(*_meta_filter(meta_key, meta_value)))
    if key is None:
        if after is not None and not candidates:
            sql.append(after)
        sql.append(Sql(" ORDER BY {1}.context_id{0}, {1}.timestamp{0}, {1}.frame_id{0}".format(
            " DESC" if descending else "", "c" if candidates else "e"), []))
    else:
        if cursor is not None:
            after = after_cursor_sql(order, key, *order_cursor_decode(order, cursor))
            sql.append(Sql(f" AND {after.text}", after.params))
        sql.append(order_by_sql(order, key))
    sql.append(Sql(" LIMIT %s", [limit + 1]))
    with connection.cursor() as db:
        db.execute("".join(piece.text for piece in sql), [p for piece in sql for p in piece.params])
        rows = db.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    frames = [frame_output(row[5], row[4], row[3], row[0]) for row in rows]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = (cursor_encode(last[1], last[2], last[0]) if key is None
                       else order_cursor_encode(order, last[6], last[0]))
    return FramePage(frames, next_cursor)


def frames_query_count(version: DatasetVersion, selection: FrameSelection | None = None) -> int:
    """How many frames of the version the selection takes: the kept counter when it takes every frame,
    else one exact count of the resolved rows."""
    if selection is None or not selection.filters:
        return version.frame_count
    dialect = version_dialect(version)
    condition = selection.condition(dialect)
    rows = frame_rows(version, dialect, None, False)
    with connection.cursor() as db:
        db.execute(f"SELECT count(*){rows.text} AND {condition.text}", [*rows.params, *condition.params])
        return db.fetchone()[0]


def version_dialect(version: DatasetVersion) -> Dialect:
    return Dialect(connection.vendor, rare_label=lambda label: _label_is_rare(version, label))


def frame_rows(version: DatasetVersion, dialect: Dialect, label: str | None = None, rare: bool = False) -> Sql:
    """``FROM ... WHERE ...``: the rows that resolve the version's frames (of ``label``), ready for more
    conditions. Call it after compiling the conditions: they say whether the document is needed."""
    ancestry = Ancestry.of(version)
    params: list[Any] = [db_uuid(version.dataset_id)]
    lateral = (" CROSS JOIN LATERAL (SELECT e.document::jsonb AS d OFFSET 0) x"
               if dialect.pg and dialect.uses_document else "")
    if rare and not labels_in_frame_rows():
        member_sql, member_params = ancestry.member("k.version_id")
        text = (
            f" FROM {LABEL_TABLE} k JOIN {FRAME_TABLE} e ON e.dataset_id = k.dataset_id "
            "AND e.frame_id = k.frame_id AND e.version_id = k.version_id "
            f"WHERE k.dataset_id = %s AND k.label = %s AND {member_sql}"
        )
        params += [label, *member_params]
    else:
        member_sql, member_params = ancestry.member("e.version_id")
        text = f" FROM {FRAME_TABLE} e{lateral} WHERE e.dataset_id = %s AND {member_sql} AND e.deleted = %s"
        params += [*member_params, False]
        if label is not None and labels_in_frame_rows():
            # The GIN index on (dataset_id, labels::jsonb) serves a rare label; for a common one, ``?`` (which
            # that index cannot answer) keeps the plan on the page-order walk, checking each row's labels.
            text += " AND e.labels::jsonb @> %s::jsonb" if rare else " AND e.labels::jsonb ? %s"
            params.append(orjson.dumps([label]).decode() if rare else label)
        elif label is not None:
            text += (f" AND EXISTS (SELECT 1 FROM {LABEL_TABLE} k WHERE k.dataset_id = e.dataset_id "
                     "AND k.frame_id = e.frame_id AND k.version_id = e.version_id AND k.label = %s)")
            params.append(label)
    closer_sql, closer_params = ancestry.closer_row_exists("e")
    return Sql(text + closer_sql, params + closer_params)


# The candidate-first plan (below) when its candidates are at most sqrt(CANDIDATE_FACTOR * (limit + 1) * frames).
CANDIDATE_FACTOR = 4


def _candidates_first(version: DatasetVersion, dialect: Dialect, limit: int) -> bool:
    """Whether a page of the default order is cheaper from the rows the condition's required meta
    equalities find through the GIN index on ``meta``, sorted, than from the page-order walk.

    For a condition that reads the frame document (ROIs, sources), PostgreSQL walks the page order and
    checks each row until the page is full: when the matches are few, or bunched far from the start, that walk
    reads a great many rows. Sorting C candidates costs about C row reads; the walk reads about (limit + 1)
    times the rows over the matches, at least (limit + 1) * frames / C, each cheaper (an index step). The
    planner's estimate of C (from the ``meta`` column's statistics) decides: candidates first when
    C * C <= CANDIDATE_FACTOR * (limit + 1) * frames, which takes the candidates for a document condition that
    keeps about a tenth of them (the share the row costs measured on the bench's 1M frames put at break-even).
    """
    if not (dialect.pg and dialect.uses_document and dialect.required_meta):
        return False
    required = join(dialect.required_meta, "AND")
    with connection.cursor() as db:
        db.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {FRAME_TABLE} e WHERE e.dataset_id = %s "
                   f"AND e.deleted = false AND {required.text}", [db_uuid(version.dataset_id), *required.params])
        plan = db.fetchone()[0]
    if isinstance(plan, str):
        plan = orjson.loads(plan)
    estimate = plan[0]["Plan"]["Plan Rows"]
    return estimate * estimate <= CANDIDATE_FACTOR * (limit + 1) * max(version.frame_count, 1)


def _candidate_rows(version: DatasetVersion, dialect: Dialect, after: Sql | None, descending: bool) -> Sql:
    """``FROM ... WHERE ...`` as ``frame_rows``, for the candidate-first plan: the ancestors' rows that hold the
    condition's required meta equalities (found by the GIN index, after the cursor), sorted in page order
    behind a fence (``OFFSET 0``) so that the page is then filled from them in order: each row is read back by
    its key (fenced too, so the planner does not look the rows up again by their meta) and checked for the
    whole condition and for a closer ancestor's row, and the walk stops at the page's end."""
    ancestry = Ancestry.of(version)
    member_sql, member_params = ancestry.member("e.version_id")
    required = join(dialect.required_meta, "AND")
    desc = " DESC" if descending else ""
    inner = (f"SELECT e.id, e.context_id, e.timestamp, e.frame_id FROM {FRAME_TABLE} e WHERE e.dataset_id = %s "
             f"AND {member_sql} AND e.deleted = %s AND {required.text}{after.text if after else ''} "
             f"ORDER BY e.context_id{desc}, e.timestamp{desc}, e.frame_id{desc} OFFSET 0")
    params = [db_uuid(version.dataset_id), *member_params, False, *required.params, *(after.params if after else [])]
    closer_sql, closer_params = ancestry.closer_row_exists("e")
    return Sql(f" FROM ({inner}) c CROSS JOIN LATERAL (SELECT * FROM {FRAME_TABLE} r WHERE r.id = c.id OFFSET 0) e "
               f"CROSS JOIN LATERAL (SELECT e.document::jsonb AS d OFFSET 0) x WHERE TRUE{closer_sql}",
               params + closer_params)


def _label_is_rare(version: DatasetVersion, label: str) -> bool:
    rois = (version.stats or {}).get("labels", {}).get(label, 0)  # an upper bound of frames with the label
    return rois <= RARE_LABEL_SHARE * max(version.frame_count, 1)


def _meta_filter(meta_key: str, meta_value: Any) -> tuple[str, list[Any]]:
    """``meta[key path] == meta_value``; with ``meta_value`` None, the frames whose meta has the key path
    (whatever its value, JSON null included)."""
    if not isinstance(meta_key, str) or not meta_key or len(meta_key) > 512:
        raise InvalidInput.for_field("meta_key", "must be a non-empty key path")
    path = meta_key.split(".")
    if meta_value is None:
        if connection.vendor == "postgresql":
            return " AND e.meta #> %s::text[] IS NOT NULL", [path]
        return " AND json_type(e.meta, %s) IS NOT NULL", ["$" + "".join(f'."{key}"' for key in path)]
    if not isinstance(meta_value, str | int | float | bool):
        raise InvalidInput.for_field("meta_value", "must be a string, number or boolean")
    if connection.vendor == "postgresql":
        nested: Any = meta_value
        for key in reversed(path):
            nested = {key: nested}
        return " AND e.meta @> %s::jsonb", [orjson.dumps(nested).decode()]
    json_path = "$" + "".join(f'."{key}"' for key in path)
    if isinstance(meta_value, bool):
        return " AND json_type(e.meta, %s) = %s", [json_path, "true" if meta_value else "false"]
    return " AND json_extract(e.meta, %s) = %s", [json_path, meta_value]
