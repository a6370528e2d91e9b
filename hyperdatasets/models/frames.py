"""Frames stored as per-version delta rows.

A version's frames are the rows of its ancestors (``DatasetVersion.ancestors``, self first, in precedence
order): for each frame id, the row of the first ancestor that has one wins; a tombstone row (``deleted``)
hides the frame. Creating a child writes no frame rows; a write in a version touches only its own rows.

The row keeps the whole frame as JSON text (``document``, read back as is) and, as queryable JSON, only
the searchable ``meta``: parsing full documents into jsonb would double the cost of bulk writes.

The version and dataset columns carry no database foreign key. The services delete a version's rows
themselves (by dataset and version, through the indexes below), which keeps deletes of big tables
index-driven; a dataset's rows go with it through the ORM's cascade. Every write holds the dataset's row lock,
so the dataset cannot vanish under it, and a deferred key check per row at commit (a fifth of a bulk write's
time) would check nothing more.
"""

from django.db import models


class Frame(models.Model):
    id = models.BigAutoField(primary_key=True)
    dataset = models.ForeignKey("hyperdatasets.Dataset", on_delete=models.CASCADE, db_constraint=False,
                                db_index=False, related_name="+")
    version = models.ForeignKey("hyperdatasets.DatasetVersion", on_delete=models.DO_NOTHING, db_constraint=False,
                                db_index=False, related_name="+")
    frame_id = models.CharField(max_length=255)
    context_id = models.CharField(max_length=1024)
    timestamp = models.BigIntegerField(default=0)
    deleted = models.BooleanField(default=False)
    document = models.TextField(null=True)
    meta = models.JSONField(default=dict)
    content_hash = models.CharField(max_length=32, default="")
    roi_count = models.IntegerField(default=0)
    labels = models.TextField(default="[]")  # JSON: each ROI's labels, once per ROI (per-label ROI counts)
    content_types = models.TextField(default="[]")  # JSON list
    saved = models.BigIntegerField(default=0)  # epoch milliseconds

    class Meta:
        # One row per (version, frame_id) once a write commits: a write appends its rows (streamed with
        # COPY) and deletes the older rows it replaced, inside the same transaction.
        indexes = [
            # Keyset pages in (context_id, timestamp, id) order; version_id last so the ancestor filter
            # is checked from the index.
            models.Index(fields=["dataset", "context_id", "timestamp", "frame_id", "version"], name="frame_page"),
            # "Does a closer ancestor hold this frame id?", lookups by id, and diffs in frame-id order.
            models.Index(fields=["dataset", "frame_id", "version"], name="frame_by_id"),
        ]

    def __str__(self) -> str:
        return self.frame_id


class FrameLabel(models.Model):
    """One row per distinct label of a stored frame: the index behind label filters."""

    id = models.BigAutoField(primary_key=True)
    dataset = models.ForeignKey("hyperdatasets.Dataset", on_delete=models.CASCADE, db_constraint=False,
                                db_index=False, related_name="+")
    version = models.ForeignKey("hyperdatasets.DatasetVersion", on_delete=models.DO_NOTHING, db_constraint=False,
                                db_index=False, related_name="+")
    frame_id = models.CharField(max_length=255)
    label = models.CharField(max_length=255)

    class Meta:
        indexes = [
            models.Index(fields=["dataset", "label", "version"], name="frame_label_rare"),
            models.Index(fields=["dataset", "frame_id", "version", "label"], name="frame_label_of_frame"),
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
