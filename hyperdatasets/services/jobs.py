"""Leased jobs run by Celery workers (dataview exports, annotation imports and exports): the rules they share.

A job row (``hyperdatasets.models.jobs.LeasedJob``) is claimed by one worker at a time: the worker takes a
lease (``lease_owner``, ``lease_until``) and renews it with each progress save; a worker that dies leaves the
lease to expire, and a sweeper (Celery beat) queues the job again. Each claim counts a run; past ``max_runs``
the job fails rather than kill workers for ever.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hyperdatasets.models.jobs import LeasedJob, RunStatus

log = logging.getLogger(__name__)


class JobLost(Exception):
    """The job's lease went to another worker, or the job was deleted, while this worker ran it."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def job_enqueue_on_commit(task_name: str, job: LeasedJob, what: str) -> None:
    """Send the job to a worker (the Celery task ``task_name`` of ``hyperdatasets.tasks``) once the current
    transaction commits; a send that fails (the broker is down) is left to the sweeper."""
    def send() -> None:
        from hyperdatasets import tasks

        try:
            getattr(tasks, task_name).delay(str(job.pk))
        except Exception as exc:
            log.warning("could not queue %s %s (%s); the sweeper will retry", what, job.pk, type(exc).__name__)

    transaction.on_commit(send)


def job_claim(model: type[LeasedJob], job_id: Any, owner: str, *, lease_seconds: int, max_runs: int,
              reset: dict[str, Any] | None = None) -> LeasedJob | None:
    """Take the job for ``owner``: None when it is finished, gone, or another worker's lease is live. The
    fields of ``reset`` are set on each claim (a run starts its work over)."""
    with transaction.atomic():
        job = model.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        now = timezone.now()
        if job.lease_owner and job.lease_owner != owner and job.lease_until and job.lease_until > now:
            return None
        job.runs += 1
        if job.runs > max_runs:
            job_fail(job, f"gave up after {job.runs - 1} runs that did not finish (a worker kept dying)")
            return None
        job.status, job.started = RunStatus.RUNNING, job.started or now
        job.lease_owner, job.lease_until = owner, now + timedelta(seconds=lease_seconds)
        for name, value in (reset or {}).items():
            setattr(job, name, value)
        job.save()
        return job


def job_progress(job: LeasedJob, owner: str, *, lease_seconds: int, **fields: Any) -> None:
    """Save ``fields`` while the lease is still ours (else ``JobLost``), extending it."""
    with transaction.atomic():
        current = type(job).objects.select_for_update().filter(pk=job.pk).only("lease_owner").first()
        if current is None or current.lease_owner != owner:
            raise JobLost(job.pk)
        job.lease_until = timezone.now() + timedelta(seconds=lease_seconds)
        for name, value in fields.items():
            setattr(job, name, value)
        job.save(update_fields=list({*fields, "lease_until", "updated"}))


def job_succeed(job: LeasedJob, owner: str, *, lease_seconds: int, **fields: Any) -> None:
    job_progress(job, owner, lease_seconds=lease_seconds, status=RunStatus.SUCCEEDED, finished=timezone.now(),
                 lease_owner="", lease_until=None, **fields)


def job_fail(job: LeasedJob, error: str) -> None:
    job.status, job.error, job.finished = RunStatus.FAILED, error[:2000], timezone.now()
    job.lease_owner, job.lease_until = "", None
    job.save()


def job_fail_if_owned(model: type[LeasedJob], job_id: Any, owner: str, error: str) -> LeasedJob | None:
    """Record a run's failure, unless the job was deleted or another worker took it meanwhile."""
    with transaction.atomic():
        current = model.objects.select_for_update().filter(pk=job_id).first()
        if current is None or current.lease_owner != owner:
            return None
        job_fail(current, error)
        return current


def jobs_stalled(model: type[LeasedJob], *, lease_seconds: int) -> list[str]:
    """The ids of the open jobs no live worker holds: an expired lease, or a queued job whose message was
    lost (not taken within a lease's time)."""
    now = timezone.now()
    grace = now - timedelta(seconds=lease_seconds)
    stalled = model.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).filter(
        Q(lease_until__lt=now) | Q(lease_until__isnull=True, updated__lt=grace))
    return [str(pk) for pk in stalled.values_list("pk", flat=True)]
