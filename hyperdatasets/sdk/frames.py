"""SingleFrame and FrameGroup: build frame documents in scripts, read them back from a version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from annotations.rois import RoiError, shape_to_roi

DEFAULT_SOURCE = "default"
GLOBAL_MARK = "_global"  # in a ROI's meta: a FrameGroup's global annotation


def _roi(labels: list[str], meta: dict, confidence: float | None, roi_id: str | None, **shape: Any) -> dict:
    roi: dict[str, Any] = {"label": labels, **shape, "meta": meta}
    if confidence is not None:
        roi["confidence"] = confidence
    if roi_id is not None:
        roi["id"] = roi_id
    return roi


class Annotation:
    """A ROI as an object, as ClearML's ``Annotation``: ``values`` are its coordinates (the stored ``poly``),
    its shape type is in ``metadata["_type"]``. ``SingleFrame.add_annotation(annotation=...)`` adds one."""

    TYPE = "roi"

    def __init__(self, values: Sequence[float] | None = None, id: str | None = None,
                 labels: Sequence[str] | None = None, confidence: float | None = None,
                 metadata: dict | None = None) -> None:
        self.values = list(values or [])
        self.id = id
        self.labels = list(labels or [])
        self.confidence = confidence
        self.metadata = dict(metadata or {})

    @classmethod
    def get_type(cls) -> str:
        """``"roi"`` for an annotation with geometry, ``"image"`` for an ImageAnnotation (the whole frame)."""
        return cls.TYPE

    def to_roi(self) -> dict:
        shape = {"poly": self.values} if self.values else {}
        return _roi(self.labels, self.metadata, self.confidence, self.id, **shape)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self.id!r} labels={self.labels!r}>"


class ImageAnnotation(Annotation):
    """A label of the whole image (a frame label, no geometry), as ClearML's ``ImageAnnotation``."""

    TYPE = "image"

    def __init__(self, labels: Sequence[str] | None = None, confidence: float | None = None,
                 metadata: dict | None = None, id: str | None = None) -> None:
        super().__init__(None, id=id, labels=labels, confidence=confidence, metadata=metadata)


