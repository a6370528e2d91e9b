"""Exports of a dataview's frames into one file in media storage (ClearML's "EXPORT FRAMES": JSON or JSON Lines,
with an optional projection), run by a Celery worker with progress.

1. ``export_create`` records the job (queued) and sends it to a worker when the transaction commits.
2. ``export_run`` (the task) takes the job's lease, starts a run of the dataview as it is then (its order and
   limit, one pass even when the dataview is infinite), writes its frames batch by batch into a local temporary
   file, saving ``done``/``written`` after each batch, then stores the file under
   ``exports/dataviews/<export id>/`` of the default storage and marks the job succeeded. The run's snapshot is
   dropped either way. A worker that dies leaves the lease to expire; ``exports_sweep`` (Celery beat) queues
   the job again, and the next run starts the file over. After ``HYPERDATASETS_EXPORT_MAX_RUNS`` runs it fails.
3. ``exports_sweep`` also removes exports (file and row) older than ``HYPERDATASETS_EXPORT_KEPT_DAYS``.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from typing import Any

import orjson
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from dataviews import selectors, services, spec
from dataviews.models import Dataview, DataviewExport, DataviewIteration, ExportFormat
from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.services.jobs import (
    JobLost,
    job_claim,
    job_enqueue_on_commit,
    job_fail_if_owned,
    job_progress,
    job_succeed,
    jobs_stalled,
    worker_name,
)
from hyperdatasets.upload_paths import safe_part

log = logging.getLogger(__name__)

EXPORT_BATCH = selectors.MAX_BATCH
CONTENT_TYPES = {ExportFormat.JSON: "application/json", ExportFormat.JSONL: "application/x-ndjson"}
ExportLost = JobLost


def _lease() -> int:
    return settings.HYPERDATASETS_EXPORT_LEASE_SECONDS


def export_create(dataview: Dataview, *, user=None, format: Any = ExportFormat.JSONL,
                  projection: Any = None) -> DataviewExport:
    """A queued export of the dataview's frames as ``format`` (json or jsonl), each frame reduced to
    ``projection`` (dotted field paths; none: whole frames)."""
    if format not in ExportFormat.values:
        raise InvalidInput.for_field("format", f"must be one of {', '.join(ExportFormat.values)}")
    paths = spec.clean_projection(projection)
    if not spec.inputs_from_stored(dataview.versions):
        raise InvalidInput.for_field("versions", "the dataview has no input version to export")
    with transaction.atomic():
        job = DataviewExport.objects.create(dataview=dataview, format=format, projection=paths,
                                            inputs=dataview.versions,
                                            created_by=services._user_or_none(user))
        export_enqueue(job)
    return job


def export_enqueue(job: DataviewExport) -> None:
    """Send the job to a worker once the current transaction commits (the sweeper covers a lost send)."""
    job_enqueue_on_commit("run_dataview_export", job, "dataview export")


def _progress(job: DataviewExport, owner: str, **fields: Any) -> None:
    job_progress(job, owner, lease_seconds=_lease(), **fields)


def export_file_name(job: DataviewExport, dataview_name: str) -> str:
    return f"exports/dataviews/{job.pk}/{safe_part(dataview_name)}.{job.format}"


def export_run(job_id: Any, owner: str | None = None) -> DataviewExport | None:
    """Run the export to its end (or take it over from a dead worker). None when there is nothing to run:
    finished, deleted, or another live worker holds it."""
    owner = owner or worker_name()
    job = job_claim(DataviewExport, job_id, owner, lease_seconds=_lease(),
                    max_runs=settings.HYPERDATASETS_EXPORT_MAX_RUNS, reset={"done": 0, "written": 0})
    if job is None:
        return None
    run: DataviewIteration | None = None
    try:
        dataview = Dataview.objects.get(pk=job.dataview_id)
        run = services.iteration_start(dataview, user=job.created_by, iteration={"infinite": False})
        _progress(job, owner, total=run.length, inputs=run.recipe["versions"])
        with tempfile.TemporaryFile(dir=settings.VAR_DIR) as out:
            _write(job, owner, run, out)
            size = out.tell()
            out.seek(0)
            name = default_storage.save(export_file_name(job, dataview.name), File(out))
        try:
            job_succeed(job, owner, lease_seconds=_lease(), file=name, size=size)
        except ExportLost:
            default_storage.delete(name)
            raise
        log.info("dataview export %s: %s frames, %s bytes", job.pk, job.written, size)
        return job
    except ExportLost:
        log.warning("dataview export %s: lost to another worker or deleted; stopping", job.pk)
        return None
    except Exception as exc:
        log.exception("dataview export %s failed", job.pk)
        reason = exc.message if isinstance(exc, InvalidInput) else f"{type(exc).__name__}: {exc}"
        return job_fail_if_owned(DataviewExport, job.pk, owner, reason)
    finally:
        if run is not None:
            services.iteration_drop(run)


def _write(job: DataviewExport, owner: str, run: DataviewIteration, out) -> None:
    jsonl = job.format == ExportFormat.JSONL
    cursor: str | None = None
    done = written = 0
    out.write(b"" if jsonl else b"[")
    while True:
        batch = selectors.iteration_batch(run, cursor=cursor, batch_size=EXPORT_BATCH, projection=job.projection)
        for frame in batch.frames:
            if jsonl:
                out.write(orjson.dumps(frame) + b"\n")
            else:
                out.write((b",\n" if written else b"\n") + orjson.dumps(frame))
            written += 1
        done += batch.items
        _progress(job, owner, done=done, written=written)
        if batch.eof:
            break
        cursor = batch.cursor
    out.write(b"" if jsonl else b"\n]\n")


def export_delete(job: DataviewExport) -> None:
    """Remove the export and its file; a worker running it stops at its next batch."""
    with transaction.atomic():
        DataviewExport.objects.filter(pk=job.pk).delete()
    if job.file:
        default_storage.delete(job.file)


def exports_sweep() -> list[str]:
    """Queue again the exports no live worker runs (an expired lease, or a queued job whose message was lost),
    and remove those kept longer than ``HYPERDATASETS_EXPORT_KEPT_DAYS``. Returns the ids queued again."""
    from hyperdatasets.tasks import run_dataview_export

    kept = timezone.now() - timedelta(days=settings.HYPERDATASETS_EXPORT_KEPT_DAYS)
    for job in DataviewExport.objects.filter(created__lt=kept):
        export_delete(job)
    ids = jobs_stalled(DataviewExport, lease_seconds=_lease())
    for job_id in ids:
        log.info("dataview export %s: no live worker holds it; queued again", job_id)
        run_dataview_export.delay(job_id)
    return ids
