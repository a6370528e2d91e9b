"""REST face of annotation imports and exports: queue a job on a version (or an export of a dataview), poll
it, download an export.

An import needs write on the version's dataset (and a Draft version); an export, reading a job and its file
need read there (a dataview's: view on the dataview and read on every dataset it takes frames from).
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from dataviews.access import require_dataview, require_inputs_readable
from dataviews.api import dataview_for
from formats import jobs
from formats.models import AnnotationJob, JobKind
from formats.services import FORMATS
from hyperdatasets.api.views.common import allowed, parsed, version_for
from hyperdatasets.exceptions import InvalidInput, NotFound
from hyperdatasets.models.jobs import RunStatus
from hyperdatasets.selectors.datasets import parse_uuid
from hyperdatasets.storage.serving import FILE_CSP


class AnnotationImportIn(serializers.Serializer):
    file = serializers.FileField(help_text="COCO: the instances JSON, or a zip of annotations/instances_<subset>.json; "
                                           "YOLO: a zip of data.yaml, images/ and labels/")
    format = serializers.ChoiceField(choices=FORMATS)
    images_prefix = serializers.CharField(
        max_length=1024, required=False, allow_blank=True, default="",
        help_text="joined with each image's path: the frame's source URI (s3://bucket/coco/...); empty: the "
                  "images are in the uploaded zip, and are uploaded into media storage")


class AnnotationExportIn(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS)
    include_images = serializers.BooleanField(default=False, help_text="copy into the archive the images this "
                                                                       "server stores (uploads, local roots)")


class AnnotationJobOut(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=JobKind.values)
    format = serializers.CharField()
    version_id = serializers.UUIDField(allow_null=True, help_text="the version imported into or exported")
    dataview_id = serializers.UUIDField(allow_null=True, help_text="the dataview exported (its frames as a run "
                                                                   "takes them)")
    status = serializers.ChoiceField(choices=RunStatus.values)
    total = serializers.IntegerField(allow_null=True, help_text="images to import or export, once known")
    done = serializers.IntegerField(help_text="images (frames) imported or exported")
    annotations = serializers.IntegerField()
    report = serializers.DictField(child=serializers.IntegerField(),
                                   help_text="exports: what the format could not carry, counted by kind")
    error = serializers.CharField()
    size = serializers.IntegerField(allow_null=True)
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    download_url = serializers.SerializerMethodField(help_text="an export's archive, once the job succeeded")

    def get_download_url(self, job: AnnotationJob) -> str | None:
        if job.kind != JobKind.EXPORT or job.status != RunStatus.SUCCEEDED:
            return None
        return reverse("api-annotation-job-download", args=[job.pk])


class AnnotationImportsView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": AnnotationImportIn}, responses={202: AnnotationJobOut},
                   description="Queue an import of an annotation file into this Draft version (all or nothing); "
                               "poll the job.")
    def post(self, request, version_id):
        version = version_for(request, version_id, "frames.change")
        data = parsed(AnnotationImportIn, request.data)
        job = jobs.import_job_create(version, data["file"], format=data["format"],
                                     images_prefix=data["images_prefix"], user=request.user,
                                     file_name=data["file"].name)
        return Response(AnnotationJobOut(job).data, status=202)


class AnnotationExportsView(APIView):
    @extend_schema(request=AnnotationExportIn, responses={202: AnnotationJobOut},
                   description="Queue an export of this version as an annotation archive; poll the job, then read "
                               "download_url.")
    def post(self, request, version_id):
        version = version_for(request, version_id, "frames.view")
        data = parsed(AnnotationExportIn, request.data)
        job = jobs.export_job_create(version, format=data["format"], user=request.user,
                                     include_images=data["include_images"])
        return Response(AnnotationJobOut(job).data, status=202)


def job_for(request, annotation_job_id) -> AnnotationJob:
    """The job, when the caller may read its version's dataset, or (a dataview export) view the dataview and
    read every dataset it takes frames from; else not found (or forbidden for an input not readable)."""
    job = AnnotationJob.objects.select_related("version__dataset__project", "dataview__project").filter(
        pk=parse_uuid("annotation_job_id", annotation_job_id)).first()
    missing = f"annotation job {annotation_job_id} does not exist"
    if job is None:
        raise NotFound(missing)
    if job.dataview_id is not None:
        try:
            require_dataview(request.user, job.dataview, "dataview.view")
        except NotFound:
            raise NotFound(missing) from None
        require_inputs_readable(request.user, job.inputs)
    else:
        allowed(request.user, job.version.dataset, "frames.view", "annotation job", annotation_job_id)
    return job


class DataviewAnnotationExportsView(APIView):
    @extend_schema(request=AnnotationExportIn, responses={202: AnnotationJobOut},
                   description="Queue an export of the frames a run of this dataview takes (its order and limit, "
                               "one pass; its mapping and enumeration applied) as an annotation archive.")
    def post(self, request, dataview_id):
        dataview = dataview_for(request, dataview_id, "dataview.view")
        require_inputs_readable(request.user, dataview.versions)
        data = parsed(AnnotationExportIn, request.data)
        job = jobs.dataview_export_job_create(dataview, format=data["format"], user=request.user,
                                              include_images=data["include_images"])
        return Response(AnnotationJobOut(job).data, status=202)


class AnnotationJobView(APIView):
    @extend_schema(responses=AnnotationJobOut)
    def get(self, request, annotation_job_id):
        return Response(AnnotationJobOut(job_for(request, annotation_job_id)).data)


class AnnotationJobDownloadView(APIView):
    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY},
                   description="An export's archive, as an attachment (404 until the export succeeded).")
    def get(self, request, annotation_job_id):
        job = job_for(request, annotation_job_id)
        if job.kind != JobKind.EXPORT:
            raise InvalidInput.for_field("annotation_job_id", "is an import: it has no archive")
        if job.status != RunStatus.SUCCEEDED or not job.file:
            raise NotFound(f"annotation job {annotation_job_id} has no archive yet (it is {job.status})")
        try:
            handle = default_storage.open(job.file, "rb")
        except FileNotFoundError:
            raise NotFound(f"the archive of annotation job {annotation_job_id} is gone") from None
        response = FileResponse(handle, as_attachment=True, filename=job.file.rsplit("/", 1)[-1],
                                content_type="application/zip")
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = FILE_CSP
        response["Cache-Control"] = "private, no-store"
        return response
