"""Planner statistics after bulk writes: queued once after a large write, run by a real worker."""

import time

import pytest
from django.db import connection

from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services import table_statistics
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.table_statistics import ANALYZE_AFTER_ROWS, frame_tables_analyze
from tests.deletion.conftest import start_worker  # noqa: F401
from tests.factories import frame


def _frames(prefix: str, n: int) -> list[dict]:
    return [frame(f"{prefix}{i}", labels=[["car"]]) for i in range(n)]


def _last_analyze():
    """PostgreSQL: when the frame table was last analyzed; SQLite: its sampled statistics (sqlite_stat1)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'hyperdatasets_frame'")
            return cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT group_concat(idx || ':' || stat) FROM sqlite_stat1 WHERE tbl = 'hyperdatasets_frame'")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_large_write_queues_one_analyze_a_small_one_none(monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    from hyperdatasets import tasks

    monkeypatch.setattr(tasks.analyze_frame_tables, "apply_async", lambda **kw: queued.append(kw))
    head = version_head(dataset_create(dataset_name="stats"))
    with django_capture_on_commit_callbacks(execute=True):
        frames_upsert(head, _frames("small", 10))
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True):
        frames_upsert(head, _frames("big", ANALYZE_AFTER_ROWS))
    assert queued == [{"args": [ANALYZE_AFTER_ROWS], "countdown": table_statistics.DEBOUNCE_SECONDS}]
    with django_capture_on_commit_callbacks(execute=True):
        frames_upsert(head, _frames("again", ANALYZE_AFTER_ROWS))
    assert len(queued) == 1  # debounced: the queued pass will see both writes


@pytest.mark.django_db(transaction=True)
def test_analyze_runs_only_where_statistics_are_stale():
    head = version_head(dataset_create(dataset_name="stats"))
    frames_upsert(head, _frames("f", 2000))
    if connection.vendor != "postgresql":
        assert set(frame_tables_analyze()) == set(table_statistics.FRAME_TABLES)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    assert "hyperdatasets_frame" in frame_tables_analyze()
    time.sleep(0.1)
    assert frame_tables_analyze() == []  # nothing changed since
    assert _last_analyze() is not None


@pytest.mark.django_db(transaction=True)
def test_a_worker_analyzes_after_a_bulk_write(start_worker, monkeypatch):  # noqa: F811
    monkeypatch.setattr(table_statistics, "DEBOUNCE_SECONDS", 1)
    worker = start_worker()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE hyperdatasets_frame")
    before = _last_analyze()
    head = version_head(dataset_create(dataset_name="stats"))
    frames_upsert(head, _frames("f", 3000))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _last_analyze() == before:
        time.sleep(0.2)
    assert _last_analyze() != before, worker.log()[-3000:]
