"""The bulk row writer of frames: COPY on PostgreSQL, executemany on SQLite. No per-row ORM objects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from django.db import connection
from psycopg import Copy

from hyperdatasets.frame_documents import CleanFrame
from hyperdatasets.selectors.frames import (
    FRAME_TABLE,
    ID_CHUNK,
    LABEL_TABLE,
    db_uuid,
    id_list_param,
    in_clause,
    labels_in_frame_rows,
    rows_by_id_probe,
)
from hyperdatasets.services.deletion import frames_write_guard

FRAME_COLUMNS = ("dataset_id", "version_id", "frame_id", "context_id", "timestamp", "deleted", "document", "meta",
                 "content_hash", "roi_count", "labels", "content_types", "saved")
LABEL_COLUMNS = ("dataset_id", "version_id", "frame_id", "label")


def _row_tables() -> tuple[str, ...]:
    """The tables holding a version's rows: the frames, and on SQLite the label rows."""
    return (FRAME_TABLE,) if labels_in_frame_rows() else (FRAME_TABLE, LABEL_TABLE)


@contextmanager
def _copy_in(table: str, columns: Sequence[str]) -> Iterator[Copy]:
    """A PostgreSQL ``COPY table (columns) FROM STDIN`` on the connection's current transaction."""
    connection.ensure_connection()
    with connection.cursor() as wrapper:
        with wrapper.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            yield copy


def _write(table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    if connection.vendor == "postgresql":
        with _copy_in(table, columns) as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(rows))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_CHUNK_BYTES = 256 * 1024


def copy_text(value: str) -> bytes:
    """A string as a field of COPY's text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.translate(_COPY_ESCAPES)
    return value.encode()


def copy_json(encoded: bytes) -> bytes:
    """Encoded JSON as a COPY text field: JSON has no raw tab or line break, so only backslashes double."""
    return encoded.replace(b"\\", b"\\\\")


def _frame_lines(dataset: Any, version: Any, frames: Iterable[CleanFrame], saved_ms: int):
    """The frames' rows as COPY text, a chunk of lines at a time. Formatting the fields here (rather than
    through ``copy.write_row``) skips a dumper per value: the stream's largest cost after validation."""
    head = f"{dataset}\t{version}\t".encode()
    tail = f"\t{saved_ms}\n".encode()
    lines: list[bytes] = []
    size = 0
    for f in frames:
        line = b"".join((
            head, copy_text(f.frame_id), b"\t", copy_text(f.context_id), b"\t%d\tf\t" % f.timestamp,
            copy_json(f.document_json), b"\t", copy_json(f.meta_json), b"\t",
            f.content_hash.encode(), b"\t%d\t" % f.roi_count, copy_json(orjson.dumps(f.labels)), b"\t",
            copy_json(orjson.dumps(f.content_types)), tail,
        ))
        lines.append(line)
        size += len(line)
        if size >= _COPY_CHUNK_BYTES:
            yield b"".join(lines)
            lines, size = [], 0
    if lines:
        yield b"".join(lines)


def frame_rows_stream(dataset_id: Any, version_id: Any, frames: Iterable[CleanFrame], saved_ms: int
                      ) -> list[CleanFrame]:
    """Append a row per frame as the iterator yields it (validation and COPY overlap); returns the frames.

    Rows an earlier write (or an earlier frame of this one) stored for the same ids stay until
    ``frame_rows_drop_replaced`` runs in the same transaction.
    """
    dataset, version = db_uuid(dataset_id), db_uuid(version_id)
    written: list[CleanFrame] = []
    frames_write_guard()

    def kept(frames):
        for f in frames:
            written.append(f)
            yield f

    if connection.vendor == "postgresql":
        with _copy_in(FRAME_TABLE, FRAME_COLUMNS) as copy:
            for chunk in _frame_lines(dataset, version, kept(frames), saved_ms):
                copy.write(chunk)
        return written
    _write(FRAME_TABLE, FRAME_COLUMNS, (
        (dataset, version, f.frame_id, f.context_id, f.timestamp, False, f.document_json.decode(),
         f.meta_json.decode(), f.content_hash, f.roi_count, orjson.dumps(f.labels).decode(),
         orjson.dumps(f.content_types).decode(), saved_ms)
        for f in kept(frames)
    ))
    return written


