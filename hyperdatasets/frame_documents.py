"""Frame documents: validation, normalisation and the derived columns of a stored frame.

Runs once per frame on the bulk path, so it is plain Python over dicts (no serializer per frame).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import orjson

from annotations.rois import MAX_ROIS, RoiError, roi_clean, roi_labels

URI_SCHEMES = ("s3://", "gs://", "azure://", "https://", "http://", "file://")
MAX_ID_LENGTH = 255
MAX_URI_LENGTH = 1024
MAX_SOURCES = 64
MAX_MASKS = 64
MAX_DIMENSION = 1_000_000
MAX_TIMESTAMP = 2**53
MAX_META_BYTES = 64 * 1024
MAX_META_BLOB_BYTES = 1024 * 1024
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
_FRAME_KEYS = frozenset({"id", "sources", "rois", "meta", "meta_blob", "context_id", "timestamp"})
# Returned with every frame and ignored on the way back in, so a fetched frame can be written again.
READ_ONLY_KEYS = frozenset({"saved", "saved_in_version"})
_SOURCE_KEYS = frozenset({"id", "uri", "content_type", "width", "height", "timestamp", "meta", "preview", "masks"})
_PREVIEW_KEYS = frozenset({"uri", "content_type", "width", "height", "timestamp"})
_MASK_KEYS = frozenset({"id", "uri", "content_type", "width", "height", "timestamp"})
DEFAULT_SOURCE_ID = "default"
# A NUL character as JSON encodes it: \u0000 after an even number of backslashes (not the text "\\u0000").
ENCODED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class FrameError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(slots=True)
class CleanFrame:
    """A validated frame: its stored JSON and the columns derived from it. The document itself is not
    kept, so its objects are freed while still in cache rather than a whole batch at a time."""

    frame_id: str
    context_id: str
    timestamp: int
    document_json: bytes
    meta_json: bytes
    roi_count: int
    labels: list[str]  # once per ROI and label: the per-label ROI counts
    content_types: list[str]
    meta_types: dict[str, str]

    @property
    def document(self) -> dict[str, Any]:
        return orjson.loads(self.document_json)

    @property
    def content_hash(self) -> str:
        """Equal for equal frame content; the diff's notion of 'modified'."""
        return hashlib.blake2b(self.document_json, digest_size=16).hexdigest()


def normalise_uri(uri: Any, field: str) -> str:
    if not isinstance(uri, str) or not uri:
        raise FrameError(field, "must be a non-empty string")
    if len(uri) > MAX_URI_LENGTH:
        raise FrameError(field, f"must be at most {MAX_URI_LENGTH} characters")
    if uri.startswith(URI_SCHEMES):
        return uri
    if "://" in uri:
        raise FrameError(field, f"scheme must be one of {', '.join(s[:-3] for s in URI_SCHEMES)}")
    path = PurePosixPath(uri)
    if not path.is_absolute():
        raise FrameError(field, "a local path must be absolute (or give a file:// URI)")
    return "file://" + str(path)


