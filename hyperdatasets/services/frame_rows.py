"""The bulk row writer of frames: COPY on PostgreSQL, executemany on SQLite. No per-row ORM objects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from django.db import connection

from hyperdatasets.frame_documents import CleanFrame, content_hash
from hyperdatasets.selectors.frames import FRAME_TABLE, ID_CHUNK, LABEL_TABLE, db_uuid

FRAME_COLUMNS = ("dataset_id", "version_id", "frame_id", "context_id", "timestamp", "deleted", "document",
                 "content_hash", "roi_count", "labels", "content_types", "saved")
LABEL_COLUMNS = ("dataset_id", "version_id", "frame_id", "label", "context_id", "timestamp")


def _write(table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with connection.cursor() as wrapper:
            with wrapper.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(rows))


def frame_rows_insert(dataset_id: Any, version_id: Any, frames: Sequence[CleanFrame], saved_ms: int) -> None:
    dataset, version = db_uuid(dataset_id), db_uuid(version_id)
    _write(FRAME_TABLE, FRAME_COLUMNS, (
        (dataset, version, f.frame_id, f.context_id, f.timestamp, False, orjson.dumps(f.document).decode(),
         content_hash(f.document), f.roi_count, orjson.dumps(f.labels).decode(),
         orjson.dumps(f.content_types).decode(), saved_ms)
        for f in frames
    ))
    _write(LABEL_TABLE, LABEL_COLUMNS, (
        (dataset, version, f.frame_id, label, f.context_id, f.timestamp)
        for f in frames for label in dict.fromkeys(f.labels)
    ))


def tombstones_insert(dataset_id: Any, version_id: Any, frame_ids: Sequence[str], saved_ms: int) -> None:
    dataset, version = db_uuid(dataset_id), db_uuid(version_id)
    _write(FRAME_TABLE, FRAME_COLUMNS, (
        (dataset, version, fid, "", 0, True, None, "", 0, "[]", "[]", saved_ms) for fid in frame_ids
    ))


def frame_rows_delete(version_id: Any, frame_ids: Sequence[str]) -> None:
    """Delete a version's own rows (and label rows) for these frame ids."""
    version = db_uuid(version_id)
    with connection.cursor() as cursor:
        for start in range(0, len(frame_ids), ID_CHUNK):
            chunk = list(frame_ids[start:start + ID_CHUNK])
            marks = ", ".join(["%s"] * len(chunk))
            for table in (FRAME_TABLE, LABEL_TABLE):
                cursor.execute(f"DELETE FROM {table} WHERE version_id = %s AND frame_id IN ({marks})",
                               [version, *chunk])


def frame_rows_copy(version_id: Any, sources: Sequence[tuple[Any, str]]) -> None:
    """Copy the rows (frame_id held by source version) into ``version_id``: merge corrections."""
    target = db_uuid(version_id)
    by_source: dict[Any, list[str]] = {}
    for source_version, fid in sources:
        by_source.setdefault(source_version, []).append(fid)
    frame_cols = ", ".join(FRAME_COLUMNS)
    frame_select = ", ".join("%s" if c == "version_id" else c for c in FRAME_COLUMNS)
    label_cols = ", ".join(LABEL_COLUMNS)
    label_select = ", ".join("%s" if c == "version_id" else c for c in LABEL_COLUMNS)
    with connection.cursor() as cursor:
        for source_version, fids in by_source.items():
            for start in range(0, len(fids), ID_CHUNK):
                chunk = fids[start:start + ID_CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {FRAME_TABLE} ({frame_cols}) SELECT {frame_select} FROM {FRAME_TABLE} "
                    f"WHERE version_id = %s AND frame_id IN ({marks})", [target, source_version, *chunk])
                cursor.execute(
                    f"INSERT INTO {LABEL_TABLE} ({label_cols}) SELECT {label_select} FROM {LABEL_TABLE} "
                    f"WHERE version_id = %s AND frame_id IN ({marks})", [target, source_version, *chunk])
