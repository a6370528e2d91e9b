"""Reads of deletion jobs: the job with its errors grouped for display."""

from __future__ import annotations

from django.db.models import Count, Min

from hyperdatasets.models import DeletionJob, ObjectStatus, SourceDeletion


def deletion_job_errors(job: DeletionJob, limit: int = 20) -> list[dict]:
    """The failure messages of a job's objects, most frequent first, each with a count and one URI."""
    if not job.failed:
        return []
    rows = (SourceDeletion.objects.filter(job=job, status=ObjectStatus.FAILED).values("provider", "last_error")
            .annotate(count=Count("id"), example=Min("uri")).order_by("-count", "provider")[:limit])
    return [{"provider": r["provider"], "message": r["last_error"], "count": r["count"], "example_uri": r["example"]}
            for r in rows]


def deletion_job_out(job: DeletionJob) -> DeletionJob:
    """The job with ``errors`` attached, ready for the API serializer and the pages."""
    job.errors = deletion_job_errors(job)
    return job
