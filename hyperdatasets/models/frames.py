"""Frames stored as per-version delta rows.

A version's frames are the rows of its ancestors (``DatasetVersion.ancestors``, self first, in precedence
order): for each frame id, the row of the first ancestor that has one wins; a tombstone row (``deleted``)
hides the frame. Creating a child writes no frame rows; a write in a version touches only its own rows.
"""

from django.db import models


class Frame(models.Model):
    id = models.BigAutoField(primary_key=True)
    dataset = models.ForeignKey("hyperdatasets.Dataset", on_delete=models.CASCADE, db_index=False, related_name="+")
    version = models.ForeignKey("hyperdatasets.DatasetVersion", on_delete=models.CASCADE, db_index=False,
                                related_name="frame_rows")
    frame_id = models.CharField(max_length=255)
    context_id = models.CharField(max_length=1024)
    timestamp = models.BigIntegerField(default=0)
    deleted = models.BooleanField(default=False)
    document = models.JSONField(null=True)
    content_hash = models.CharField(max_length=32, default="")
    roi_count = models.IntegerField(default=0)
    labels = models.JSONField(default=list)  # each ROI's labels, once per ROI: per-label ROI counts
    content_types = models.JSONField(default=list)
    saved = models.BigIntegerField(default=0)  # epoch milliseconds

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "frame_id"], name="frame_unique_in_version")]
        indexes = [
            # Keyset pages in (context_id, timestamp, id) order; version_id last so the ancestor filter
            # is checked from the index.
            models.Index(fields=["dataset", "context_id", "timestamp", "frame_id", "version"], name="frame_page"),
            # "Does a closer ancestor hold this frame id?" and diffs in frame-id order.
            models.Index(fields=["dataset", "frame_id", "version"], name="frame_by_id"),
        ]

    def __str__(self) -> str:
        return self.frame_id


class FrameLabel(models.Model):
    """One row per distinct label of a stored frame, with its sort keys: ordered label-filtered pages."""

    id = models.BigAutoField(primary_key=True)
    dataset = models.ForeignKey("hyperdatasets.Dataset", on_delete=models.CASCADE, db_index=False, related_name="+")
    version = models.ForeignKey("hyperdatasets.DatasetVersion", on_delete=models.CASCADE, db_index=False,
                                related_name="+")
    frame_id = models.CharField(max_length=255)
    label = models.CharField(max_length=255)
    context_id = models.CharField(max_length=1024)
    timestamp = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["dataset", "label", "context_id", "timestamp", "frame_id", "version"],
                         name="frame_label_page"),
            models.Index(fields=["version", "frame_id"], name="frame_label_by_frame"),
        ]

    def __str__(self) -> str:
        return f"{self.frame_id}:{self.label}"


class DatasetMetaField(models.Model):
    """The JSON type of each frame ``meta`` key path in a dataset: one type per key."""

    dataset = models.ForeignKey("hyperdatasets.Dataset", on_delete=models.CASCADE, related_name="meta_fields")
    path = models.CharField(max_length=512)
    type = models.CharField(max_length=16)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "path"], name="meta_field_unique")]

    def __str__(self) -> str:
        return f"{self.path}: {self.type}"
