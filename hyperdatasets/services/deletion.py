"""Deleting the source objects of a deleted dataset: the ledger, the job engine and the sweeper.

1. ``deletion_job_create`` runs inside the transaction that deletes the dataset: one INSERT ... SELECT
   writes a ledger row per distinct URI its frames point to (sources, previews, masks), so the URIs are
   durable the moment the dataset disappears. file://, https:// and other schemes are skipped at once.
2. ``deletion_job_run`` (the Celery task's body) takes a lease on the job, marks objects still referenced
   by any surviving frame as skipped, then deletes in rounds of about a second: a few provider-sized
   batches kept in flight (S3 1,000 keys, GCS 100, Azure 256), the outcomes and the counters written in one
   transaction per round.
   Throttling and transient errors are retried with exponential backoff and jitter, a bounded number of
   times; 404 counts as deleted. A killed worker repeats at most its last round: deletes are idempotent.
3. ``deletion_jobs_sweep`` (Celery beat) re-queues jobs whose lease expired or whose message was lost.

References: every frame writer takes a shared lock (``frames_write_guard``) and each round takes it
exclusively while it checks the frames written since the last check and deletes, so no frame can start
pointing at an object between its check and its delete. The first check, over every frame, runs without
the lock up to the highest frame row id committed when it started.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections import defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from hyperdatasets.models import Dataset, DeletionJob, JobStatus, ObjectStatus, SkipReason, SourceDeletion
from hyperdatasets.selectors.frames import FRAME_TABLE, db_uuid
from hyperdatasets.services.projects import _user_or_none
from hyperdatasets.storage import provider_for_scheme
from hyperdatasets.storage.deleting import KeyResult, ObjectRef, parse_object_uri

log = logging.getLogger(__name__)

LEDGER_TABLE = SourceDeletion._meta.db_table
DELETABLE = ("s3", "gs", "azure")
_GUARD_KEY = 0x68647364  # the advisory lock between frame writers and deletion rounds (PostgreSQL)


def frames_write_guard() -> None:
    """Called by every frame writer inside its transaction: waits while a deletion round runs.

    On SQLite, writers are serialised by the database and a deletion round holds the write lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [_GUARD_KEY])


def _exclusive_guard() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_GUARD_KEY])


def _uris_select(where: str) -> str:
    """SQL selecting column ``uri``: every source, preview and mask URI of the frame rows matching ``where``
    (a condition on ``f``)."""
    if connection.vendor == "postgresql":
        return f"""
            SELECT u.uri FROM {FRAME_TABLE} f
            CROSS JOIN LATERAL jsonb_array_elements((f.document::jsonb) -> 'sources') s
            CROSS JOIN LATERAL (
                SELECT s.value ->> 'uri' AS uri
                UNION ALL SELECT s.value -> 'preview' ->> 'uri'
                UNION ALL SELECT m.value ->> 'uri'
                    FROM jsonb_array_elements(COALESCE(s.value -> 'masks', '[]'::jsonb)) m
            ) u
            WHERE {where} AND NOT f.deleted AND u.uri IS NOT NULL"""
    sources = f"{FRAME_TABLE} f, json_each(f.document, '$.sources') s"
    return f"""
        SELECT json_extract(s.value, '$.uri') AS uri FROM {sources} WHERE {where} AND NOT f.deleted
        UNION ALL SELECT json_extract(s.value, '$.preview.uri') FROM {sources}
            WHERE {where} AND NOT f.deleted AND json_extract(s.value, '$.preview.uri') IS NOT NULL
        UNION ALL SELECT json_extract(m.value, '$.uri') FROM {sources}, json_each(s.value, '$.masks') m
            WHERE {where} AND NOT f.deleted"""


def _where_params(*params: Any) -> list[Any]:
    """The parameters of ``_uris_select``'s condition, as often as the vendor's SQL repeats it."""
    return list(params) * (1 if connection.vendor == "postgresql" else 3)


_PROVIDER_SQL = """CASE WHEN d.uri LIKE 's3://%%' THEN 's3' WHEN d.uri LIKE 'gs://%%' THEN 'gs'
    WHEN d.uri LIKE 'azure://%%' THEN 'azure' WHEN d.uri LIKE 'file://%%' THEN 'local'
    WHEN d.uri LIKE 'https://%%' OR d.uri LIKE 'http://%%' THEN 'https' ELSE 'other' END"""


