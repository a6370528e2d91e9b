"""A dataview: the stored recipe that picks, maps and orders frames from dataset versions for training.

ClearML's ``dataviews.Dataview`` (shared/notes/hyper-datasets-inventory.md 1.10). The recipe parts are JSON in
the shape the services check and normalise (``dataviews.spec``): input versions and rule references by id,
filter rules as the query engine reads them (``hyperdatasets.queries.filters``).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from hyperdatasets.models.jobs import LeasedJob, RunStatus


class DataviewStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class OutputRois(models.TextChoices):
    ALL_IN_FRAME = "all_in_frame", "All ROIs of the frame"
    ONLY_FILTERED = "only_filtered", "Only the ROIs the rules matched"
    FRAME_PER_ROI = "frame_per_roi", "One frame per matching ROI"


class Dataview(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        "hyperdatasets.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="dataviews"
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=DataviewStatus.choices, default=DataviewStatus.DRAFT)
    archived = models.BooleanField(default=False)  # ClearML's "archived" system tag
    # [{"dataset": id, "version": id}], in the given order.
    versions = models.JSONField(default=list, blank=True)
    # [{"dataset": id | "*", "version": id | "*", "weight": number, filter_by_roi, label_rules, frame_query,
    #   sources_query}], ORed.
    filters = models.JSONField(default=list, blank=True)
    # [{"source": {"dataset": id | "*", "version": id | "*", "labels": [...]}, "target": label}]
    mapping = models.JSONField(default=list, blank=True)
    labels_enumeration = models.JSONField(default=dict, blank=True)
    output_rois = models.CharField(max_length=16, choices=OutputRois.choices, default=OutputRois.ALL_IN_FRAME)
    # {"order": "sequential" | "random", "infinite": bool, "limit": int | null, "random_seed": int}
    iteration = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    published = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="dataview_name_unique_in_project"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(project__isnull=True), name="dataview_name_unique_outside_projects"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.name}/{self.name}" if self.project_id else self.name

    @property
    def is_published(self) -> bool:
        return self.status == DataviewStatus.PUBLISHED


class DataviewIteration(models.Model):
    """One run over a dataview: the recipe as it was when the run started, the plan of its order
    (``dataviews.streams``) and, in ``DataviewItem`` rows, the snapshot of the items the rules took then. Kept
    while it is used (``touched``), and removed a day after its last use."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # None: a run over an inline recipe that no stored dataview holds (ClearML's client sends its dataview with
    # every request); only its creator reads it.
    dataview = models.ForeignKey(Dataview, null=True, blank=True, on_delete=models.CASCADE, related_name="iterations")
    recipe = models.JSONField(default=dict)  # the dataview's versions, filters, mapping, enumeration, output_rois
    order = models.CharField(max_length=16)
    random_seed = models.BigIntegerField()
    repeat = models.BooleanField(default=False)
    length = models.BigIntegerField(null=True, blank=True)  # None: endless
    sizes = models.JSONField(default=list)  # items per rule (each item counted for its first rule)
    weights = models.JSONField(default=list)
    rule_counts = models.JSONField(default=list)  # frames each rule takes on its own
    total = models.BigIntegerField(default=0)
    # A client's name for the run ("" for none): every process that starts a run of the dataview with the same
    # key gets this one (DataLoader workers and torch.distributed ranks reading their shards of one order).
    key = models.CharField(max_length=64, blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    touched = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["touched"], name="dataview_iteration_touched")]
        constraints = [models.UniqueConstraint(fields=["dataview", "key"], condition=~models.Q(key=""),
                                               name="dataview_iteration_key_unique")]


class DataviewItem(models.Model):
    """One (input version, frame) of an iteration's snapshot: ``seq`` in the sequential order, its first rule
    and ``rule_pos`` among that rule's items, the frame row it reads, and ``mask``, every rule that takes it."""

    id = models.BigAutoField(primary_key=True)
    iteration = models.ForeignKey(DataviewIteration, on_delete=models.DO_NOTHING, db_constraint=False,
                                  related_name="+")
    seq = models.BigIntegerField()
    rule = models.SmallIntegerField()
    rule_pos = models.BigIntegerField()
    frame_row = models.BigIntegerField()
    input_index = models.SmallIntegerField()
    mask = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["iteration", "seq"], name="dataview_item_seq"),
            models.Index(fields=["iteration", "rule", "rule_pos"], name="dataview_item_rule"),
        ]


class ExportFormat(models.TextChoices):
    JSON = "json", "JSON (one array of frames)"
    JSONL = "jsonl", "JSON Lines (a frame per line)"


ExportStatus = RunStatus  # queued, running, succeeded, failed


class DataviewExport(LeasedJob):
    """A job writing a dataview's frames, as they are when it runs, into one file in media storage
    (ClearML's ``prepare_download_for_dataview``): ``done`` of ``total`` items so far, ``written`` frames;
    ``file`` once it succeeded."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataview = models.ForeignKey(Dataview, on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=8, choices=ExportFormat.choices, default=ExportFormat.JSONL)
    projection = models.JSONField(null=True, blank=True)  # dotted field paths; None: whole frames
    # The input versions it takes frames from ({dataset, version}, stored form): the dataview's when the job was
    # made, its run's once it runs. Reading the file needs read on each of their datasets.
    inputs = models.JSONField(default=list, blank=True)
    total = models.BigIntegerField(null=True, blank=True)  # the run's items, once its snapshot is taken
    done = models.BigIntegerField(default=0)  # items read so far
    written = models.BigIntegerField(default=0)  # frames written so far (frame_per_roi: one per ROI)
    file = models.CharField(max_length=1024, blank=True, default="")  # its name in media storage, once done
    size = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "lease_until"], name="dataview_export_open")]

    def __str__(self) -> str:
        return f"export of {self.dataview_id} ({self.status})"
