"""ROIs: validation per shape type and conversion from the SDK's shape arguments.

A ROI is ``{id, label: [str], confidence: 0..1, poly: [numbers], sources: [source ids], mask: {id, value},
meta}``; the shape type is ``meta._type``. A ROI with labels and no geometry is a frame label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

POLY_PART_SEPARATOR = -999999999
SHAPE_TYPES = ("b2d", "p2d", "k2d", "elp", "p3d", "k3d", "b3d", "mask")
_SHAPE_TYPES = frozenset(SHAPE_TYPES)
MAX_ROIS = 10_000
MAX_LABELS = 64
MAX_LABEL_LENGTH = 255
MAX_POLY_NUMBERS = 200_000
MAX_ID_LENGTH = 255


class RoiError(ValueError):
    """A broken rule; ``field`` is the path inside the ROI (e.g. ``poly``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


Label = Annotated[str, Meta(min_length=1, max_length=MAX_LABEL_LENGTH)]
RoiId = Annotated[str, Meta(min_length=1, max_length=MAX_ID_LENGTH)]
Unit = Annotated[int, Meta(ge=0, le=1)] | Annotated[float, Meta(ge=0, le=1)]
# Integer coordinates stay exact as floats, so a polygon's sum (the finiteness check) cannot overflow.
Coordinate = Annotated[int, Meta(ge=-(2**53), le=2**53)] | float


class RoiMask(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: str
    value: Annotated[list[Annotated[int, Meta(ge=0, le=255)]], Meta(min_length=3, max_length=3)]


class Roi(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A ROI as it arrives and as it is stored: types and bounds are checked by ``msgspec`` when a frame is
    converted; ``roi_clean`` adds the rules between fields and fills the defaults."""

    id: RoiId | None = None
    label: Annotated[list[Label], Meta(max_length=MAX_LABELS)] | None = None
    confidence: Unit | None = None
    poly: Annotated[list[Coordinate], Meta(max_length=MAX_POLY_NUMBERS)] | None = None
    sources: list[str] | None = None
    mask: RoiMask | None | UnsetType = UNSET
    meta: dict[str, Any] | None = None


def _poly_parts(poly: list[float]) -> list[list[float]]:
    parts, part = [], []
    for number in poly:
        if number == POLY_PART_SEPARATOR:
            parts.append(part)
            part = []
        else:
            part.append(number)
    parts.append(part)
    return parts


def _check_shape(shape: str | None, poly: list[float], mask: RoiMask | None) -> None:
    n = len(poly)
    if shape == "b2d" and n != 8:
        raise RoiError("poly", "a b2d box is stored as its 4 corners: 8 numbers")
    if shape == "p2d":
        for part in _poly_parts(poly):
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


def roi_clean(roi: Roi, index: int, source_ids: list[str], masks_by_source: dict[str, set[str]]) -> None:
    """Check the rules between a converted ROI's fields and fill its defaults, in place."""
    if roi.label is None:
        roi.label = []
    poly = roi.poly
    if poly is None:
        poly = roi.poly = []
    elif not math.isfinite(sum(poly)):  # NaN or an infinity makes the sum non-finite
        for i, number in enumerate(poly):
            if not math.isfinite(number):
                raise RoiError(f"poly[{i}]", f"must be a finite number, got {number!r}")
        raise RoiError("poly", "coordinates are too large")
    meta = roi.meta
    if meta is None:
        meta = roi.meta = {}
    shape = meta.get("_type")
    if shape is not None and shape not in _SHAPE_TYPES:
        raise RoiError("meta._type", f"must be one of {', '.join(SHAPE_TYPES)}")
    if roi.confidence is None:
        roi.confidence = 1.0
    sources = roi.sources
    if sources is None:
        sources = roi.sources = list(source_ids)
    elif not sources or any(s not in source_ids for s in sources):
        raise RoiError("sources", f"must list source ids of this frame ({', '.join(source_ids)})")
    mask = roi.mask
    if mask is None:
        roi.mask = UNSET
    elif mask is not UNSET:
        if not any(mask.id in masks_by_source.get(s, ()) for s in sources):
            raise RoiError("mask.id", f"{mask.id!r} is not a mask of the ROI's sources")
    else:
        mask = None
    _check_shape(shape, poly, mask)
    if not poly and mask is None and not roi.label:
        raise RoiError("label", "a ROI without geometry or mask is a frame label and needs labels")
    if roi.id is None:
        roi.id = f"roi-{index}"  # deterministic: writing the same frame twice gives the same document


def roi_labels(rois: list[Roi]) -> list[str]:
    """Labels counted once per ROI: the input of per-label ROI counts."""
    counted: list[str] = []
    for roi in rois:
        labels = roi.label
        counted.extend(labels if len(labels) < 2 else dict.fromkeys(labels))
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