def deletion_job_create(dataset: Dataset, user=None) -> DeletionJob:
    """Record every object URI of the dataset's frames in a new job's ledger. Call inside the transaction
    that deletes the dataset, before its frame rows go."""
    job = DeletionJob.objects.create(
        dataset_id=dataset.pk, dataset_name=dataset.name, project=dataset.project,
        project_name=dataset.project.name if dataset.project_id else "",
        created_by=_user_or_none(user),
    )
    deletable = ", ".join(f"'{p}'" for p in DELETABLE)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {LEDGER_TABLE} (job_id, uri, provider, status, reason, attempts, last_error)
            SELECT %s, d.uri, d.provider,
                   CASE WHEN d.provider IN ({deletable}) THEN '{ObjectStatus.PENDING}'
                        ELSE '{ObjectStatus.SKIPPED}' END,
                   CASE WHEN d.provider IN ({deletable}) THEN ''
                        WHEN d.provider = 'local' THEN '{SkipReason.LOCAL}' ELSE '{SkipReason.UNSUPPORTED}' END,
                   0, ''
            FROM (SELECT y.uri, {_PROVIDER_SQL.replace('d.uri', 'y.uri')} AS provider
                  FROM (SELECT DISTINCT x.uri FROM ({_uris_select("f.dataset_id = %s")}) x) y) d""",
            [db_uuid(job.pk), *_where_params(db_uuid(dataset.pk))],
        )
    _recount(job)
    job.save()
    return job


def deletion_job_enqueue(job: DeletionJob) -> None:
    """Send the job to a worker once the transaction that made it commits (the sweeper covers a lost send)."""
    def send() -> None:
        from hyperdatasets.tasks import run_deletion_job

        try:
            run_deletion_job.delay(str(job.pk))
        except Exception as exc:  # the broker is down: the sweeper queues the job again later
            log.warning("could not queue deletion job %s (%s); the sweeper will retry", job.pk, type(exc).__name__)

    transaction.on_commit(send)


def _recount(job: DeletionJob) -> None:
    """Set the job's counters from its ledger rows."""
    job.total = job.deleted = job.skipped = job.failed = 0
    providers: dict[str, dict[str, int]] = {}
    reasons: dict[str, int] = {}
    rows = (SourceDeletion.objects.filter(job=job).values_list("provider", "status", "reason")
            .order_by().annotate(n=Count("id")))
    for provider, status, reason, n in rows:
        counts = providers.setdefault(provider, {"total": 0, "deleted": 0, "skipped": 0, "failed": 0})
        counts["total"] += n
        job.total += n
        if status != ObjectStatus.PENDING:
            counts[status] += n
            setattr(job, status, getattr(job, status) + n)
        if status == ObjectStatus.SKIPPED:
            reasons[reason] = reasons.get(reason, 0) + n
    job.providers, job.skipped_reasons = providers, reasons


def _count(job: DeletionJob, provider: str, status: str, n: int, reason: str = "") -> None:
    if not n:
        return
    counts = job.providers.setdefault(provider, {"total": 0, "deleted": 0, "skipped": 0, "failed": 0})
    counts[status] += n
    setattr(job, status, getattr(job, status) + n)
    if reason:
        job.skipped_reasons[reason] = job.skipped_reasons.get(reason, 0) + n


def _max_frame_row_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {FRAME_TABLE}")
        return int(cursor.fetchone()[0])


def _skip_referenced(job: DeletionJob, after_id: int, upto_id: int) -> int:
    """Mark pending objects that frame rows in (after_id, upto_id] point to as skipped (still referenced)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {LEDGER_TABLE} SET status = %s, reason = %s
            WHERE job_id = %s AND status = %s
              AND uri IN ({_uris_select("f.id > %s AND f.id <= %s")})
            RETURNING provider""",
            [ObjectStatus.SKIPPED, SkipReason.REFERENCED, db_uuid(job.pk), ObjectStatus.PENDING,
             *_where_params(after_id, upto_id)],
        )
        skipped = [row[0] for row in cursor.fetchall()]
    for provider in set(skipped):
        _count(job, provider, ObjectStatus.SKIPPED, skipped.count(provider), SkipReason.REFERENCED)
    return len(skipped)


