"""A job importing an annotation file into a Draft version, or exporting a version as one (a Celery worker
runs it under a lease: ``hyperdatasets.services.jobs``)."""

import uuid

from django.db import models

from hyperdatasets.models.jobs import LeasedJob


class JobKind(models.TextChoices):
    IMPORT = "import"
    EXPORT = "export"


class AnnotationJob(LeasedJob):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=8, choices=JobKind.choices)
    format = models.CharField(max_length=16)
    # What it imports into or exports: a version, or (exports) a dataview's frames as a run of it takes them.
    version = models.ForeignKey("hyperdatasets.DatasetVersion", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="annotation_jobs")
    dataview = models.ForeignKey("dataviews.Dataview", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="annotation_jobs")
    # A dataview export's input versions ({dataset, version}): reading it needs read on each of their datasets.
    inputs = models.JSONField(default=list, blank=True)
    images_prefix = models.CharField(max_length=1024, blank=True, default="")  # imports: joined with file names
    source = models.CharField(max_length=1024, blank=True, default="")  # imports: the uploaded file in storage
    source_name = models.CharField(max_length=255, blank=True, default="")  # imports: its name, as uploaded
    file = models.CharField(max_length=1024, blank=True, default="")  # exports: the archive in storage
    include_images = models.BooleanField(default=False)  # exports: copy the images this server stores
    size = models.BigIntegerField(null=True, blank=True)
    total = models.BigIntegerField(null=True, blank=True)  # images (frames) to import or export
    done = models.BigIntegerField(default=0)
    annotations = models.BigIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)  # exports: what the format could not carry, counted

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "lease_until"], name="annotation_job_open")]

    def __str__(self) -> str:
        return f"{self.kind} {self.format} of {self.version_id or self.dataview_id} ({self.status})"