def frame_rows_drop_replaced(dataset_id: Any, version_id: Any, frame_ids: Sequence[str]) -> None:
    """Delete the version's rows for these ids that a newer row of the same id replaces."""
    dataset, version = db_uuid(dataset_id), db_uuid(version_id)
    with connection.cursor() as cursor:
        for rows_sql, rows_params in _own_rows(FRAME_TABLE, dataset, version, frame_ids):
            cursor.execute(
                f"DELETE FROM {FRAME_TABLE} WHERE {rows_sql} "
                f"AND id < (SELECT max(g.id) FROM {FRAME_TABLE} g WHERE g.dataset_id = {FRAME_TABLE}.dataset_id "
                f"AND g.frame_id = {FRAME_TABLE}.frame_id AND g.version_id = {FRAME_TABLE}.version_id)",
                rows_params,
            )


def _own_rows(table: str, dataset: Any, version: Any, frame_ids: Sequence[str]):
    """(SQL, params) of "the version's rows in ``table`` for these ids", in chunks the database takes.
    On PostgreSQL the rows are found by one index probe per id and named by ``ctid``."""
    if connection.vendor == "postgresql":
        if frame_ids:
            probe = rows_by_id_probe(table, "e.ctid", "e.version_id = %s")
            yield f"ctid = ANY(ARRAY({probe}))", [id_list_param(frame_ids), dataset, version]
        return
    for start in range(0, len(frame_ids), ID_CHUNK):
        id_sql, id_params = in_clause("frame_id", list(frame_ids[start:start + ID_CHUNK]))
        yield f"dataset_id = %s AND version_id = %s AND {id_sql}", [dataset, version, *id_params]


def _delete_rows(table: str, dataset: Any, version: Any, frame_ids: Sequence[str]) -> None:
    with connection.cursor() as cursor:
        for rows_sql, rows_params in _own_rows(table, dataset, version, frame_ids):
            cursor.execute(f"DELETE FROM {table} WHERE {rows_sql}", rows_params)


def frame_labels_replace(dataset_id: Any, version_id: Any, frames: Sequence[CleanFrame],
                         replaced: Sequence[str]) -> None:
    """The label rows of these frames in the version (SQLite; PostgreSQL indexes the frame rows' own
    ``labels``): those of the ``replaced`` ids go, one row per distinct label of each frame is added."""
    if labels_in_frame_rows():
        return
    dataset, version = db_uuid(dataset_id), db_uuid(version_id)
    _delete_rows(LABEL_TABLE, dataset, version, replaced)
    _write(LABEL_TABLE, LABEL_COLUMNS, (
        (dataset, version, f.frame_id, label) for f in frames for label in dict.fromkeys(f.labels)
    ))


def tombstones_insert(dataset_id: Any, version_id: Any, frame_ids: Sequence[str], saved_ms: int) -> None:
    dataset, version = db_uuid(dataset_id), db_uuid(version_id)
    _write(FRAME_TABLE, FRAME_COLUMNS, (
        (dataset, version, fid, "", 0, True, None, "{}", "", 0, "[]", "[]", saved_ms) for fid in frame_ids
    ))


def frame_rows_delete(dataset_id: Any, version_id: Any, frame_ids: Sequence[str]) -> None:
    """Delete a version's own rows (and label rows) for these frame ids."""
    dataset, version = db_uuid(dataset_id), db_uuid(version_id)
    for table in _row_tables():
        _delete_rows(table, dataset, version, frame_ids)


def version_rows_delete(dataset_id: Any, version_id: Any) -> None:
    """Delete every row a version stored (its frames, tombstones and labels)."""
    with connection.cursor() as cursor:
        for table in _row_tables():
            cursor.execute(f"DELETE FROM {table} WHERE dataset_id = %s AND version_id = %s",
                           [db_uuid(dataset_id), db_uuid(version_id)])


def frame_rows_copy(dataset_id: Any, version_id: Any, sources: Sequence[tuple[Any, str]]) -> None:
    """Copy the rows (frame_id held by source version) into ``version_id``: merge corrections."""
    dataset, target = db_uuid(dataset_id), db_uuid(version_id)
    frames_write_guard()
    by_source: dict[Any, list[str]] = {}
    for source_version, fid in sources:
        by_source.setdefault(source_version, []).append(fid)
    copied = {table: (", ".join(columns), ", ".join("%s" if c == "version_id" else c for c in columns))
              for table, columns in ((FRAME_TABLE, FRAME_COLUMNS), (LABEL_TABLE, LABEL_COLUMNS))}
    with connection.cursor() as cursor:
        for source_version, fids in by_source.items():
            for table in _row_tables():
                cols, select = copied[table]
                for rows_sql, rows_params in _own_rows(table, dataset, source_version, fids):
                    cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {select} FROM {table} WHERE {rows_sql}",
                                   [target, *rows_params])