# -- the engine --------------------------------------------------------------------------------------------

# What a round changes on the job row.
PROGRESS_FIELDS = ["deleted", "skipped", "failed", "providers", "skipped_reasons", "checked_frame_id", "lease_until",
                   "updated"]


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _lease_until():
    return timezone.now() + timedelta(seconds=settings.HYPERDATASETS_DELETE_LEASE_SECONDS)


def _claim(job_id: Any, owner: str) -> DeletionJob | None:
    """Take the job's lease, or None when it is finished, gone, or another live worker holds it."""
    with transaction.atomic():
        job = DeletionJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        now = timezone.now()
        if job.lease_owner and job.lease_owner != owner and job.lease_until and job.lease_until > now:
            return None
        job.runs += 1
        if job.runs > settings.HYPERDATASETS_DELETE_MAX_RUNS:
            _finish(job, error=f"gave up after {job.runs - 1} runs that did not finish (a worker kept dying)")
            return None
        job.lease_owner, job.lease_until = owner, _lease_until()
        job.status = JobStatus.RUNNING
        job.started = job.started or now
        job.save()
        return job


def _renew(job: DeletionJob, owner: str) -> bool:
    """Inside a round's transaction: lock the job row, confirm the lease is still ours, extend it."""
    current = DeletionJob.objects.select_for_update().only("lease_owner").get(pk=job.pk)
    if current.lease_owner != owner:
        return False
    job.lease_until = _lease_until()
    return True


def _finish(job: DeletionJob, error: str = "") -> None:
    if error:
        SourceDeletion.objects.filter(job=job, status=ObjectStatus.PENDING).update(
            status=ObjectStatus.FAILED, last_error=error[:2000])
    _recount(job)
    if job.failed == 0:
        job.status = JobStatus.SUCCEEDED
    elif job.deleted or job.skipped:
        job.status = JobStatus.PARTLY_FAILED
    else:
        job.status = JobStatus.FAILED
    job.error = error
    job.finished = timezone.now()
    job.lease_owner, job.lease_until = "", None
    job.save()


Row = tuple[int, str, int]  # a pending ledger row: id, uri, attempts


@dataclass
class _Batch:
    """One provider request: rows of one bucket, with their keys parsed once."""

    ref: ObjectRef
    rows: list[Row] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


def _batches(rows: list[Row]) -> tuple[list[_Batch], list[Row]]:
    """Group pending rows into provider-sized batches of one bucket; and the rows whose URI names no object."""
    groups: dict[tuple[str, str, str], _Batch] = {}
    invalid = []
    for row in rows:
        ref = parse_object_uri(row[1])
        if ref is None:
            invalid.append(row)
            continue
        group = groups.setdefault((ref.provider, ref.account, ref.bucket), _Batch(ref))
        group.rows.append(row)
        group.keys.append(ref.key)
    limit = settings.HYPERDATASETS_DELETE_BATCH_LIMIT
    out = []
    for group in groups.values():
        size = provider_for_scheme(group.ref.provider).batch_size
        size = min(size, limit) if limit else size
        out += [_Batch(group.ref, group.rows[i:i + size], group.keys[i:i + size])
                for i in range(0, len(group.rows), size)]
    return out, invalid


class _Deleters:
    """One client per bucket for the whole run (building clients is slow)."""

    def __init__(self) -> None:
        self._by_bucket: dict[tuple[str, str, str], Any] = {}

    def get(self, ref: ObjectRef) -> tuple[Any, str]:
        """The bucket's deleter, or None and why it cannot be built (no credentials, bad endpoint)."""
        key = (ref.provider, ref.account, ref.bucket)
        if key not in self._by_bucket:
            try:
                self._by_bucket[key] = (provider_for_scheme(ref.provider).deleter(ref.bucket, ref.account), "")
            except Exception as exc:  # noqa: BLE001 - reported on the objects, retried on the next round
                return None, f"{ref.provider}: cannot reach bucket {ref.bucket!r}: {type(exc).__name__}: {exc}"[:500]
        return self._by_bucket[key]


