"""Reads of the annotation audit trail."""

from __future__ import annotations

from typing import Any

from annotations.models import FrameEdit
from hyperdatasets.models import DatasetVersion

HISTORY_LIMIT = 200


def frame_edit_output(edit: FrameEdit) -> dict[str, Any]:
    return {
        "frame_id": edit.frame_id, "version_id": str(edit.version_id), "version": edit.version.name,
        "user": edit.username, "saved_at": edit.saved_at.isoformat(), "revision": edit.revision,
        "base_revision": edit.base_revision, "rois_before": edit.rois_before, "rois_after": edit.rois_after,
        "changes": edit.changes,
    }


def frame_history(version: DatasetVersion, frame_id: str, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The saves of one frame in a version and in the ancestors it inherits from, newest first."""
    ancestors = version.ancestors or [str(version.pk)]
    edits = (FrameEdit.objects.filter(version_id__in=ancestors, frame_id=frame_id).select_related("version")
             .order_by("-id")[:limit])
    return [frame_edit_output(edit) for edit in edits]
