"""Pages of deletion jobs: the list, and one job with a progress bar that follows the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from hyperdatasets.access import visible_deletion_jobs


@login_required
def deletion_job_list(request: HttpRequest) -> HttpResponse:
    jobs = visible_deletion_jobs(request.user).order_by("-created")[:200]
    return render(request, "webui/deletion_jobs.html", {"jobs": jobs})


@login_required
def deletion_job_detail(request: HttpRequest, job_id) -> HttpResponse:
    from hyperdatasets.selectors.deletion import deletion_job_out

    job = visible_deletion_jobs(request.user).filter(pk=job_id).first()
    if job is None:
        raise Http404("no such deletion job")
    return render(request, "webui/deletion_job.html", {"job": deletion_job_out(job)})