def _send(deleter, error: str, batch: _Batch) -> dict[str, KeyResult]:
    """Runs in a pool thread: no database access here, only the store's API."""
    if deleter is None:
        return {key: KeyResult("retry", error) for key in batch.keys}
    try:
        return deleter(batch.keys)
    except Exception as exc:  # noqa: BLE001 - an unexpected client failure is retried, then reported
        message = f"{batch.ref.provider}: {type(exc).__name__}: {exc}"[:500]
        return {key: KeyResult("retry", message) for key in batch.keys}


def _mark(ids: list[int], status: str, error: str, bump: bool) -> None:
    """One UPDATE for a batch's rows (an array parameter on PostgreSQL: 1,000 ids cost one bind)."""
    if not ids:
        return
    attempts = "attempts + 1" if bump else "attempts"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"UPDATE {LEDGER_TABLE} SET status = %s, last_error = %s, attempts = {attempts} "
                           "WHERE id = ANY(%s)", [status, error, ids])
        else:
            cursor.execute(f"UPDATE {LEDGER_TABLE} SET status = %s, last_error = %s, attempts = {attempts} "
                           f"WHERE id IN ({', '.join(['%s'] * len(ids))})", [status, error, *ids])


def _record(job: DeletionJob, provider: str, outcomes: list[tuple[Row, KeyResult]]) -> int:
    """Write one batch's outcomes to the ledger and the counters; returns the highest attempt retried."""
    max_attempts = settings.HYPERDATASETS_DELETE_MAX_ATTEMPTS
    deleted = [row[0] for row, result in outcomes if result.outcome == "deleted"]
    failed: dict[str, list[int]] = defaultdict(list)
    retried: dict[str, list[int]] = defaultdict(list)
    worst = 0
    for row, result in outcomes:
        if result.outcome == "deleted":
            continue
        attempts = row[2] + 1
        if result.outcome == "error" or attempts >= max_attempts:
            failed[result.message[:2000]].append(row[0])
        else:
            retried[result.message[:2000]].append(row[0])
            worst = max(worst, attempts)
    _mark(deleted, ObjectStatus.DELETED, "", bump=False)
    for message, ids in failed.items():
        _mark(ids, ObjectStatus.FAILED, message, bump=True)
    for message, ids in retried.items():
        _mark(ids, ObjectStatus.PENDING, message, bump=True)
    _count(job, provider, ObjectStatus.DELETED, len(deleted))
    _count(job, provider, ObjectStatus.FAILED, sum(len(ids) for ids in failed.values()))
    return worst


