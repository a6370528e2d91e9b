import uuid

from django.conf import settings
from django.db import models


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class DatasetVersion(models.Model):
    """A node of a dataset's version graph.

    A Published row never changes again: the services refuse it and a database trigger (migration 0002)
    rejects any UPDATE of a row whose status is published.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey("hyperdatasets.Dataset", on_delete=models.CASCADE, related_name="versions")
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    metadata = models.JSONField(default=dict, blank=True)
    # Ordered, each once (services.tags); set on a Draft and kept, like the rest of it, once published.
    tags = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True, default="")
    # Creation order inside the dataset: the tie-breaker for "newest".
    number = models.PositiveIntegerField()
    # Longest path to a root, fixed at creation (parents are Published, so it never changes).
    depth = models.PositiveIntegerField(default=0)
    # Self first, then the parents' ancestors in parent order (first occurrence kept): frame precedence.
    ancestors = models.JSONField(default=list)
    # Counters kept up to date by the frame writes, never computed by scanning at read time.
    frame_count = models.BigIntegerField(default=0)
    stats = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)
    published = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["dataset", "number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="version_name_unique_in_dataset"),
            models.UniqueConstraint(fields=["dataset", "number"], name="version_number_unique_in_dataset"),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "published"]), name="version_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft", published__isnull=True)
                | models.Q(status="published", published__isnull=False),
                name="version_published_time_matches_status",
            ),
        ]
        indexes = [models.Index(fields=["dataset", "status", "depth"], name="version_head_lookup")]

    def __str__(self) -> str:
        return f"{self.dataset.name}:{self.name}"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT


class VersionParent(models.Model):
    """An ordered edge of the version graph: ``child`` inherits from ``parent``; lower position wins."""

    child = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="parent_links")
    parent = models.ForeignKey(DatasetVersion, on_delete=models.RESTRICT, related_name="child_links")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["child", "position"]
        constraints = [
            models.UniqueConstraint(fields=["child", "position"], name="version_parent_position_unique"),
            models.UniqueConstraint(fields=["child", "parent"], name="version_parent_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.parent_id} -> {self.child_id}"
