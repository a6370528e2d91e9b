"""Reads of frames: resolution through the ancestors, keyset pages, lookups, statistics and diffs.

A version's frames: for each frame id, the row of its first ancestor (self first) that has one; a tombstone
hides the frame. The same SQL runs on PostgreSQL and SQLite; precedence is a CASE over the ancestor list.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
from django.db import connection

from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.models import DatasetVersion

FRAME_TABLE = "hyperdatasets_frame"
LABEL_TABLE = "hyperdatasets_framelabel"
MAX_PAGE_SIZE = 1000
# A label on at most this share of a version's frames is served from the label index (candidates, then
# sorted); a commoner one by walking the page order and checking each frame's labels.
RARE_LABEL_SHARE = 0.05
ID_CHUNK = 500
STREAM_CHUNK = 5000


def labels_in_frame_rows() -> bool:
    """Where label filters look: PostgreSQL indexes the frame rows' ``labels`` column (GIN, migration 0007);
    SQLite has no such index and keeps a ``FrameLabel`` row per distinct label of each stored frame."""
    return connection.vendor == "postgresql"


def db_uuid(value: Any) -> Any:
    """A UUID as the database stores it: native on PostgreSQL, 32 hex characters on SQLite."""
    value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    return value if connection.vendor == "postgresql" else value.hex


def load_json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


class Ancestry:
    """A version's ancestors in precedence order, as SQL pieces: one array parameter on PostgreSQL
    (``array_position`` gives precedence), placeholders and a ``CASE`` on SQLite."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts  # canonical UUID strings, as stored in DatasetVersion.ancestors

    @classmethod
    def of(cls, version: DatasetVersion) -> Ancestry:
        return cls(version.ancestors or [str(version.pk)])

    @cached_property
    def ids(self) -> list[Any]:
        """The ancestors as the database returns version ids (to rank rows in Python)."""
        return [db_uuid(text) for text in self.texts]

    @cached_property
    def pg_array(self) -> str:
        """One ``uuid[]`` literal: a short text parameter instead of a list the driver adapts element by
        element (that adaptation was a third of a deep page's time)."""
        return "{" + ",".join(self.texts) + "}"

    def member(self, column: str) -> tuple[str, list[Any]]:
        """SQL: ``column`` is one of the ancestors."""
        if connection.vendor == "postgresql":
            return f"{column} = ANY(%s::uuid[])", [self.pg_array]
        return f"{column} IN ({', '.join(['%s'] * len(self.ids))})", list(self.ids)

    def rank(self, column: str) -> tuple[str, list[Any]]:
        if connection.vendor == "postgresql":
            return f"array_position(%s::uuid[], {column})", [self.pg_array]
        whens = " ".join("WHEN %s THEN " + str(i) for i in range(len(self.ids)))
        return f"CASE {column} {whens} END", list(self.ids)

    def closer_row_exists(self, alias: str) -> tuple[str, list[Any]]:
        """SQL: a row of a closer ancestor holds the same frame id as ``alias``'s row."""
        if len(self.texts) == 1:
            return "", []
        member_sql, member_params = self.member("s.version_id")
        inner_rank, inner_params = self.rank("s.version_id")
        outer_rank, outer_params = self.rank(f"{alias}.version_id")
        sql = (
            f" AND NOT EXISTS (SELECT 1 FROM {FRAME_TABLE} s WHERE s.dataset_id = {alias}.dataset_id "
            f"AND s.frame_id = {alias}.frame_id AND {member_sql} AND {inner_rank} < {outer_rank})"
        )
        return sql, [*member_params, *inner_params, *outer_params]