def _int(value: Any, field: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise FrameError(field, f"must be an integer from {low} to {high}")
    return value


def _content_type(value: Any, uri: str, field: str) -> str | None:
    if value is None:
        guessed, _ = mimetypes.guess_type(uri.split("?", 1)[0])
        return guessed
    if not isinstance(value, str) or not value or len(value) > 255:
        raise FrameError(field, "must be a non-empty string of at most 255 characters")
    return value


def _object(value: Any, field: str) -> dict[str, Any]:
    """A JSON object field; its size is checked once the whole document is encoded."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FrameError(field, "must be an object")
    return value


def _unknown(obj: dict, allowed: frozenset, field: str) -> None:
    extra = obj.keys() - allowed
    if extra:
        raise FrameError(f"{field}{sorted(extra)[0]}", "unknown field")


def _file_ref(obj: Any, allowed: frozenset, field: str) -> dict[str, Any]:
    """A file reference (source, preview or mask). ``field`` names it in errors only."""
    if not isinstance(obj, dict):
        raise FrameError(field, "must be an object")
    if not obj.keys() <= allowed:
        _unknown(obj, allowed, field + ".")
    uri = obj.get("uri")
    if not (type(uri) is str and uri.startswith(URI_SCHEMES) and len(uri) <= MAX_URI_LENGTH):
        uri = normalise_uri(uri, f"{field}.uri")
    content_type = obj.get("content_type")
    if not (type(content_type) is str and 0 < len(content_type) <= 255):
        content_type = _content_type(content_type, uri, f"{field}.content_type")
    ref = {"uri": uri, "content_type": content_type, "width": None, "height": None, "timestamp": 0}
    for key, high in (("width", MAX_DIMENSION), ("height", MAX_DIMENSION), ("timestamp", MAX_TIMESTAMP)):
        value = obj.get(key)
        if value is not None:
            if type(value) is not int or not 0 <= value <= high:
                raise FrameError(f"{field}.{key}", f"must be an integer from 0 to {high}")
            ref[key] = value
    return ref


def _source(obj: Any, index: int) -> dict[str, Any]:
    field = f"sources[{index}]"
    if not isinstance(obj, dict):
        raise FrameError(field, "must be an object")
    source_id = obj.get("id", DEFAULT_SOURCE_ID if index == 0 else None)
    if not isinstance(source_id, str) or not source_id or len(source_id) > MAX_ID_LENGTH:
        raise FrameError(f"{field}.id", f"must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    source = {"id": source_id, **_file_ref(obj, _SOURCE_KEYS, field)}
    meta = obj.get("meta")
    source["meta"] = {} if meta is None else _object(meta, field + ".meta")
    preview = obj.get("preview")
    if preview is not None:
        source["preview"] = _file_ref(preview, _PREVIEW_KEYS, f"{field}.preview")
    masks = obj.get("masks")
    if masks is None:
        source["masks"] = []
        return source
    if not isinstance(masks, list) or len(masks) > MAX_MASKS:
        raise FrameError(f"{field}.masks", f"must be a list of at most {MAX_MASKS} masks")
    cleaned_masks, seen = [], set()
    for m_index, mask in enumerate(masks):
        m_field = f"{field}.masks[{m_index}]"
        ref = _file_ref(mask, _MASK_KEYS, m_field)
        mask_id = mask.get("id")
        mask_id = f"{m_index:02d}" if mask_id is None else mask_id
        if not isinstance(mask_id, str) or not mask_id or len(mask_id) > MAX_ID_LENGTH or mask_id in seen:
            raise FrameError(f"{m_field}.id", "must be a unique non-empty string")
        seen.add(mask_id)
        cleaned_masks.append({"id": mask_id, **ref})
    source["masks"] = cleaned_masks
    return source


def meta_types(meta: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """The JSON type of every key path in ``meta`` (nulls say nothing)."""
    types: dict[str, str] = {}
    for key, value in meta.items():
        path = f"{prefix}{key}"
        if value is None:
            continue
        if isinstance(value, bool):
            types[path] = "boolean"
        elif isinstance(value, int | float):
            types[path] = "number"
        elif isinstance(value, str):
            types[path] = "string"
        elif isinstance(value, list):
            types[path] = "array"
        elif isinstance(value, dict):
            types[path] = "object"
            types.update(meta_types(value, path + "."))
    return types


def frame_id_from_uri(uri: str) -> str:
    """The id of a frame given without one: deterministic in its first source's URI."""
    return uuid.uuid5(uuid.NAMESPACE_URL, uri).hex


def frame_clean(frame: Any) -> CleanFrame:
    """Validate one frame (a single frame or a frame group) and return its stored form."""
    if not isinstance(frame, dict):
        raise FrameError("", "must be an object")
    _unknown(frame, _FRAME_KEYS | READ_ONLY_KEYS, "")
    sources_in = frame.get("sources")
    if not isinstance(sources_in, list) or not sources_in:
        raise FrameError("sources", "at least one source is required")
    if len(sources_in) > MAX_SOURCES:
        raise FrameError("sources", f"at most {MAX_SOURCES} sources")
    sources = [_source(s, i) for i, s in enumerate(sources_in)]
    source_ids = [s["id"] for s in sources]
    if len(set(source_ids)) != len(source_ids):
        raise FrameError("sources", "source ids must be unique within the frame")
    first_uri = sources[0]["uri"]
    frame_id = frame.get("id")
    if frame_id is None:
        frame_id = frame_id_from_uri(first_uri)
    elif not isinstance(frame_id, str) or not frame_id or len(frame_id) > MAX_ID_LENGTH:
        raise FrameError("id", f"must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    context_id = frame.get("context_id")
    if context_id is None:
        context_id = first_uri
    elif not isinstance(context_id, str) or len(context_id) > MAX_URI_LENGTH:
        raise FrameError("context_id", f"must be a string of at most {MAX_URI_LENGTH} characters")
    timestamp = frame.get("timestamp")
    timestamp = sources[0]["timestamp"] if timestamp is None else _int(timestamp, "timestamp", 0, MAX_TIMESTAMP)
    rois_in = frame.get("rois")
    rois_in = [] if rois_in is None else rois_in
    if not isinstance(rois_in, list) or len(rois_in) > MAX_ROIS:
        raise FrameError("rois", f"must be a list of at most {MAX_ROIS} ROIs")
    masks_by_source = {s["id"]: {m["id"] for m in s["masks"]} for s in sources}
    rois = []
    for r_index, roi in enumerate(rois_in):
        try:
            rois.append(roi_clean(roi, r_index, source_ids, masks_by_source))
        except RoiError as exc:
            raise FrameError(f"rois[{r_index}].{exc.field}".rstrip("."), exc.reason) from None
    meta = _object(frame.get("meta"), "meta")
    document = {
        "id": frame_id, "context_id": context_id, "timestamp": timestamp, "sources": sources, "rois": rois,
        "meta": meta, "meta_blob": _object(frame.get("meta_blob"), "meta_blob"),
    }
    encoded = _encode(document)
    content_types = [s["content_type"] or "unknown" for s in sources]
    return CleanFrame(frame_id, context_id, timestamp, encoded, orjson.dumps(meta), len(rois), roi_labels(rois),
                      content_types, meta_types(meta))


def _sized_parts(document: dict[str, Any]) -> list[tuple[str, Any, int]]:
    parts = [("meta", document["meta"], MAX_META_BYTES), ("meta_blob", document["meta_blob"], MAX_META_BLOB_BYTES)]
    for i, source in enumerate(document["sources"]):
        parts.append((f"sources[{i}].meta", source["meta"], MAX_META_BYTES))
    for i, roi in enumerate(document["rois"]):
        parts.append((f"rois[{i}].meta", roi["meta"], MAX_META_BYTES))
    return parts


def _encode(document: dict[str, Any]) -> bytes:
    """The stored JSON (sorted keys, so equal content gives equal bytes), checking the size rules."""
    try:
        encoded = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        for field, value, _limit in _sized_parts(document):
            try:
                orjson.dumps(value)
            except TypeError as exc:
                raise FrameError(field, f"must be JSON ({exc})") from None
        raise FrameError("", "must be JSON") from None
    # PostgreSQL text and jsonb cannot hold NUL. The substring test is fast; the regex (slow on every
    # document) only tells a real NUL from the escaped text "\\u0000".
    if b"\\u0000" in encoded and ENCODED_NUL.search(encoded):
        raise FrameError("", "strings must not contain NUL (\\u0000) characters")
    if len(encoded) > MAX_META_BYTES:  # only then can a part be over its limit
        for field, value, limit in _sized_parts(document):
            if len(orjson.dumps(value)) > limit:
                raise FrameError(field, f"must be at most {limit} bytes as JSON")
        if len(encoded) > MAX_DOCUMENT_BYTES:
            raise FrameError("", f"a frame must be at most {MAX_DOCUMENT_BYTES} bytes as JSON")
    return encoded
