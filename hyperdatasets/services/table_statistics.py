"""Planner statistics of the frame tables, refreshed after bulk writes instead of left to autovacuum.

A bulk load into a new version adds rows whose ``version_id`` the planner has never seen; until the table is
analyzed, PostgreSQL plans that version's first page as if it were empty (140 ms instead of 0.4 ms measured
with autovacuum off). Every write of at least ``ANALYZE_AFTER_ROWS`` rows queues one ``ANALYZE`` in the
background (a Celery task, debounced); the task analyzes only when the rows changed since the last analyze
pass autovacuum's own rule (50 rows + 10% of the table), so a burst of writes costs one pass.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection, transaction

FRAME_TABLES = ("hyperdatasets_frame", "hyperdatasets_framelabel")
ANALYZE_AFTER_ROWS = 1000
DEBOUNCE_SECONDS = 10
_QUEUED_KEY = "hyperdatasets:frame-analyze-queued"


def _stale_postgres_tables(rows_written: int) -> list[str]:
    # A writer's counts reach pg_stat_user_tables up to seconds after its commit: the rows the queuing
    # write reported count as changed too.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.relname = ANY(%s) AND greatest(s.n_mod_since_analyze, %s) > 50 + 0.1 * greatest(c.reltuples, 0)",
            [list(FRAME_TABLES), rows_written])
        return [row[0] for row in cursor.fetchall()]


def frame_tables_analyze(rows_written: int = 0) -> list[str]:
    """Analyze the frame tables whose statistics are stale; returns the tables analyzed. SQLite keeps no
    count of changes: its tables are analyzed each time (``ANALYZE`` there reads an index sample)."""
    tables = _stale_postgres_tables(rows_written) if connection.vendor == "postgresql" else list(FRAME_TABLES)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return tables


def frame_tables_analyze_soon(rows_written: int) -> None:
    """After a write commits: queue one analyze if the write was large (at most one queued per debounce
    interval and process; the task itself skips tables that need nothing)."""
    if rows_written < ANALYZE_AFTER_ROWS:
        return

    def queue() -> None:
        if cache.add(_QUEUED_KEY, True, timeout=DEBOUNCE_SECONDS):
            from hyperdatasets.tasks import analyze_frame_tables

            analyze_frame_tables.apply_async(args=[rows_written], countdown=DEBOUNCE_SECONDS)

    transaction.on_commit(queue)