class SingleFrame:
    """One image (or video frame) with its preview, masks, metadata and annotations."""

    def __init__(self, id: str | None = None, source: str | None = None, width: int | None = None,
                 height: int | None = None, timestamp: int | None = None, preview_uri: str | None = None,
                 metadata: dict | None = None, context_id: str | None = None,
                 masks_source: dict[str, str] | Sequence[str] | str | None = None,
                 mask_source: str | None = None, annotations: list[dict] | None = None,
                 content_type: str | None = None, meta_blob: dict | None = None,
                 source_meta: dict | None = None, blob: str | None = None, hash: str | None = None,
                 size: int | None = None, preview_uri_timestamp: int | None = None) -> None:
        self.id = id
        self.blob = blob  # free text kept with the frame
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
        self.source_meta = dict(source_meta or {})  # the source's own meta (e.g. a content hash)
        # ClearML's constructor arguments about the source file: kept in its meta.
        if hash is not None:
            self.source_meta["hash"] = hash
        if size is not None:
            self.source_meta["size"] = size
        self.preview_uri_timestamp = preview_uri_timestamp
        # The source and frame timestamp as read from a version: fields no attribute shows (a preview's or
        # mask's content type and size, the source's own timestamp) are written back from it unchanged.
        self._stored_source: dict | None = None
        self._stored_timestamp: int | None = None
        self._origin: tuple[str, str] | None = None  # (version id, frame id) it was read from
        self._links: dict = {}  # {"links": {uri: url}} once asked; shared by the members of a group

    # --- local copies (hyperdatasets.sdk.cache) ---------------------------------------------------------

    def _server_link(self, uri: str) -> str | None:
        if self._origin is None:
            return None
        if "links" not in self._links:
            from hyperdatasets.sdk.client import _Client
            from hyperdatasets.sdk.datasets import _frame_segment

            version_id, frame_id = self._origin
            self._links["links"] = _Client.get().get_json(
                f"/api/versions/{version_id}/frame-links/{_frame_segment(frame_id)}/")["links"]
        return self._links["links"].get(uri)

    def _local(self, uri: str | None, content_hash: str | None, raise_on_error: bool, force_download: bool):
        from hyperdatasets.sdk.cache import local_copy
        from hyperdatasets.sdk.client import _Client

        if not uri:
            if raise_on_error:
                raise ValueError("the frame names no such file")
            return None
        try:
            client = _Client.get() if self._origin is not None else None
            return str(local_copy(uri, content_hash, link=lambda: self._server_link(uri),
                                  session=client.session if client else None,
                                  server_url=client.url if client else None, force_download=force_download))
        except Exception as exc:  # noqa: BLE001 - ClearML: None and a warning unless raise_on_error
            if raise_on_error:
                raise
            import warnings

            warnings.warn(f"could not fetch {uri}: {exc}", stacklevel=3)
            return None

    def get_local_source(self, raise_on_error: bool = False, force_download: bool = False) -> str | None:
        """A local copy of the source (kept in the cache folder: see ``hyperdatasets.sdk.cache``); None, with a
        warning, when it cannot be fetched (unless ``raise_on_error``)."""
        return self._local(self.source, self.source_meta.get("hash"), raise_on_error, force_download)

    def get_local_preview_source(self, raise_on_error: bool = False, force_download: bool = False) -> str | None:
        return self._local(self.preview_uri, None, raise_on_error, force_download)

    def get_local_mask_source(self, mask_id: str | None = None, raise_on_error: bool = False,
                              force_download: bool = False) -> str | None:
        """A local copy of a mask: ``mask_id``, or the first."""
        uri = self.masks_source.get(mask_id) if mask_id is not None else self.mask_source
        return self._local(uri, None, raise_on_error, force_download)

    def get_local_mask_sources(self, raise_on_error: bool = False, force_download: bool = False) -> dict:
        return {mask_id: self._local(uri, None, raise_on_error, force_download)
                for mask_id, uri in self.masks_source.items()}

    @property
    def meta(self) -> dict:
        return self.metadata

    @property
    def mask_source(self) -> str | None:
        return next(iter(self.masks_source.values()), None)

    def add_annotation(self, poly2d_xy=None, poly3d_xyz=None, points2d_xy=None, points3d_xyz=None,
                       box2d_xywh=None, box3d_xyzwhxyzwh=None, ellipse2d_xyrrt=None, mask_rgb=None,
                       frame_class=None, id=None, labels=None, confidence=None, metadata=None,
                       annotation: Annotation | None = None) -> dict:
        """Add a ROI (one shape), a mask ROI (``mask_rgb``) or a frame label (``frame_class`` or labels only);
        or an ``Annotation`` object as it is."""
        if annotation is not None:
            roi = annotation.to_roi()
            self.annotations.append(roi)
            return roi
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
        stored = self._stored_source or {}
        source: dict[str, Any] = {"id": source_id, "uri": self.source}
        for key in ("width", "height", "content_type"):
            if getattr(self, key) is not None:
                source[key] = getattr(self, key)
        # The frame's timestamp is the source's unless the source kept one of its own, and it was not changed.
        timestamp = stored["timestamp"] if "timestamp" in stored and self.timestamp == self._stored_timestamp \
            else self.timestamp
        if timestamp is not None:
            source["timestamp"] = timestamp
        if self.source_meta:
            source["meta"] = dict(self.source_meta)
        if self.preview_uri:
            kept = stored.get("preview") or {}
            source["preview"] = dict(kept) if kept.get("uri") == self.preview_uri else {"uri": self.preview_uri}
            if self.preview_uri_timestamp is not None:
                source["preview"]["timestamp"] = self.preview_uri_timestamp
        if self.masks_source:
            kept_masks = {m.get("id"): m for m in stored.get("masks") or []}
            source["masks"] = [dict(kept_masks[k]) if kept_masks.get(k, {}).get("uri") == v else {"id": k, "uri": v}
                               for k, v in self.masks_source.items()]
        return source

    def to_api(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"sources": [self._source(DEFAULT_SOURCE)], "rois": [dict(r) for r in self.annotations],
                                 "meta": self.metadata}
        if self.meta_blob:
            frame["meta_blob"] = self.meta_blob
        for key in ("id", "context_id", "timestamp", "blob"):
            if getattr(self, key) is not None:
                frame[key] = getattr(self, key)
        return frame

    @classmethod
    def _from_source(cls, frame: dict, source: dict, rois: list[dict], meta: dict | None) -> SingleFrame:
        single = cls(id=frame.get("id"), source=source.get("uri"), width=source.get("width"),
                     height=source.get("height"), timestamp=frame.get("timestamp"),
                     preview_uri=(source.get("preview") or {}).get("uri"), metadata=meta,
                     context_id=frame.get("context_id"), content_type=source.get("content_type"),
                     masks_source={m["id"]: m["uri"] for m in source.get("masks") or []},
                     source_meta=source.get("meta"),
                     preview_uri_timestamp=(source.get("preview") or {}).get("timestamp"))
        single.annotations = [{k: v for k, v in roi.items() if k != "sources"} for roi in rois]
        single._stored_source, single._stored_timestamp = source, frame.get("timestamp")
        return single

    def __repr__(self) -> str:
        return f"<SingleFrame id={self.id!r} source={self.source!r} annotations={len(self.annotations)}>"


