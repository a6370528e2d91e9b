"""Binary masks and COCO's run-length encoding (pycocotools), for every format that carries masks."""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as coco_mask


def _encoded(rle: dict[str, Any]) -> dict[str, Any]:
    return {"size": rle["size"], "counts": rle["counts"].encode("ascii")}


def rle_binary(rle: dict[str, Any]) -> np.ndarray:
    """An RLE (run lengths, or COCO's compressed string) as a boolean array."""
    height, width = rle["size"]
    encoded = coco_mask.frPyObjects(rle, height, width) if isinstance(rle["counts"], list) else _encoded(rle)
    return coco_mask.decode(encoded).astype(bool)


def binary_rle(binary: np.ndarray) -> dict[str, Any]:
    """A boolean array as COCO's compressed RLE ``{size, counts}`` (counts a string)."""
    encoded = coco_mask.encode(np.asfortranarray(binary.astype(np.uint8)))
    return {"size": [int(v) for v in encoded["size"]], "counts": encoded["counts"].decode("ascii")}


def rle_box(rle: dict[str, Any]) -> list[float]:
    return [float(v) for v in coco_mask.toBbox(_encoded(rle))]


def rle_area(rle: dict[str, Any]) -> float:
    return float(coco_mask.area(_encoded(rle)))


def roi_mask(roi: dict[str, Any], source: dict[str, Any]) -> tuple[str | None, Any]:
    """A mask ROI's mask image URI (among its source's masks) and its value."""
    mask = roi.get("mask") if isinstance(roi.get("mask"), dict) else {}
    uri = next((m.get("uri") for m in source.get("masks") or [] if m.get("id") == mask.get("id")), None)
    return uri, mask.get("value")


def roi_binary(mask_pixels, roi: dict[str, Any], source: dict[str, Any]) -> np.ndarray | None:
    """A mask ROI's pixels (its value in its mask image) as a boolean array, or None when ``mask_pixels``
    (``uri -> RGB array | None``) cannot read the image or the ROI names no value."""
    uri, value = roi_mask(roi, source)
    pixels = mask_pixels(uri) if mask_pixels and uri else None
    if pixels is None or not (isinstance(value, list) and len(value) == 3):
        return None
    return np.all(pixels == np.array(value, np.uint8), axis=-1)