def _backoff(attempt: int) -> float:
    base, cap = settings.HYPERDATASETS_DELETE_RETRY_BASE_SECONDS, settings.HYPERDATASETS_DELETE_RETRY_MAX_SECONDS
    return min(cap, base * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def deletion_job_run(job_id: Any, owner: str | None = None) -> DeletionJob | None:
    """Run (or go on with) a deletion job until its ledger has no pending object. Safe to call again at any
    point: a second caller finds the lease taken; a caller after a crash repeats at most one round."""
    owner = owner or _owner()
    job = _claim(job_id, owner)
    if job is None:
        return None
    log.info("deletion job %s: running (%s objects, run %s)", job.pk, job.total, job.runs)

    if not job.scanned:
        with transaction.atomic():
            _exclusive_guard()  # waits for frame writes in flight, so every row up to `upto` is committed
            upto = _max_frame_row_id()
        with transaction.atomic():
            if not _renew(job, owner):
                return None
            _skip_referenced(job, 0, upto)
            job.checked_frame_id, job.scanned = upto, True
            job.save()

    deleters = _Deleters()
    with ThreadPoolExecutor(max_workers=settings.HYPERDATASETS_DELETE_IN_FLIGHT, thread_name_prefix="delete") as pool:
        while True:
            with transaction.atomic():
                if not _renew(job, owner):
                    log.warning("deletion job %s: lease lost to another worker; stopping", job.pk)
                    return None
                _exclusive_guard()  # held until the round commits: no frame is written meanwhile
                upto = _max_frame_row_id()
                if upto > job.checked_frame_id:
                    _skip_referenced(job, job.checked_frame_id, upto)
                    job.checked_frame_id = upto
                sent, worst = _round(job, pool, deleters)
                if not sent:
                    _finish(job)
                    log.info("deletion job %s: %s (deleted %s, skipped %s, failed %s)", job.pk, job.status,
                             job.deleted, job.skipped, job.failed)
                    return job
                job.save(update_fields=PROGRESS_FIELDS)
            if worst:
                time.sleep(_backoff(worst))


def _round(job: DeletionJob, pool: ThreadPoolExecutor, deleters: _Deleters) -> tuple[int, int]:
    """Keep ``HYPERDATASETS_DELETE_IN_FLIGHT`` batches in flight over the pending rows, in id order, for about
    ``HYPERDATASETS_DELETE_ROUND_SECONDS`` (at least one batch), recording each outcome as it arrives.
    Returns the batches sent and the highest attempt that will be retried."""
    in_flight = settings.HYPERDATASETS_DELETE_IN_FLIGHT
    fetch = in_flight * (settings.HYPERDATASETS_DELETE_BATCH_LIMIT or 1000)
    deadline = time.monotonic() + settings.HYPERDATASETS_DELETE_ROUND_SECONDS
    queued: deque[_Batch] = deque()
    running: dict[Any, _Batch] = {}
    after_id, exhausted, sent, worst = 0, False, 0, 0
    while True:
        while len(running) < in_flight and (sent == 0 or time.monotonic() < deadline):
            if not queued and not exhausted:
                rows = list(SourceDeletion.objects.filter(job=job, status=ObjectStatus.PENDING, id__gt=after_id)
                            .order_by("id").values_list("id", "uri", "attempts")[:fetch])
                exhausted = len(rows) < fetch
                if rows:
                    after_id = rows[-1][0]
                    batches, invalid = _batches(rows)
                    _skip_invalid(job, invalid)
                    queued.extend(batches)
            if not queued:
                break
            batch = queued.popleft()
            running[pool.submit(_send, *deleters.get(batch.ref), batch)] = batch
            sent += 1
        if not running:
            return sent, worst
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            batch = running.pop(future)
            results = future.result()
            outcomes = [(row, results[key]) for row, key in zip(batch.rows, batch.keys, strict=True)]
            worst = max(worst, _record(job, batch.ref.provider, outcomes))


def _skip_invalid(job: DeletionJob, rows: list[Row]) -> None:
    """Rows whose URI names no object (``s3://bucket`` without a key, say) are skipped as unsupported."""
    if not rows:
        return
    SourceDeletion.objects.filter(pk__in=[r[0] for r in rows]).update(
        status=ObjectStatus.SKIPPED, reason=SkipReason.UNSUPPORTED)
    for row in rows:
        _count(job, row[1].partition("://")[0], ObjectStatus.SKIPPED, 1, SkipReason.UNSUPPORTED)


def deletion_jobs_sweep() -> list[str]:
    """Queue again the jobs no worker is running: an expired lease (the worker died) or a queued job whose
    message was lost. Returns their ids."""
    from hyperdatasets.tasks import run_deletion_job

    now = timezone.now()
    grace = now - timedelta(seconds=settings.HYPERDATASETS_DELETE_LEASE_SECONDS)
    stalled = DeletionJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).filter(
        Q(lease_until__lt=now)
        | Q(lease_until__isnull=True, updated__lt=grace))
    ids = [str(pk) for pk in stalled.values_list("pk", flat=True)]
    for job_id in ids:
        log.info("deletion job %s: no live worker holds it; queued again", job_id)
        run_deletion_job.delay(job_id)
    return ids


def deletion_job_retry_failed(job: DeletionJob) -> int:
    """Give a finished job's failed objects another set of attempts (after fixing credentials, say)."""
    with transaction.atomic():
        job = DeletionJob.objects.select_for_update().get(pk=job.pk)
        count = SourceDeletion.objects.filter(job=job, status=ObjectStatus.FAILED).update(
            status=ObjectStatus.PENDING, attempts=0)
        if count:
            _recount(job)
            job.status, job.finished, job.error, job.runs = JobStatus.QUEUED, None, "", 0
            job.lease_owner, job.lease_until = "", None
            job.save()
            deletion_job_enqueue(job)
    return count