def in_clause(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    """``column IN (values)`` with one placeholder per value (SQLite; PostgreSQL probes an index per id
    instead, see ``rows_by_id_probe``)."""
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


# --- frames as returned ----------------------------------------------------------------------------------


def unreadable_frame(frame_id: str, reason: str) -> dict[str, Any]:
    """What a read answers for a stored row it cannot decode (written before a rule that now refuses its
    content): the frame's id and why, in the shape of a frame with nothing in it, so one such row never
    fails a whole page, iteration or export."""
    return {"id": frame_id, "context_id": "", "timestamp": 0, "sources": [], "rois": [], "meta": {},
            "meta_blob": {}, "unreadable": reason}


def frame_output(document: Any, saved: int, version_id: Any, frame_id: str) -> dict[str, Any]:
    try:
        frame = load_json(document)
    except (orjson.JSONDecodeError, RecursionError) as exc:
        frame = unreadable_frame(frame_id, f"the stored document cannot be decoded ({exc})")
    frame["saved"] = saved
    # PostgreSQL returns UUIDs; SQLite returns their 32-character hex form.
    frame["saved_in_version"] = str(version_id if isinstance(version_id, uuid.UUID) else uuid.UUID(version_id))
    return frame


# --- lookups by id ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRow:
    frame_id: str
    version_id: Any
    deleted: bool
    roi_count: int
    labels: list[str]
    content_types: list[str]
    saved: int
    document: Any
    row_id: int  # the row's primary key: every write of a frame gives a new, higher one (its revision)


def rows_by_id_probe(table: str, columns: str, condition: str) -> str:
    """PostgreSQL SQL selecting ``columns`` of the rows of ``table`` (alias ``e``) with ``e.dataset_id = %s``,
    ``condition`` and one of the frame ids of an array parameter (the first parameter, then the dataset's,
    then the condition's).

    Each id is one probe of the ``frame_by_id`` index: a lateral subquery the planner cannot flatten
    (``OFFSET 0``). With ``frame_id = ANY(ids)`` the planner, while a bulk load has left its statistics stale,
    picked a bitmap scan of the whole dataset and filtered the ids: 0.7 s per 10k-frame batch at 1M frames,
    40 ms as probes. The ids travel as one JSON text (``id_list_param``): a text array of 10k ids was quoted
    value by value in Python, a tenth of a bulk write's time on the server."""
    return (f"SELECT r.* FROM jsonb_array_elements_text(%s::jsonb) AS q(fid) CROSS JOIN LATERAL "
            f"(SELECT {columns} FROM {table} e WHERE e.dataset_id = %s AND e.frame_id = q.fid "
            f"AND {condition} OFFSET 0) r")


def id_list_param(frame_ids: Iterable[str]) -> str:
    """The ids parameter of ``rows_by_id_probe``."""
    return orjson.dumps(list(frame_ids)).decode()


def rows_for_ids(version: DatasetVersion, frame_ids: Iterable[str], *, with_documents: bool = False
                 ) -> dict[str, list[StoredRow]]:
    """Every row of the version's ancestors for these frame ids, closest ancestor first."""
    ancestry = Ancestry.of(version)
    rank = {vid: i for i, vid in enumerate(ancestry.ids)}
    found: dict[str, list[StoredRow]] = {}
    ids = list(dict.fromkeys(frame_ids))
    document = "e.document" if with_documents else "NULL"
    columns = (f"e.frame_id, e.version_id, e.deleted, e.roi_count, e.labels, e.content_types, e.saved, "
               f"{document}, e.id")
    dataset = db_uuid(version.dataset_id)
    chunk_size = max(len(ids), 1) if connection.vendor == "postgresql" else ID_CHUNK
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start:start + chunk_size]
        member_sql, member_params = ancestry.member("e.version_id")
        if connection.vendor == "postgresql":
            sql = rows_by_id_probe(FRAME_TABLE, columns, member_sql)
            params = [id_list_param(chunk), dataset, *member_params]
        else:
            id_sql, id_params = in_clause("e.frame_id", chunk)
            sql = f"SELECT {columns} FROM {FRAME_TABLE} e WHERE e.dataset_id = %s AND {member_sql} AND {id_sql}"
            params = [dataset, *member_params, *id_params]
        with connection.cursor() as db:
            db.execute(sql, params)
            for fid, vid, deleted, rois, labels, ctypes, saved, doc, row_id in db.fetchall():
                found.setdefault(fid, []).append(StoredRow(
                    fid, vid, bool(deleted), rois, load_json(labels), load_json(ctypes), saved, doc, row_id))
    for rows in found.values():
        rows.sort(key=lambda r: rank[r.version_id])
    return found


def _resolved_rows(version: DatasetVersion, frame_ids: list[str]) -> dict[str, StoredRow]:
    """The row that resolves each frame id the version holds (tombstoned ids are left out)."""
    found = rows_for_ids(version, frame_ids, with_documents=True)
    return {fid: rows[0] for fid, rows in found.items() if not rows[0].deleted}


MAX_LOOKUP_IDS = 10_000  # ids one lookup takes


