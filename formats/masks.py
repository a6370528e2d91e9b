"""Pixel masks of imported and exported annotations.

Import: a COCO RLE segmentation becomes a mask image (PNG) stored with the dataset's uploads
(``hyperdatasets.services.uploads``, content-addressed under ``datasets/<id>/masks/``), listed in the frame's
source ``masks`` and referred to by the ROI's ``mask`` (its id and value). The value is the category's colour
(``category_value``: its id in base 256, never black), and the version's mask-label mapping maps each value to
its label. Export reads the mask image back (the dataset's own uploads; other stores are counted as not
readable), for each format to write the pixels of the ROI's value its own way (``formats.rle``).
"""

from __future__ import annotations

import functools
import io
from typing import Any

import numpy as np
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

from formats.coco import PENDING_IMAGE, PENDING_MASK, FormatError
from formats.rle import rle_binary
from hyperdatasets.models import Dataset
from hyperdatasets.services.uploads import upload_store
from hyperdatasets.storage.serving import own_upload_name

MAX_MASKS_PER_SOURCE = 64


def category_value(category_id: int) -> list[int]:
    return [category_id & 255, (category_id >> 8) & 255, (category_id >> 16) & 255]


def _store_image(dataset: Dataset, frame: dict, mask_id: str, content: bytes, width: int, height: int,
                 file: str, path: str, created: list[str]) -> None:
    stored = upload_store(dataset, kind="mask", filename=f"{mask_id}.png", fileobj=io.BytesIO(content),
                          size=len(content), content_type="image/png")
    if stored.created:
        created.append(stored.name)
    masks = frame["sources"][0].setdefault("masks", [])
    if len(masks) >= MAX_MASKS_PER_SOURCE:
        raise FormatError(file, path, f"image {frame['id']!r} has more than {MAX_MASKS_PER_SOURCE} masks")
    masks.append({"id": mask_id, "uri": stored.uri, "content_type": "image/png", "width": width, "height": height})


def render_pending(dataset: Dataset, frames: list[dict[str, Any]], file: str, created: list[str]
                   ) -> list[tuple[list[int], str]]:
    """Store the mask image of every pending mask ROI of ``frames`` (rendered from COCO's RLE, or a format's
    mask image as given, stored once per frame) and point the ROI and its source at it, in place. Returns
    the (value, label) of each mask value used; the storage names of the files it stored are added to
    ``created``."""
    used: dict[tuple, str] = {}
    for frame in frames:
        source = frame["sources"][0]
        stored_ids: set[str] = set()
        for roi in frame["rois"]:
            given = roi.pop(PENDING_IMAGE, None)
            if given is not None:
                if given["mask_id"] not in stored_ids:
                    _store_image(dataset, frame, given["mask_id"], given["image"], given["width"], given["height"],
                                 file, given["path"], created)
                    stored_ids.add(given["mask_id"])
                roi["mask"] = {"id": given["mask_id"], "value": given["value"]}
                used[tuple(given["value"])] = roi["label"][0]
                continue
            pending = roi.pop(PENDING_MASK, None)
            if pending is None:
                continue
            try:
                binary = rle_binary(pending["rle"])
            except (ValueError, TypeError) as exc:
                raise FormatError(file, pending["path"], f"is not a readable RLE ({exc})") from None
            height, width = binary.shape
            if (source.get("width"), source.get("height")) not in ((None, None), (width, height)):
                raise FormatError(file, f"{pending['path']}.size", f"is {height}x{width} but the image is "
                                                                   f"{source.get('height')}x{source.get('width')}")
            value = category_value(pending["category"])
            pixels = np.zeros((height, width, 3), np.uint8)
            pixels[binary] = value
            out = io.BytesIO()
            Image.fromarray(pixels, "RGB").save(out, format="PNG")
            mask_id = roi["meta"]["_id"]
            _store_image(dataset, frame, mask_id, out.getvalue(), width, height, file, pending["path"], created)
            roi["mask"] = {"id": mask_id, "value": value}
            used[tuple(value)] = roi["label"][0]
    return [(list(value), label) for value, label in used.items()]


MASKS_KEPT = 8  # decoded mask images kept while a frame's ROIs are written (they share their frame's images)


def mask_reader(dataset_ids: list):
    """A function from a frame's mask URI to its pixels (an RGB array), or None when the image is not one of
    the datasets' own uploads or cannot be read. The last few images are kept decoded (the ROIs of a frame
    share its mask images), never a whole export's."""

    @functools.lru_cache(maxsize=MASKS_KEPT)
    def read(uri: str) -> np.ndarray | None:
        name = next((n for d in dataset_ids if (n := own_upload_name(d, uri)) is not None), None)
        if name is None:
            return None
        try:
            with default_storage.open(name, "rb") as stored, Image.open(stored) as image:
                return np.asarray(image.convert("RGB"))
        except (OSError, UnidentifiedImageError, ValueError):
            return None

    return read
