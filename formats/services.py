"""Importing annotation files into a Draft version: all or nothing (one transaction; a frame the frame rules
refuse fails the whole import, naming the file and the image)."""

from __future__ import annotations

import io
import posixpath
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction

from annotations.mask_labels import ALL_SOURCES_KEY, MASK_LABELS_KEY, mask_labels_from_pairs
from formats import coco, cvat, datumaro_json, masks, voc, yolo
from formats.bundle import Bundle
from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.models import DatasetVersion
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.uploads import upload_store
from hyperdatasets.services.versions import version_lock, version_refuse_if_published, version_update

IMPORT_BATCH = 10_000  # frames per write; the import is one transaction whatever its size
FORMATS = (coco.FORMAT, yolo.FORMAT, voc.FORMAT, cvat.FORMAT, datumaro_json.FORMAT)


@dataclass
class ImportResult:
    frames: int
    annotations: int
    categories: int


def _merged_categories(kept: Any, new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {c["id"]: c for c in kept if isinstance(c, dict) and type(c.get("id")) is int} \
        if isinstance(kept, list) else {}
    for category in new:
        by_id[category["id"]] = category
    return sorted(by_id.values(), key=lambda c: c["id"])


def _merged_mask_labels(kept: Any, used: list[tuple[list[int], str]]) -> dict[str, Any]:
    """The version's mask-label mapping with each imported mask value (a class's colour) mapped to its
    label; values already mapped keep their labels."""
    pairs = [(e["value"], e["labels"]) for e in (kept or {}).get(ALL_SOURCES_KEY, []) if isinstance(e, dict)]
    known = {tuple(value) for value, _labels in pairs}
    pairs += [(value, [label]) for value, label in used if tuple(value) not in known]
    return mask_labels_from_pairs(pairs)


def check_images_prefix(images_prefix: Any) -> str:
    """A URI prefix, or "" for the images in the uploaded archive (uploaded into media storage)."""
    if not isinstance(images_prefix, str) or len(images_prefix) > 1024:
        raise InvalidInput.for_field("images_prefix", "must be a URI prefix of at most 1024 characters, or empty "
                                                      "to upload the archive's images")
    return images_prefix


# Where each format's archives keep the images, relative paths tried in order.
IMAGE_FOLDERS = {voc.FORMAT: ("JPEGImages/", ""), yolo.FORMAT: ("images/", "")}
IN_ARCHIVE = "archive-image:"


def _upload_images(dataset, frames: list[dict[str, Any]], bundle: Bundle, format: str, created: list[str]) -> None:
    """Replace each source's in-archive path by the URI of its image, uploaded into the dataset's media
    storage (content-addressed: the same image uploaded again is stored once)."""
    names = set(bundle.names())
    for frame in frames:
        for source in frame["sources"]:
            relative = source["uri"][len(IN_ARCHIVE):]
            found = next((folder + relative for folder in IMAGE_FOLDERS.get(format, ("images/", "images/default/", ""))
                          if folder + relative in names), None)
            if found is None:
                raise coco.FormatError(bundle.name, f"image {frame['id']!r}",
                                       f"{relative} is not in the archive (give images_prefix to refer to images "
                                       "stored elsewhere)")
            content = bundle.read(found)
            stored = upload_store(dataset, kind="source", filename=posixpath.basename(relative),
                                  fileobj=io.BytesIO(content), size=len(content), path=f"imports/{relative}")
            if stored.created:
                created.append(stored.name)
            source["uri"] = stored.uri
            for key in ("width", "height"):
                if source.get(key) is None and getattr(stored, key) is not None:
                    source[key] = getattr(stored, key)
            if stored.content_type and not source.get("content_type"):
                source["content_type"] = stored.content_type


def _read(format: str, data: Any, images_prefix: str, file: str) -> coco.Imported:
    if format in (yolo.FORMAT, voc.FORMAT):
        if not isinstance(data, Bundle):
            raise InvalidInput.for_field("file", f"{format} comes as a zip archive")
        reader = yolo.yolo_read if format == yolo.FORMAT else voc.voc_read
        return reader(data, images_prefix=images_prefix)
    if format in (cvat.FORMAT, datumaro_json.FORMAT):
        if not isinstance(data, Bundle):
            raise InvalidInput.for_field("file", f"{format} comes as its file, or a zip holding it")
        reader = cvat.cvat_read if format == cvat.FORMAT else datumaro_json.datumaro_read
        return reader(data, images_prefix=images_prefix)
    if isinstance(data, Bundle):
        return coco.coco_read_bundle(data, images_prefix=images_prefix)
    return coco.coco_read(data, images_prefix=images_prefix, file=file)


def _import(version, format: str, data: Any, file: str, imported, upload: bool, created: list[str]) -> None:
    """Write an import's frames, mask images and metadata into the locked Draft, in one transaction."""
    with transaction.atomic():
        current = version_lock(version)
        version_refuse_if_published(current, "import annotations into it")
        if upload:
            _upload_images(current.dataset, imported.frames, data, format, created)
        mask_values = masks.render_pending(current.dataset, imported.frames, getattr(data, "name", file), created)
        for offset in range(0, len(imported.frames), IMPORT_BATCH):  # all in this one transaction
            batch = imported.frames[offset:offset + IMPORT_BATCH]
            failures = frames_upsert(current, batch).failures
            if failures:
                failure = failures[0]
                image = batch[failure.index]["id"] if 0 <= failure.index < len(batch) else "?"
                more = f" (and {len(failures) - 1} more in this batch)" if len(failures) > 1 else ""
                raise coco.FormatError(getattr(data, "name", file), f"image {image!r}",
                                       f"{failure.field}: {failure.reason}{more}")
        metadata = dict(current.metadata or {})
        kept = metadata.get(format) if isinstance(metadata.get(format), dict) else {}
        metadata[format] = {**kept, "categories": _merged_categories(kept.get("categories"), imported.categories)}
        if mask_values:
            metadata[MASK_LABELS_KEY] = _merged_mask_labels(metadata.get(MASK_LABELS_KEY), mask_values)
        version_update(current, metadata=metadata)


def annotations_import(version: DatasetVersion, *, format: str, data: Any, images_prefix: str,
                       file: str = "annotations.json", on_read=None) -> ImportResult:
    """Import an annotation file (``format``: one of ``FORMATS``; ``data``: a ``Bundle`` of what was uploaded,
    or COCO's parsed JSON) into a Draft version; each image's file is ``images_prefix`` + its path (an
    ``s3://``, ``gs://``, ``azure://``, ``https://`` or local prefix). A frame of the version with the same id
    is replaced. Classes are kept in the version's metadata under the format's name."""
    if format not in FORMATS:
        raise InvalidInput.for_field("format", f"must be one of {', '.join(FORMATS)}")
    upload = check_images_prefix(images_prefix) == ""
    if upload and not (isinstance(data, Bundle) and data.is_archive):
        raise InvalidInput.for_field("images_prefix", "give the URI prefix of the images, or upload a zip archive "
                                                      "holding them")
    imported = _read(format, data, IN_ARCHIVE if upload else images_prefix, file)
    if on_read is not None:  # the file is read and checked; the writing (one transaction) follows
        on_read(len(imported.frames))
    created: list[str] = []  # files this import stored: removed again when it fails
    try:
        _import(version, format, data, file, imported, upload, created)
    except BaseException:
        for name in created:
            default_storage.delete(name)
        raise
    return ImportResult(len(imported.frames), imported.annotations, len(imported.categories))