def check_frame_ids(frame_ids: Any, limit: int) -> None:
    """Ids to look up or delete: a list of at most ``limit`` non-empty strings without NUL (no stored id is
    empty or holds one, and PostgreSQL could not search for one)."""
    if not isinstance(frame_ids, list | tuple):
        raise InvalidInput.for_field("frame_ids", "must be a list")
    if len(frame_ids) > limit:
        raise InvalidInput.for_field("frame_ids", f"at most {limit} per call")
    if any(not isinstance(fid, str) or not fid or "\x00" in fid for fid in frame_ids):
        raise InvalidInput.for_field("frame_ids", "must be a list of non-empty strings without NUL")


def frames_get(version: DatasetVersion, frame_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The version's frames with these ids (ids it does not hold are left out)."""
    return {fid: frame_output(row.document, row.saved, row.version_id, fid)
            for fid, row in _resolved_rows(version, frame_ids).items()}


def frames_count(version: DatasetVersion) -> int:
    return version.frame_count


def version_label_stats(version: DatasetVersion) -> dict[str, Any]:
    """ROI count per label, annotated and unannotated frames, sources per content type: kept by the writes."""
    stats = version.stats or {}
    labels = stats.get("labels", {})
    return {
        "frames": version.frame_count,
        "annotated": stats.get("annotated", 0),
        "unannotated": version.frame_count - stats.get("annotated", 0),
        "labels": dict(sorted(labels.items(), key=lambda item: (-item[1], item[0]))),
        "content_types": dict(sorted(stats.get("content_types", {}).items(), key=lambda item: (-item[1], item[0]))),
    }


# --- streams in frame-id order: diffs and merges ---------------------------------------------------------


def row_groups(dataset_id: Any, version_ids: list[Any], columns: str = "e.content_hash"
               ) -> Iterator[tuple[str, dict[Any, tuple]]]:
    """Yield (frame_id, {version_id: (deleted, *columns)}) for every frame id held by any of the versions,
    in frame-id order, streaming (a server-side cursor on PostgreSQL)."""
    version_ids = list(dict.fromkeys(version_ids))
    sql = (
        f"SELECT e.frame_id, e.version_id, e.deleted, {columns} FROM {FRAME_TABLE} e "
        f"WHERE e.dataset_id = %s AND e.version_id IN ({', '.join(['%s'] * len(version_ids))}) "
        "ORDER BY e.frame_id"
    )
    with connection.chunked_cursor() as db:
        db.execute(sql, [db_uuid(dataset_id), *version_ids])
        current, group = None, {}
        while True:
            rows = db.fetchmany(STREAM_CHUNK)
            if not rows:
                break
            for fid, vid, deleted, *rest in rows:
                if fid != current:
                    if current is not None:
                        yield current, group
                    current, group = fid, {}
                group[vid] = (bool(deleted), *rest)
        if current is not None:
            yield current, group


def resolve_in(group: dict[Any, tuple], ancestry: list[Any]) -> tuple[Any, tuple] | None:
    """The winning (version_id, row) of a frame-id group for one version's ancestry; None if absent."""
    for vid in ancestry:
        row = group.get(vid)
        if row is not None:
            return None if row[0] else (vid, row)
    return None


@dataclass
class DiffCounts:
    added: int = 0
    removed: int = 0
    modified: int = 0


def versions_diff(base: DatasetVersion, target: DatasetVersion) -> Iterator[tuple[str, str]]:
    """Stream ("added" | "removed" | "modified", frame_id) going from ``base`` to ``target``."""
    if base.dataset_id != target.dataset_id:
        raise InvalidInput.for_field("other", "both versions must belong to the same dataset")
    base_anc, target_anc = Ancestry.of(base).ids, Ancestry.of(target).ids
    for fid, group in row_groups(base.dataset_id, base_anc + target_anc):
        old, new = resolve_in(group, base_anc), resolve_in(group, target_anc)
        if old is None and new is not None:
            yield "added", fid
        elif old is not None and new is None:
            yield "removed", fid
        elif old is not None and new is not None and old[1][1] != new[1][1]:
            yield "modified", fid


def versions_diff_counts(base: DatasetVersion, target: DatasetVersion) -> DiffCounts:
    counts = DiffCounts()
    for change, _fid in versions_diff(base, target):
        setattr(counts, change, getattr(counts, change) + 1)
    return counts


def frame_with_revision(version: DatasetVersion, frame_id: str) -> tuple[dict[str, Any], int] | None:
    """The frame as the version resolves it and its revision (the resolving row's id), or None."""
    row = _resolved_rows(version, [frame_id]).get(frame_id)
    if row is None:
        return None
    return frame_output(row.document, row.saved, row.version_id, frame_id), row.row_id
