"""Small builders for test data (no fixture files)."""

from __future__ import annotations

from typing import Any


def frame(frame_id: str | None = None, *, uri: str | None = None, labels: list[list[str]] | None = None,
          meta: dict[str, Any] | None = None, context_id: str | None = None, timestamp: int | None = None,
          **extra: Any) -> dict[str, Any]:
    """A single frame with one box ROI per entry of ``labels``."""
    uri = uri or f"s3://bucket/images/{frame_id or 'img'}.jpg"
    doc: dict[str, Any] = {
        "sources": [{"id": "default", "uri": uri, "width": 640, "height": 480}],
        "rois": [
            {"label": roi_labels, "poly": [10, 10, 50, 10, 50, 40, 10, 40], "meta": {"_type": "b2d"}}
            for roi_labels in (labels or [])
        ],
        **extra,
    }
    if frame_id is not None:
        doc["id"] = frame_id
    if meta is not None:
        doc["meta"] = meta
    if context_id is not None:
        doc["context_id"] = context_id
    if timestamp is not None:
        doc["timestamp"] = timestamp
    return doc
