"""ROIs: validation per shape type and conversion from the SDK's shape arguments.

A ROI is ``{id, label: [str], confidence: 0..1, poly: [numbers], sources: [source ids], mask: {id, value},
meta}``; the shape type is ``meta._type``. A ROI with labels and no geometry is a frame label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

POLY_PART_SEPARATOR = -999999999
SHAPE_TYPES = ("b2d", "p2d", "k2d", "elp", "p3d", "k3d", "b3d", "mask")
MAX_ROIS = 10_000
MAX_LABELS = 64
MAX_LABEL_LENGTH = 255
MAX_POLY_NUMBERS = 200_000
MAX_ID_LENGTH = 255
_ROI_KEYS = frozenset({"id", "label", "confidence", "poly", "sources", "mask", "meta"})


class RoiError(ValueError):
    """A broken rule; ``field`` is the path inside the ROI (e.g. ``poly``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _is_number(value: Any) -> bool:
    return (type(value) is int or type(value) is float) and math.isfinite(value)


def _labels(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RoiError("label", "must be a list of strings")
    if len(value) > MAX_LABELS:
        raise RoiError("label", f"at most {MAX_LABELS} labels")
    for label in value:
        if not isinstance(label, str) or not label or len(label) > MAX_LABEL_LENGTH:
            raise RoiError("label", f"each label must be a non-empty string of at most {MAX_LABEL_LENGTH} characters")
    return value


_NUMBER_TYPES = frozenset({int, float})


def _poly(value: Any) -> list[float]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RoiError("poly", "must be a flat list of numbers")
    if len(value) > MAX_POLY_NUMBERS:
        raise RoiError("poly", f"at most {MAX_POLY_NUMBERS} numbers")
    # Fast path: only ints and floats, and a finite sum (NaN or an infinity makes the sum non-finite).
    if {type(n) for n in value} <= _NUMBER_TYPES and math.isfinite(sum(value)):
        return value
    for number in value:
        if not _is_number(number):
            raise RoiError("poly", f"must hold finite numbers only, got {number!r}")
    raise RoiError("poly", "coordinates are too large")


def _polygon_parts(poly: list[float]) -> list[list[float]]:
    parts, part = [], []
    for number in poly:
        if number == POLY_PART_SEPARATOR:
            parts.append(part)
            part = []
        else:
            part.append(number)
    parts.append(part)
    return parts


def _check_shape(shape: str | None, poly: list[float], mask: Any) -> None:
    n = len(poly)
    if shape == "b2d" and n != 8:
        raise RoiError("poly", "a b2d box is stored as its 4 corners: 8 numbers")
    if shape == "p2d":
        for part in _polygon_parts(poly):
            if len(part) < 6 or len(part) % 2:
                raise RoiError("poly", "each polygon part needs at least 3 (x, y) points")
    if shape == "k2d" and (n == 0 or n % 2):
        raise RoiError("poly", "k2d keypoints need (x, y) pairs")
    if shape == "elp":
        if n != 5:
            raise RoiError("poly", "an ellipse is [cx, cy, rx, ry, theta]: 5 numbers")
        if poly[2] < 0 or poly[3] < 0:
            raise RoiError("poly", "ellipse radii must not be negative")
    if shape in ("p3d", "k3d", "b3d") and (n == 0 or n % 3):
        raise RoiError("poly", f"{shape} needs (x, y, z) triples")
    if shape == "mask":
        if n:
            raise RoiError("poly", "a mask ROI has no polygon")
        if mask is None:
            raise RoiError("mask", "a mask ROI needs mask {id, value}")
    if shape is None and n % 2:
        raise RoiError("poly", "needs (x, y) pairs, or a meta._type telling the shape")


def _mask(value: Any, mask_ids: set[str]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"id", "value"}:
        raise RoiError("mask", "must be {id, value}")
    mask_id, rgb = value.get("id"), value.get("value")
    if not isinstance(mask_id, str) or mask_id not in mask_ids:
        raise RoiError("mask.id", f"{mask_id!r} is not a mask of the ROI's sources")
    if (not isinstance(rgb, list) or len(rgb) != 3
            or any(type(c) is not int or not 0 <= c <= 255 for c in rgb)):
        raise RoiError("mask.value", "must be [r, g, b], three integers 0-255")
    return {"id": mask_id, "value": rgb}


def roi_clean(roi: Any, index: int, source_ids: list[str], masks_by_source: dict[str, set[str]]) -> dict[str, Any]:
    """Validate one ROI and return its stored form."""
    if not isinstance(roi, dict):
        raise RoiError("", "must be an object")
    unknown = set(roi) - _ROI_KEYS
    if unknown:
        raise RoiError(sorted(unknown)[0], "unknown field")
    labels = _labels(roi.get("label"))
    poly = _poly(roi.get("poly"))
    meta = roi.get("meta")
    if meta is None:
        meta = {}
    elif not isinstance(meta, dict):
        raise RoiError("meta", "must be an object")
    shape = meta.get("_type")
    if shape is not None and shape not in SHAPE_TYPES:
        raise RoiError("meta._type", f"must be one of {', '.join(SHAPE_TYPES)}")
    confidence = roi.get("confidence", 1.0)
    if confidence is None:
        confidence = 1.0
    if not _is_number(confidence) or not 0 <= confidence <= 1:
        raise RoiError("confidence", "must be a number from 0 to 1")
    sources = roi.get("sources")
    if sources is None:
        sources = list(source_ids)
    elif not isinstance(sources, list) or not sources or any(s not in source_ids for s in sources):
        raise RoiError("sources", f"must list source ids of this frame ({', '.join(source_ids)})")
    mask = roi.get("mask")
    if mask is not None:
        mask = _mask(mask, set().union(*(masks_by_source.get(s, set()) for s in sources)))
    _check_shape(shape, poly, mask)
    if not poly and mask is None and not labels:
        raise RoiError("label", "a ROI without geometry or mask is a frame label and needs labels")
    roi_id = roi.get("id")
    if roi_id is None:
        roi_id = f"roi-{index}"  # deterministic: writing the same frame twice gives the same document
    elif not isinstance(roi_id, str) or not roi_id or len(roi_id) > MAX_ID_LENGTH:
        raise RoiError("id", f"must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    cleaned = {"id": roi_id, "label": labels, "confidence": confidence, "poly": poly, "sources": sources,
               "meta": meta}
    if mask is not None:
        cleaned["mask"] = mask
    return cleaned


def roi_labels(rois: list[dict[str, Any]]) -> list[str]:
    """Labels counted once per ROI: the input of per-label ROI counts."""
    counted: list[str] = []
    for roi in rois:
        counted.extend(dict.fromkeys(roi["label"]))
    return counted


def shape_to_roi(
    *,
    box2d_xywh: Sequence[float] | None = None,
    poly2d_xy: Sequence[float] | Sequence[Sequence[float]] | None = None,
    points2d_xy: Sequence[float] | None = None,
    ellipse2d_xyrrt: Sequence[float] | None = None,
    poly3d_xyz: Sequence[float] | None = None,
    points3d_xyz: Sequence[float] | None = None,
    box3d_xyzwhxyzwh: Sequence[float] | None = None,
    mask_rgb: Sequence[int] | None = None,
    mask_id: str = "00",
) -> tuple[list[float], dict[str, Any] | None, str | None]:
    """The SDK's shape arguments as (poly, mask, meta._type). At most one shape may be given."""
    given = [name for name, value in (
        ("box2d_xywh", box2d_xywh), ("poly2d_xy", poly2d_xy), ("points2d_xy", points2d_xy),
        ("ellipse2d_xyrrt", ellipse2d_xyrrt), ("poly3d_xyz", poly3d_xyz), ("points3d_xyz", points3d_xyz),
        ("box3d_xyzwhxyzwh", box3d_xyzwhxyzwh), ("mask_rgb", mask_rgb)) if value is not None]
    if len(given) > 1:
        raise RoiError(given[1], f"give one shape per annotation, got {', '.join(given)}")
    if box2d_xywh is not None:
        if len(box2d_xywh) != 4:
            raise RoiError("box2d_xywh", "must be (x, y, w, h)")
        x, y, w, h = (float(v) for v in box2d_xywh)
        return [x, y, x + w, y, x + w, y + h, x, y + h], None, "b2d"
    if poly2d_xy is not None:
        if poly2d_xy and isinstance(poly2d_xy[0], Sequence):
            flat: list[float] = []
            for i, part in enumerate(poly2d_xy):
                if i:
                    flat.append(POLY_PART_SEPARATOR)
                flat.extend(float(v) for v in part)
            return flat, None, "p2d"
        return [float(v) for v in poly2d_xy], None, "p2d"
    if points2d_xy is not None:
        return [float(v) for v in points2d_xy], None, "k2d"
    if ellipse2d_xyrrt is not None:
        return [float(v) for v in ellipse2d_xyrrt], None, "elp"
    for value, shape in ((poly3d_xyz, "p3d"), (points3d_xyz, "k3d"), (box3d_xyzwhxyzwh, "b3d")):
        if value is not None:
            return [float(v) for v in value], None, shape
    if mask_rgb is not None:
        return [], {"id": mask_id, "value": [int(c) for c in mask_rgb]}, "mask"
    return [], None, None
