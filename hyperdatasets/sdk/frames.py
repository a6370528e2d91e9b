"""SingleFrame and FrameGroup: build frame documents in scripts, read them back from a version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from annotations.rois import RoiError, shape_to_roi

DEFAULT_SOURCE = "default"


def _roi(labels: list[str], meta: dict, confidence: float | None, roi_id: str | None, **shape: Any) -> dict:
    roi: dict[str, Any] = {"label": labels, **shape, "meta": meta}
    if confidence is not None:
        roi["confidence"] = confidence
    if roi_id is not None:
        roi["id"] = roi_id
    return roi


class SingleFrame:
    """One image (or video frame) with its preview, masks, metadata and annotations."""

    def __init__(self, id: str | None = None, source: str | None = None, width: int | None = None,
                 height: int | None = None, timestamp: int | None = None, preview_uri: str | None = None,
                 metadata: dict | None = None, context_id: str | None = None,
                 masks_source: dict[str, str] | Sequence[str] | str | None = None,
                 mask_source: str | None = None, annotations: list[dict] | None = None,
                 content_type: str | None = None, meta_blob: dict | None = None) -> None:
        self.id = id
        self.source = source
        self.width, self.height, self.timestamp = width, height, timestamp
        self.preview_uri = preview_uri
        self.metadata = dict(metadata or {})
        self.meta_blob = dict(meta_blob or {})
        self.context_id = context_id
        self.content_type = content_type
        masks = masks_source if masks_source is not None else mask_source
        if isinstance(masks, str):
            masks = [masks]
        if isinstance(masks, dict):
            self.masks_source = dict(masks)
        else:
            self.masks_source = {f"{i:02d}": uri for i, uri in enumerate(masks or [])}
        self.annotations: list[dict] = list(annotations or [])

    @property
    def meta(self) -> dict:
        return self.metadata

    @property
    def mask_source(self) -> str | None:
        return next(iter(self.masks_source.values()), None)

    def add_annotation(self, poly2d_xy=None, poly3d_xyz=None, points2d_xy=None, points3d_xyz=None,
                       box2d_xywh=None, box3d_xyzwhxyzwh=None, ellipse2d_xyrrt=None, mask_rgb=None,
                       frame_class=None, id=None, labels=None, confidence=None, metadata=None) -> dict:
        """Add a ROI (one shape), a mask ROI (``mask_rgb``) or a frame label (``frame_class`` or labels only)."""
        try:
            poly, mask, shape = shape_to_roi(
                box2d_xywh=box2d_xywh, poly2d_xy=poly2d_xy, points2d_xy=points2d_xy,
                ellipse2d_xyrrt=ellipse2d_xyrrt, poly3d_xyz=poly3d_xyz, points3d_xyz=points3d_xyz,
                box3d_xyzwhxyzwh=box3d_xyzwhxyzwh, mask_rgb=mask_rgb,
                mask_id=next(iter(self.masks_source), "00"))
        except RoiError as exc:
            raise ValueError(str(exc)) from None
        all_labels = list(labels or []) + [c for c in (frame_class or []) if c not in (labels or [])]
        meta = dict(metadata or {})
        if shape:
            meta["_type"] = shape
        roi = _roi(all_labels, meta, confidence, id, poly=poly)
        if mask is not None:
            roi["mask"] = mask
        self.annotations.append(roi)
        return roi

    def _source(self, source_id: str) -> dict[str, Any]:
        source: dict[str, Any] = {"id": source_id, "uri": self.source}
        for key in ("width", "height", "timestamp", "content_type"):
            if getattr(self, key) is not None:
                source[key] = getattr(self, key)
        if self.preview_uri:
            source["preview"] = {"uri": self.preview_uri}
        if self.masks_source:
            source["masks"] = [{"id": k, "uri": v} for k, v in self.masks_source.items()]
        return source

    def to_api(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"sources": [self._source(DEFAULT_SOURCE)], "rois": [dict(r) for r in self.annotations],
                                 "meta": self.metadata}
        if self.meta_blob:
            frame["meta_blob"] = self.meta_blob
        for key in ("id", "context_id", "timestamp"):
            if getattr(self, key) is not None:
                frame[key] = getattr(self, key)
        return frame

    @classmethod
    def _from_source(cls, frame: dict, source: dict, rois: list[dict]) -> SingleFrame:
        single = cls(id=frame.get("id"), source=source.get("uri"), width=source.get("width"),
                     height=source.get("height"), timestamp=frame.get("timestamp"),
                     preview_uri=(source.get("preview") or {}).get("uri"), metadata=frame.get("meta"),
                     context_id=frame.get("context_id"), content_type=source.get("content_type"),
                     masks_source={m["id"]: m["uri"] for m in source.get("masks", [])},
                     meta_blob=frame.get("meta_blob"))
        single.annotations = [{k: v for k, v in roi.items() if k != "sources"} for roi in rois]
        return single

    def __repr__(self) -> str:
        return f"<SingleFrame id={self.id!r} source={self.source!r} annotations={len(self.annotations)}>"


class FrameGroup(dict):
    """Several named SingleFrames (e.g. cameras) stored as one frame with one source per name."""

    def __init__(self, *args, id: str | None = None, metadata: dict | None = None, context_id: str | None = None,
                 timestamp: int | None = None, **frames: SingleFrame) -> None:
        super().__init__(*args, **frames)
        self.id, self.metadata, self.context_id, self.timestamp = id, dict(metadata or {}), context_id, timestamp
        self.global_annotations: list[dict] = []
        self.unreadable: str | None = None  # the server's reason, for a stored frame it could not decode

    def add_global_annotation(self, labels=None, confidence=None, metadata=None, id=None) -> dict:
        roi = _roi(list(labels or []), dict(metadata or {}), confidence, id)
        self.global_annotations.append(roi)
        return roi

    def to_api(self) -> dict[str, Any]:
        if not self:
            raise ValueError("a FrameGroup needs at least one SingleFrame")
        sources, rois, meta = [], [], dict(self.metadata)
        for name, single in self.items():
            if not isinstance(single, SingleFrame):
                raise ValueError(f"FrameGroup[{name!r}] must be a SingleFrame")
            sources.append(single._source(name))
            rois += [{**roi, "sources": [name]} for roi in single.annotations]
            if single.metadata:
                meta[name] = single.metadata
        rois += [{**roi, "sources": list(self)} for roi in self.global_annotations]
        first = next(iter(self.values()))
        frame: dict[str, Any] = {"sources": sources, "rois": rois, "meta": meta}
        frame_id = self.id or first.id
        for key, value in (("id", frame_id), ("context_id", self.context_id or first.context_id),
                           ("timestamp", self.timestamp if self.timestamp is not None else first.timestamp)):
            if value is not None:
                frame[key] = value
        return frame


def frame_from_api(frame: dict) -> SingleFrame | FrameGroup:
    sources = frame.get("sources", [])
    rois = frame.get("rois", [])
    if len(sources) == 1 and sources[0].get("id") == DEFAULT_SOURCE:
        single = SingleFrame._from_source(frame, sources[0], rois)
        single.saved_in_version = frame.get("saved_in_version")
        return single
    group = FrameGroup(id=frame.get("id"), metadata={k: v for k, v in (frame.get("meta") or {}).items()
                                                     if k not in {s["id"] for s in sources}},
                       context_id=frame.get("context_id"), timestamp=frame.get("timestamp"))
    # A frame the server could not decode comes with its id and the reason, and nothing else.
    group.unreadable = frame.get("unreadable")
    all_ids = [s["id"] for s in sources]
    for source in sources:
        own = [r for r in rois if r.get("sources") == [source["id"]]]
        sub = {**frame, "meta": (frame.get("meta") or {}).get(source["id"], {})}
        group[source["id"]] = SingleFrame._from_source(sub, source, own)
    group.global_annotations = [{k: v for k, v in r.items() if k != "sources"} for r in rois
                                if r.get("sources") == all_ids and len(all_ids) > 1]
    return group


def frame_to_api(frame: SingleFrame | FrameGroup | dict) -> dict:
    if isinstance(frame, SingleFrame | FrameGroup):
        return frame.to_api()
    if isinstance(frame, dict):
        return frame
    raise ValueError(f"expected a SingleFrame, FrameGroup or frame dict, got {type(frame).__name__}")
