"""Exporting a version's annotations (read page by page, never all frames' rows at once in SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from formats import coco, cvat, datumaro_json, masks, voc, yolo
from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.frame_pages import frames_page
from hyperdatasets.selectors.frames import MAX_PAGE_SIZE
from hyperdatasets.storage.serving import local_root_file, own_upload_name


def version_frames(version: DatasetVersion):
    """Every frame of the version, in the default order."""
    cursor = None
    while True:
        page = frames_page(version, cursor=cursor, limit=MAX_PAGE_SIZE)
        yield from page.frames
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


@dataclass
class Exported:
    files: dict[str, bytes]  # archive path -> content
    report: dict[str, int]  # what the format could not carry, counted
    images: int
    annotations: int
    # With include_images: (archive path, (kind, where)): see _image_files
    image_files: list[tuple[str, tuple[str, Any]]] = field(default_factory=list)


def _image_files(members: list[tuple[str, str]], dataset_ids: list, report: dict[str, int]) -> list:
    """Where each image to copy is: ``("storage", name)`` (one of the datasets' uploads), ``("file", path)``
    (under the local roots), or ``("url", presigned URL)`` (an object of a bucket or container registered for
    the dataset's project). Others (an unregistered bucket, an https URL: never fetched by the server) are
    counted, not copied."""
    from hyperdatasets.models import Dataset
    from hyperdatasets.storage.serving import FileLinks

    links = [FileLinks(None, dataset) for dataset in Dataset.objects.filter(pk__in=dataset_ids)]
    found, seen = [], set()
    for member, uri in members:
        if member in seen or not uri:
            continue
        seen.add(member)
        name = next((n for d in dataset_ids if (n := own_upload_name(d, uri)) is not None), None)
        if name is not None:
            found.append((member, ("storage", name)))
            continue
        path = local_root_file(uri)
        if path is not None:
            found.append((member, ("file", path)))
            continue
        url = next((u for link in links if (u := link.object_url(uri)) is not None), None)
        if url is not None:
            found.append((member, ("url", url)))
            continue
        key = "images not copied (not in this server's storage)"
        report[key] = report.get(key, 0) + 1
    return found


def annotations_export(version: DatasetVersion, *, format: str, include_images: bool = False) -> Exported:
    """The version as ``format`` files (an archive's members), and the counts of what it could not carry;
    with ``include_images``, where each image to copy into the archive is."""
    kept = (version.metadata or {}).get(format)
    categories = kept.get("categories") if isinstance(kept, dict) else None
    return frames_export(version_frames(version), format=format, categories=categories,
                         dataset_ids=[version.dataset_id], include_images=include_images)


def dataview_frames(run):
    """Every frame of a dataview's run, in its order (``dataviews.selectors.iteration_batch``)."""
    from dataviews.selectors import MAX_BATCH, iteration_batch

    cursor = None
    while True:
        batch = iteration_batch(run, cursor=cursor, batch_size=MAX_BATCH)
        yield from batch.frames
        if batch.eof:
            return
        cursor = batch.cursor


WRITERS = {coco.FORMAT: coco.CocoWriter, yolo.FORMAT: yolo.YoloWriter, voc.FORMAT: voc.VocWriter,
           cvat.FORMAT: cvat.CvatWriter, datumaro_json.FORMAT: datumaro_json.DatumaroWriter}


def frames_export(frames, *, format: str, categories: list | None, dataset_ids: list,
                  include_images: bool = False) -> Exported:
    """Frames (a version's, or a dataview run's) as ``format`` files; mask images are read from the uploads
    of ``dataset_ids``."""
    if format not in WRITERS:
        raise InvalidInput.for_field("format", f"must be one of {', '.join(WRITERS)}")
    writer = WRITERS[format](categories, masks.mask_reader(dataset_ids))
    for frame in frames:
        writer.add(frame)
    files = writer.finish()
    report = writer.report.as_dict()
    images = _image_files(writer.image_members, dataset_ids, report) if include_images else []
    return Exported(files, report, writer.images, writer.annotations, images)
