"""Annotation imports and exports as Celery jobs, with progress (``hyperdatasets.services.jobs`` leases).

- An import keeps the uploaded file in media storage (``imports/annotations/<job id>/``) until the job
  ends; the worker parses it and imports it in one transaction (``formats.services``): a bad file, or a
  frame the rules refuse, fails the job with the file, the JSON path and the rule, and writes nothing.
- An export writes the version's annotation file into a zip archive in media storage
  (``exports/annotations/<job id>/``), with the report of what the format could not carry.
- ``annotation_jobs_sweep`` (Celery beat) queues again the jobs no live worker holds, and removes finished
  jobs and their files after ``HYPERDATASETS_EXPORT_KEPT_DAYS``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from formats.bundle import ZIP_MAGIC, Bundle
from formats.models import AnnotationJob, JobKind
from formats.selectors import annotations_export, dataview_frames, frames_export
from formats.services import FORMATS, annotations_import, check_images_prefix
from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.models import DatasetVersion
from hyperdatasets.services.jobs import (
    job_claim,
    job_enqueue_on_commit,
    job_fail_if_owned,
    job_progress,
    job_succeed,
    jobs_stalled,
    worker_name,
)
from hyperdatasets.services.projects import _user_or_none
from hyperdatasets.services.versions import version_refuse_if_published
from hyperdatasets.upload_paths import safe_part

log = logging.getLogger(__name__)
MAX_IMPORT_BYTES = 2 * 2**30


def _lease() -> int:
    return settings.HYPERDATASETS_EXPORT_LEASE_SECONDS


def _check_format(format: Any) -> str:
    if format not in FORMATS:
        raise InvalidInput.for_field("format", f"must be one of {', '.join(FORMATS)}")
    return format


def import_job_create(version: DatasetVersion, upload, *, format: Any, images_prefix: Any, user=None,
                      file_name: str | None = None) -> AnnotationJob:
    """A queued import of ``upload`` (a file object) into the Draft ``version``."""
    _check_format(format)
    if check_images_prefix(images_prefix) == "":
        head = upload.read(4)
        upload.seek(0)
        if head != ZIP_MAGIC:
            raise InvalidInput.for_field("images_prefix", "give the URI prefix of the images, or upload a zip "
                                                          "archive holding them")
    version_refuse_if_published(version, "import annotations into it")
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_IMPORT_BYTES:
        raise InvalidInput.for_field("file", f"must be at most {MAX_IMPORT_BYTES} bytes")
    name = safe_part(file_name or getattr(upload, "name", None) or "annotations.json")
    with transaction.atomic():
        job = AnnotationJob.objects.create(kind=JobKind.IMPORT, format=format, version=version,
                                           images_prefix=images_prefix, source_name=name,
                                           created_by=_user_or_none(user))
        job.source = default_storage.save(f"imports/annotations/{job.pk}/{name}", File(upload, name=name))
        job.save(update_fields=["source"])
        _enqueue(job)
    return job


def dataview_export_job_create(dataview, *, format: Any, user=None, include_images: bool = False) -> AnnotationJob:
    """A queued export of the frames a run of ``dataview`` takes (its order and limit, one pass), as ``format``."""
    from dataviews import spec

    _check_format(format)
    if not spec.inputs_from_stored(dataview.versions):
        raise InvalidInput.for_field("versions", "the dataview has no input version to export")
    with transaction.atomic():
        job = AnnotationJob.objects.create(kind=JobKind.EXPORT, format=format, dataview=dataview,
                                           inputs=dataview.versions, include_images=include_images,
                                           created_by=_user_or_none(user))
        _enqueue(job)
    return job


def export_job_create(version: DatasetVersion, *, format: Any, user=None, include_images: bool = False
                      ) -> AnnotationJob:
    """A queued export of ``version`` (any status) as ``format``; with ``include_images``, the images this
    server stores are copied into the archive."""
    _check_format(format)
    with transaction.atomic():
        job = AnnotationJob.objects.create(kind=JobKind.EXPORT, format=format, version=version,
                                           include_images=include_images, created_by=_user_or_none(user))
        _enqueue(job)
    return job


def _enqueue(job: AnnotationJob) -> None:
    job_enqueue_on_commit("run_annotation_job", job, "annotation job")


def _import(job: AnnotationJob, owner: str) -> dict[str, Any]:
    with default_storage.open(job.source, "rb") as stored:
        bundle = Bundle(job.source_name, stored.read())
    result = annotations_import(job.version, format=job.format, data=bundle, images_prefix=job.images_prefix,
                                file=job.source_name,
                                on_read=lambda total: job_progress(job, owner, lease_seconds=_lease(), total=total))
    return {"total": result.frames, "done": result.frames, "annotations": result.annotations}


def export_file_name(job: AnnotationJob) -> str:
    if job.dataview_id is not None:
        return f"exports/annotations/{job.pk}/{safe_part(job.dataview.name)}-{job.format}.zip"
    version = job.version
    return (f"exports/annotations/{job.pk}/"
            f"{safe_part(version.dataset.name)}-{safe_part(version.name)}-{job.format}.zip")


def _exported(job: AnnotationJob, owner: str):
    if job.dataview_id is None:
        return annotations_export(job.version, format=job.format, include_images=job.include_images)
    from dataviews import services as dataview_services

    run = dataview_services.iteration_start(job.dataview, user=job.created_by, iteration={"infinite": False})
    try:
        job_progress(job, owner, lease_seconds=_lease(), inputs=run.recipe["versions"])
        datasets = sorted({entry["dataset"] for entry in run.recipe["versions"]})
        return frames_export(dataview_frames(run), format=job.format, categories=None, dataset_ids=datasets,
                             include_images=job.include_images)
    finally:
        dataview_services.iteration_drop(run)


def _copy_image(archive: zipfile.ZipFile, member: str, kind: str, where: Any) -> bool:
    """Copy one image into the archive; False when it cannot be read (the archive keeps no partial member)."""
    try:
        if kind == "url":
            with requests.get(where, stream=True, timeout=(10, 300)) as response:
                response.raise_for_status()
                with archive.open(member, "w", force_zip64=True) as copied:
                    for chunk in response.iter_content(1024 * 1024):
                        copied.write(chunk)
            return True
        with (open(where, "rb") if kind == "file" else default_storage.open(where, "rb")) as image, \
                archive.open(member, "w", force_zip64=True) as copied:
            shutil.copyfileobj(image, copied, 1024 * 1024)
        return True
    except (OSError, requests.RequestException):
        log.warning("annotation export: image %s could not be copied", member, exc_info=True)
        return False


def _export(job: AnnotationJob, owner: str) -> dict[str, Any]:
    exported = _exported(job, owner)
    job_progress(job, owner, lease_seconds=_lease(), total=exported.images)
    with tempfile.TemporaryFile(dir=settings.VAR_DIR) as out:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, content in exported.files.items():
                archive.writestr(member, content)
            for member, (kind, where) in exported.image_files:  # streamed, never whole in memory
                if not _copy_image(archive, member, kind, where):
                    key = "images not copied (could not be read)"
                    exported.report[key] = exported.report.get(key, 0) + 1
        size = out.tell()
        out.seek(0)
        name = default_storage.save(export_file_name(job), File(out))
    return {"file": name, "size": size, "done": exported.images, "annotations": exported.annotations,
            "report": exported.report}


def annotation_job_run(job_id: Any, owner: str | None = None) -> AnnotationJob | None:
    """Run the job to its end (or take it over from a dead worker); None when there is nothing to run."""
    owner = owner or worker_name()
    job = job_claim(AnnotationJob, job_id, owner, lease_seconds=_lease(),
                    max_runs=settings.HYPERDATASETS_EXPORT_MAX_RUNS, reset={"done": 0})
    if job is None:
        return None
    job = AnnotationJob.objects.select_related("version", "version__dataset", "dataview").get(pk=job.pk)
    try:
        fields = _import(job, owner) if job.kind == JobKind.IMPORT else _export(job, owner)
        try:
            job_succeed(job, owner, lease_seconds=_lease(), **fields)
        except Exception:
            if fields.get("file"):
                default_storage.delete(fields["file"])
            raise
        log.info("annotation %s %s: %s", job.kind, job.pk, fields.get("done"))
        ended: AnnotationJob | None = job
    except InvalidInput as exc:
        ended = job_fail_if_owned(AnnotationJob, job.pk, owner, exc.message)
    except Exception as exc:
        log.exception("annotation job %s failed", job.pk)
        ended = job_fail_if_owned(AnnotationJob, job.pk, owner, f"{type(exc).__name__}: {exc}")
    if ended is not None and ended.kind == JobKind.IMPORT and ended.source:
        default_storage.delete(ended.source)  # the import is over: the uploaded file is not kept
        AnnotationJob.objects.filter(pk=ended.pk).update(source="")
        ended.source = ""
    return ended


def annotation_job_delete(job: AnnotationJob) -> None:
    """Remove the job and its files."""
    with transaction.atomic():
        AnnotationJob.objects.filter(pk=job.pk).delete()
    for name in (job.source, job.file):
        if name:
            default_storage.delete(name)


def annotation_jobs_sweep() -> list[str]:
    """Queue again the open jobs no live worker holds; remove those kept past their time. The ids queued."""
    from hyperdatasets.tasks import run_annotation_job

    kept = timezone.now() - timedelta(days=settings.HYPERDATASETS_EXPORT_KEPT_DAYS)
    for job in AnnotationJob.objects.filter(created__lt=kept):
        annotation_job_delete(job)
    ids = jobs_stalled(AnnotationJob, lease_seconds=_lease())
    for job_id in ids:
        log.info("annotation job %s: no live worker holds it; queued again", job_id)
        run_annotation_job.delay(job_id)
    return ids
