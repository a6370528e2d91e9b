"""Deletion of source objects: a job per dataset deletion and its ledger, one row per object URI.

The ledger is the truth (the ClearML ``UrlToDelete`` pattern): its rows are written in the transaction
that deletes the dataset, and a row leaves ``pending`` only when the store has confirmed the delete, the
object was found still referenced, or its attempts ran out. Celery only runs the job; any worker can take
it up again where the ledger says it stopped.
"""

import uuid

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PARTLY_FAILED = "partly_failed"


FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.PARTLY_FAILED)


class ObjectStatus(models.TextChoices):
    PENDING = "pending"
    DELETED = "deleted"
    SKIPPED = "skipped"
    FAILED = "failed"


class SkipReason(models.TextChoices):
    REFERENCED = "referenced", "still referenced"
    LOCAL = "local"
    UNSUPPORTED = "unsupported"


class DeletionJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The dataset is gone when the job runs: its id and name are kept for the record.
    dataset_id = models.UUIDField()
    dataset_name = models.CharField(max_length=255)
    project = models.ForeignKey("hyperdatasets.Project", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    project_name = models.CharField(max_length=255, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # Reference check done: objects other frames point to are marked skipped.
    scanned = models.BooleanField(default=False)
    # Frame rows up to this id were checked for references to the job's objects.
    checked_frame_id = models.BigIntegerField(default=0)
    # Counters, updated in the transaction that updates the ledger rows they count.
    total = models.IntegerField(default=0)
    deleted = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    # {"s3": {"total": n, "deleted": n, "skipped": n, "failed": n}, ...} and {"referenced": n, ...}
    providers = models.JSONField(default=dict)
    skipped_reasons = models.JSONField(default=dict)
    # Runs of the job (each task start); bounded, so a job that kills its worker ends failed.
    runs = models.IntegerField(default=0)
    lease_owner = models.CharField(max_length=255, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["status", "lease_until"], name="deletion_job_open")]

    def __str__(self) -> str:
        return f"delete sources of {self.dataset_name} ({self.status})"

    @property
    def done(self) -> int:
        return self.deleted + self.skipped + self.failed

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class SourceDeletion(models.Model):
    """One object URI a job deletes (or skips), with the outcome and the last error."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(DeletionJob, on_delete=models.CASCADE, related_name="ledger")
    uri = models.TextField()
    provider = models.CharField(max_length=16)  # s3, gs, azure, or the scheme that is never deleted
    status = models.CharField(max_length=16, choices=ObjectStatus.choices, default=ObjectStatus.PENDING)
    reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True, default="")
    attempts = models.IntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["job", "status", "id"], name="source_deletion_todo")]

    def __str__(self) -> str:
        return self.uri


class StorageCredential(models.Model):
    """Credentials and endpoint for one bucket (or, with an empty bucket, every bucket of a provider).

    The secret is stored encrypted with a key derived from SECRET_KEY and is never shown back.
    """

    class Provider(models.TextChoices):
        S3 = "s3", "Amazon S3 (or S3-compatible)"
        GS = "gs", "Google Cloud Storage"
        AZURE = "azure", "Azure Blob Storage"

    provider = models.CharField(max_length=8, choices=Provider.choices)
    bucket = models.CharField(max_length=255, blank=True, default="",
                              help_text="bucket (container for Azure); empty: every bucket of the provider")
    endpoint_url = models.CharField(max_length=1024, blank=True, default="", validators=[URLValidator()],
                                   help_text="S3-compatible endpoint, GCS emulator or Azure account URL")
    region = models.CharField(max_length=64, blank=True, default="")
    access_key = models.CharField(max_length=255, blank=True, default="",
                                  help_text="S3 access key id, Azure account name, GCS project")
    secret_encrypted = models.TextField(blank=True, default="", editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "bucket"]
        constraints = [models.UniqueConstraint(fields=["provider", "bucket"], name="storage_credential_unique")]

    def __str__(self) -> str:
        return f"{self.provider}://{self.bucket or '*'}"

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)
