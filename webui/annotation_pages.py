"""Annotation imports and exports from a version's page: the forms queue the server's jobs
(``formats.jobs``) and come back to the page, which lists the version's recent jobs with their progress,
report, error and the export's download link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from formats import jobs
from formats.api import AnnotationJobOut
from formats.models import AnnotationJob
from formats.services import FORMATS
from hyperdatasets.access import POLICY, dataset_role, require_dataset
from hyperdatasets.exceptions import InvalidInput, ServiceError
from hyperdatasets.models import VersionStatus
from webui.lookups import visible_version_or_404

SHOWN_JOBS = 10


def recent_jobs(version) -> list[dict]:
    return [AnnotationJobOut(job).data for job in AnnotationJob.objects.filter(version=version)[:SHOWN_JOBS]]


def _back(version) -> HttpResponse:
    return redirect(f"{redirect('webui:version-detail', version.pk).url}#annotations")


@login_required
@require_POST
def annotation_import(request: HttpRequest, version_id) -> HttpResponse:
    version = visible_version_or_404(request, version_id)
    try:
        require_dataset(request.user, version.dataset, "frames.change")
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput.for_field("file", "choose the annotation file to import")
        jobs.import_job_create(version, upload, format=request.POST.get("format"),
                               images_prefix=request.POST.get("images_prefix", "").strip(), user=request.user,
                               file_name=upload.name)
        messages.success(request, f"Importing {upload.name}: the job is listed under Annotations.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(version)


@login_required
@require_POST
def annotation_export(request: HttpRequest, version_id) -> HttpResponse:
    version = visible_version_or_404(request, version_id)
    try:
        require_dataset(request.user, version.dataset, "frames.view")
        format = request.POST.get("format")
        jobs.export_job_create(version, format=format, user=request.user,
                               include_images=request.POST.get("include_images") == "on")
        messages.success(request, f"Exporting {version.name} as {format}: the job is listed under Annotations.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(version)


def page_context(request, version) -> dict:
    """What the version page's Annotations panel shows."""
    may_write = dataset_role(request.user, version.dataset) >= POLICY["frames.change"]
    return {"annotation_jobs": recent_jobs(version), "annotation_formats": FORMATS,
            "may_import": version.status == VersionStatus.DRAFT and may_write}
