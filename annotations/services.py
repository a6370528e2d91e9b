"""Saving one frame's annotations from the editor: a conditional write through the frame services, audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import transaction

from annotations.models import FrameEdit
from hyperdatasets.exceptions import InvalidInput, StaleWrite
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.frames import frame_with_revision
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.versions import version_lock, version_refuse_if_published


def _roi_changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, list[str]]:
    old = {roi.get("id"): roi for roi in before}
    new = {roi.get("id"): roi for roi in after}
    return {
        "added": [rid for rid in new if rid not in old],
        "removed": [rid for rid in old if rid not in new],
        "changed": [rid for rid in new if rid in old and new[rid] != old[rid]],
    }


def _last_writer(version: DatasetVersion, frame_id: str, revision: int) -> str:
    edit = FrameEdit.objects.filter(version=version, frame_id=frame_id, revision=revision).first()
    if edit is None:
        return "by another writer"
    return f"by {edit.username} at {edit.saved_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


@dataclass(frozen=True)
class FrameSaved:
    frame: dict[str, Any]  # as stored, in the API's output form
    edit: FrameEdit  # the audit row; ``edit.revision`` is the frame's new revision


def frame_save(version: DatasetVersion, frame_id: str, document: Any, *, if_match: int | None, user) -> FrameSaved:
    """Write ``document`` as frame ``frame_id`` of a Draft version and record who saved it.

    With ``if_match`` (the revision the caller loaded), the save is refused with StaleWrite when the frame
    was saved or deleted since; nothing is written then.
    """
    if not isinstance(document, dict):
        raise InvalidInput.for_field("frame", "must be a JSON object")
    if document.get("id", frame_id) != frame_id:
        raise InvalidInput.for_field("id", f"must be the id of the frame being saved ({frame_id!r})")
    with transaction.atomic():
        current = version_lock(version)  # serialises writers of the dataset: the check below stays true
        version_refuse_if_published(current, "edit its annotations")
        found = frame_with_revision(current, frame_id)
        if if_match is not None and found is None:
            raise StaleWrite(f"frame {frame_id!r} was deleted from version {current.name!r} since you loaded it",
                             details={"frame": frame_id, "revision": None})
        if if_match is not None and found[1] != if_match:
            raise StaleWrite(
                f"frame {frame_id!r} was saved {_last_writer(current, frame_id, found[1])} since you loaded it; "
                "your changes were not saved",
                details={"frame": frame_id, "revision": found[1], "loaded_revision": if_match})
        result = frames_upsert(current, [{**document, "id": frame_id}])
        if result.failures:
            failure = result.failures[0]
            raise InvalidInput.for_field(failure.field, failure.reason)
        saved, revision = frame_with_revision(current, frame_id)
        before = found[0] if found else {"rois": []}
        edit = FrameEdit.objects.create(
            dataset_id=current.dataset_id, version=current, frame_id=frame_id, user=user,
            username=user.get_username(), base_revision=if_match, revision=revision,
            rois_before=len(before["rois"]), rois_after=len(saved["rois"]),
            changes=_roi_changes(before["rois"], saved["rois"]))
    return FrameSaved(saved, edit)
