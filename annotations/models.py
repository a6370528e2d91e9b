"""The audit trail of annotation edits: one row per save of a frame through the editor's endpoint."""

from django.conf import settings
from django.db import models


class FrameEdit(models.Model):
    """Who saved which frame of which Draft version, when, and what changed in its ROIs."""

    id = models.BigAutoField(primary_key=True)
    dataset = models.ForeignKey("hyperdatasets.Dataset", on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey("hyperdatasets.DatasetVersion", on_delete=models.CASCADE, related_name="+",
                                db_index=False)
    frame_id = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150)  # kept when the account is removed
    saved_at = models.DateTimeField(auto_now_add=True)
    # Revisions are frame row ids: the one the editor loaded (None: written without a condition) and the new one.
    base_revision = models.BigIntegerField(null=True)
    revision = models.BigIntegerField()
    rois_before = models.IntegerField(default=0)
    rois_after = models.IntegerField(default=0)
    # ROI ids added, removed and changed by the save.
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["-saved_at", "-id"]
        indexes = [models.Index(fields=["version", "frame_id", "-id"], name="frame_edit_history")]

    def __str__(self) -> str:
        return f"{self.frame_id} by {self.username}"
