from django.core.exceptions import ValidationError
from django.db import models


class StorageLocation(models.Model):
    """A store whose objects the server may serve to the pages: a bucket (S3, GCS), a container (Azure) or a
    local folder, registered by an administrator for one project or, without a project, for every dataset.

    Frames may name any URI; only objects in a registered location (or uploaded into the frame's own
    dataset) are signed or served. Everything else shows as "not served".
    """

    class Provider(models.TextChoices):
        S3 = "s3", "Amazon S3 (or S3-compatible)"
        GS = "gs", "Google Cloud Storage"
        AZURE = "azure", "Azure Blob Storage"
        FILE = "file", "Local folder"

    project = models.ForeignKey("hyperdatasets.Project", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="storage_locations",
                                help_text="empty: the location serves every dataset")
    provider = models.CharField(max_length=8, choices=Provider.choices)
    location = models.CharField(max_length=1024,
                                help_text="bucket (container for Azure), or an absolute folder for local files")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider", "location"]
        constraints = [
            models.UniqueConstraint(fields=["project", "provider", "location"], name="storage_location_unique"),
        ]

    def clean(self) -> None:
        if self.provider == self.Provider.FILE and not self.location.startswith("/"):
            raise ValidationError({"location": "a local folder must be an absolute path"})
        if self.provider != self.Provider.FILE and (not self.location or "/" in self.location):
            raise ValidationError({"location": "a bucket or container name, without '/'"})

    def __str__(self) -> str:
        where = self.project.name if self.project_id else "every project"
        return f"{self.provider}://{self.location.lstrip('/')} ({where})"