class FrameGroup(dict):
    """Several named SingleFrames (e.g. cameras) stored as one frame with one source per name.

    A ROI on one source is in that SingleFrame's ``annotations``; one on every source is a global annotation;
    one on some of the sources (two or more, not all) is in ``shared_annotations`` with its ``sources``.
    """

    def __init__(self, *args, id: str | None = None, metadata: dict | None = None, context_id: str | None = None,
                 timestamp: int | None = None, meta_blob: dict | None = None, blob: str | None = None,
                 **frames: SingleFrame) -> None:
        super().__init__(*args, **frames)
        self.blob = blob
        self.id, self.metadata, self.context_id, self.timestamp = id, dict(metadata or {}), context_id, timestamp
        self.meta_blob = dict(meta_blob or {})
        self.global_annotations: list[dict] = []
        self.shared_annotations: list[dict] = []
        self.unreadable: str | None = None  # the server's reason, for a stored frame it could not decode
        self.saved_in_version: str | None = None
        # As read from a version: the ROIs' order (by id), and the sources whose meta entry was there (even
        # empty), so a frame read and written back unchanged is stored unchanged.
        self._roi_order: dict[str, int] = {}
        self._sub_meta: set[str] = set()

    def get_local_sources(self, raise_on_error: bool = False, force_download: bool = False) -> dict:
        """Local copies of every member's source, by name."""
        return {name: single.get_local_source(raise_on_error, force_download) for name, single in self.items()}

    def get_local_preview_sources(self, raise_on_error: bool = False, force_download: bool = False) -> dict:
        return {name: single.get_local_preview_source(raise_on_error, force_download)
                for name, single in self.items()}

    def get_local_mask_sources(self, raise_on_error: bool = False, force_download: bool = False) -> dict:
        """Local copies of every member's masks: ``{name: {mask id: path}}``."""
        return {name: single.get_local_mask_sources(raise_on_error, force_download) for name, single in self.items()}

    def add_global_annotation(self, labels=None, confidence=None, metadata=None, id=None,
                              annotation: Annotation | None = None) -> dict:
        """A frame label of the whole group (every source): ``labels=...`` or ``annotation=ImageAnnotation(...)``.
        Marked in its meta, so that it reads back as global in a group of one source too."""
        if annotation is not None:
            if annotation.values:
                raise ValueError("a global annotation labels the whole group: give it no values (an ImageAnnotation)")
            labels, confidence, metadata, id = annotation.labels, annotation.confidence, annotation.metadata, \
                annotation.id
        roi = _roi(list(labels or []), {**(metadata or {}), GLOBAL_MARK: True}, confidence, id)
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
            if single.metadata or name in self._sub_meta:
                meta[name] = single.metadata
        rois += [dict(roi) for roi in self.shared_annotations]
        rois += [{**roi, "sources": list(self)} for roi in self.global_annotations]
        if self._roi_order:  # stable: ROIs added since keep their order, after the ones read
            rois.sort(key=lambda roi: self._roi_order.get(roi.get("id"), len(self._roi_order)))
        first = next(iter(self.values()))
        frame: dict[str, Any] = {"sources": sources, "rois": rois, "meta": meta}
        if self.meta_blob:
            frame["meta_blob"] = self.meta_blob
        if self.blob is not None:
            frame["blob"] = self.blob
        frame_id = self.id or first.id
        for key, value in (("id", frame_id), ("context_id", self.context_id or first.context_id),
                           ("timestamp", self.timestamp if self.timestamp is not None else first.timestamp)):
            if value is not None:
                frame[key] = value
        return frame


