import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Dataset(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "hyperdatasets.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="datasets"
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    is_example = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="dataset_name_unique_in_project"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(project__isnull=True), name="dataset_name_unique_outside_projects"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.name}/{self.name}" if self.project_id else self.name

    @property
    def tag_names(self) -> list[str]:
        return [t.name for t in self.tags.all()]


class DatasetTag(models.Model):
    """A dataset's tags: ordered by position, each name once."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=255)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["dataset", "position"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="dataset_tag_unique"),
        ]
        indexes = [models.Index(fields=["name"], name="dataset_tag_name")]

    def __str__(self) -> str:
        return self.name
