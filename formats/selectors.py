"""Exporting a version's annotations (read page by page, never all frames' rows at once in SQL)."""

from __future__ import annotations

from typing import Any

from formats import coco
from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.frame_pages import frames_page
from hyperdatasets.selectors.frames import MAX_PAGE_SIZE


def version_frames(version: DatasetVersion):
    """Every frame of the version, in the default order."""
    cursor = None
    while True:
        page = frames_page(version, cursor=cursor, limit=MAX_PAGE_SIZE)
        yield from page.frames
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def annotations_export(version: DatasetVersion, *, format: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The version as a ``format`` file, and the counts of what the format could not carry."""
    if format != coco.FORMAT:
        raise InvalidInput.for_field("format", f"must be one of {coco.FORMAT}")
    kept = (version.metadata or {}).get(coco.FORMAT)
    writer = coco.CocoWriter(kept.get("categories") if isinstance(kept, dict) else None)
    for frame in version_frames(version):
        writer.add(frame)
    return writer.document(), writer.report.as_dict()