def _without_sources(roi: dict) -> dict:
    return {k: v for k, v in roi.items() if k != "sources"}


def frame_from_api(frame: dict, version_id: str | None = None) -> SingleFrame | FrameGroup:
    """A stored frame as a SingleFrame (one source, named ``default``) or a FrameGroup. Every field is kept:
    written back unchanged, the frame is stored unchanged. ``version_id``: the version it was read from (the
    server gives links to its files there)."""
    read = _read_frame(frame)
    if version_id is not None and isinstance(frame.get("id"), str):
        box: dict = {}  # the members of a group share one request for the frame's links
        for single in (read.values() if isinstance(read, FrameGroup) else [read]):
            single._origin, single._links = (str(version_id), frame["id"]), box
    return read


def _read_frame(frame: dict) -> SingleFrame | FrameGroup:
    sources = frame.get("sources") or []
    rois = frame.get("rois") or []
    if len(sources) == 1 and sources[0].get("id") == DEFAULT_SOURCE:
        single = SingleFrame._from_source(frame, sources[0], rois, frame.get("meta"))
        single.meta_blob = dict(frame.get("meta_blob") or {})
        single.blob = frame.get("blob")
        single.saved_in_version = frame.get("saved_in_version")
        return single
    names = [source["id"] for source in sources]
    meta = frame.get("meta") or {}
    sub_meta = {name for name in names if isinstance(meta.get(name), dict)}
    group = FrameGroup(id=frame.get("id"), metadata={k: v for k, v in meta.items() if k not in sub_meta},
                       context_id=frame.get("context_id"), timestamp=frame.get("timestamp"),
                       meta_blob=frame.get("meta_blob"), blob=frame.get("blob"))
    group._sub_meta = sub_meta
    # A frame the server could not decode comes with its id and the reason, and nothing else.
    group.unreadable = frame.get("unreadable")
    group.saved_in_version = frame.get("saved_in_version")
    own: dict[str, list[dict]] = {name: [] for name in names}
    for roi in rois:
        on = roi.get("sources") or names
        marked = isinstance(roi.get("meta"), dict) and roi["meta"].get(GLOBAL_MARK) is True
        if on == names and (marked or len(names) > 1):
            group.global_annotations.append(_without_sources(roi))
        elif len(on) == 1 and on[0] in own:
            own[on[0]].append(_without_sources(roi))
        else:
            group.shared_annotations.append(dict(roi))
    for source in sources:
        name = source["id"]
        group[name] = SingleFrame._from_source(frame, source, own[name], meta[name] if name in sub_meta else {})
    group._roi_order = {roi["id"]: index for index, roi in enumerate(rois) if isinstance(roi.get("id"), str)}
    return group


def frame_to_api(frame: SingleFrame | FrameGroup | dict) -> dict:
    if isinstance(frame, SingleFrame | FrameGroup):
        return frame.to_api()
    if isinstance(frame, dict):
        return frame
    raise ValueError(f"expected a SingleFrame, FrameGroup or frame dict, got {type(frame).__name__}")
