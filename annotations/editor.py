"""What the frame page's annotation editor starts from: the frame and its revision, whether the user may edit
it, the version's labels for type-ahead, its mask-value mapping, and the frame's history."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from annotations.selectors import frame_history
from hyperdatasets.access import POLICY, dataset_role
from hyperdatasets.frame_documents import READ_ONLY_KEYS
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.frames import version_label_stats

TYPE_AHEAD_LABELS = 1000


def read_only_reason(user, version: DatasetVersion) -> str | None:
    """Why the user cannot edit this version's frames, or None when they can."""
    if version.is_published:
        return "Published: read-only"
    if dataset_role(user, version.dataset) < POLICY["frames.change"]:
        return "Read-only: editing needs the write role on this project"
    return None


def editor_context(user, version: DatasetVersion, frame: dict[str, Any], revision: int, source: dict[str, Any],
                   palette: list[str], legend: list[dict[str, Any]]) -> dict[str, Any]:
    reason = read_only_reason(user, version)
    labels = list(version_label_stats(version)["labels"])[:TYPE_AHEAD_LABELS]
    document = {k: v for k, v in frame.items() if k not in READ_ONLY_KEYS}
    keys = {"version_id": version.pk, "frame_id": frame["id"]}
    return {
        "read_only_reason": reason,
        "editor_data": {
            "history": frame_history(version, frame["id"]),
            "editable": reason is None, "version": str(version.pk), "frame": document, "revision": revision,
            "source": source["id"], "width": source["width"], "height": source["height"],
            "single_source": len(frame["sources"]) == 1, "labels": labels, "palette": palette, "legend": legend,
            "urls": {"frame": reverse("api-frame", kwargs=keys), "history": reverse("api-frame-history", kwargs=keys),
                     "mask_labels": reverse("api-version-mask-labels", kwargs={"version_id": version.pk})},
        },
    }
