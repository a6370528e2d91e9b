"""Frame documents: validation, normalisation and the derived columns of a stored frame.

Runs once per frame on the bulk path: ``msgspec`` converts the input into typed structs (types, bounds,
unknown fields, in compiled code), plain Python adds the rules between fields, and the struct is encoded
straight to the stored JSON. No serializer per frame.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Annotated, Any

import msgspec
import orjson
from msgspec import UNSET, Meta, UnsetType

from annotations.rois import MAX_ROIS, Roi, RoiError, roi_clean, roi_labels

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
MAX_META_DEPTH = 32  # objects in a frame's searchable meta
# Returned with every frame and ignored on the way back in, so a fetched frame can be written again.
READ_ONLY_KEYS = frozenset({"saved", "saved_in_version"})
DEFAULT_SOURCE_ID = "default"
# Numbers in free-form JSON (meta, meta_blob, source and ROI meta): IEEE doubles, or integers within this
# bound, which every JSON reader of the stack (orjson, msgspec, PostgreSQL jsonb, SQLite json) keeps exact.
MAX_JSON_INTEGER = 2**63 - 1
# Only an integer of 19 or more digits can be out of bounds: a run of 19 digits in the encoded document
# (rare, and also in strings) sends it through the exact walk. Found by mapping every ASCII digit to "0"
# and searching for 19 of them: 0.5 us a frame, where the regular expression \d{19} took 4.7 (a fifth of
# the checks of a frame, since documents are full of shorter digit runs).
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= c <= 0x39 else c for c in range(256))
_LONG_DIGIT_RUN = b"0" * 19
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


Id = Annotated[str, Meta(min_length=1, max_length=MAX_ID_LENGTH)]
Uri = Annotated[str, Meta(min_length=1, max_length=MAX_URI_LENGTH)]
ContentType = Annotated[str, Meta(min_length=1, max_length=255)]
Dimension = Annotated[int, Meta(ge=0, le=MAX_DIMENSION)]
Timestamp = Annotated[int, Meta(ge=0, le=MAX_TIMESTAMP)]
JsonObject = dict[str, Any]  # checked as JSON, and for size, when the document is encoded


class FileRef(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A file reference: a preview, and the base of sources and masks."""

    uri: Uri
    content_type: ContentType | None = None
    width: Dimension | None = None
    height: Dimension | None = None
    timestamp: Timestamp | None = None


class Mask(FileRef, kw_only=True):
    id: Id | None = None


class Source(FileRef, kw_only=True):
    id: Id | None = None
    meta: JsonObject | None = None
    preview: FileRef | None | UnsetType = UNSET
    masks: Annotated[list[Mask], Meta(max_length=MAX_MASKS)] | None = None


class FrameDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A frame (single frame or frame group). ``msgspec`` checks every field's type and bounds and refuses
    unknown fields while converting the input; ``frame_clean`` adds the rules between fields and the
    defaults. Encoded with sorted keys, so equal content gives equal bytes."""

    id: Id | None = None
    sources: Annotated[list[Source], Meta(max_length=MAX_SOURCES)]
    rois: Annotated[list[Roi], Meta(max_length=MAX_ROIS)] | None = None
    meta: JsonObject | None = None
    meta_blob: JsonObject | None = None
    # Free text kept with the frame as it is (ClearML's frame ``blob``); absent unless given.
    blob: Annotated[str, Meta(max_length=MAX_META_BLOB_BYTES)] | None | UnsetType = UNSET
    context_id: Annotated[str, Meta(max_length=MAX_URI_LENGTH)] | None = None
    timestamp: Timestamp | None = None
    # Returned with every frame and ignored on the way back in, so a fetched frame can be written again.
    saved: Any = UNSET
    saved_in_version: Any = UNSET


_ENCODER = msgspec.json.Encoder(order="sorted")


def _validation_error(exc: msgspec.ValidationError) -> FrameError:
    """msgspec's message ("Expected `int` >= 0 - at `$.sources[0].width`") as a field and a reason."""
    message = str(exc)
    reason, _, where = message.partition(" - at `")
    path = where.rstrip("`")
    if "` in `" in path:  # a bad key of an object: "key` in `$.meta"
        path = path.rsplit("` in `", 1)[1]
        reason += " (an object key)"
    field = path.removeprefix("$").removeprefix(".")
    named = re.match(r"Object (?:missing required|contains unknown) field `(.+)`$", reason)
    if named:
        field = f"{field}.{named.group(1)}" if field else named.group(1)
        reason = "is required" if "missing" in reason else "unknown field"
    elif reason.startswith("Expected `object`, got") and not field:
        reason = "must be an object"
    return FrameError(field, reason)


def _file_ref(ref: FileRef, field: str) -> None:
    """Normalise a file reference in place. ``field`` names it in errors."""
    if not ref.uri.startswith(URI_SCHEMES):
        ref.uri = normalise_uri(ref.uri, f"{field}.uri")
    if ref.content_type is None:
        ref.content_type = mimetypes.guess_type(ref.uri.split("?", 1)[0])[0]
    if ref.timestamp is None:
        ref.timestamp = 0


def _source(source: Source, index: int) -> None:
    if source.id is None:
        if index:
            raise FrameError(f"sources[{index}].id", "is required on every source but the first")
        source.id = DEFAULT_SOURCE_ID
    _file_ref(source, f"sources[{index}]")
    if source.meta is None:
        source.meta = {}
    preview = source.preview
    if preview is None:
        source.preview = UNSET
    elif preview is not UNSET:
        _file_ref(preview, f"sources[{index}].preview")
    masks = source.masks
    if masks is None:
        source.masks = []
        return
    seen = set()
    for m_index, mask in enumerate(masks):
        _file_ref(mask, f"sources[{index}].masks[{m_index}]")
        if mask.id is None:
            mask.id = f"{m_index:02d}"
        if mask.id in seen:
            raise FrameError(f"sources[{index}].masks[{m_index}].id", "must be unique within the source")
        seen.add(mask.id)


# Value types whose JSON type needs no look inside: a meta holding only these can be answered from the cache.
_FLAT_VALUE_TYPES = frozenset({bool, int, float, str, list, tuple, type(None)})
_flat_meta_types: dict[tuple, dict[str, str]] = {}


def meta_types(meta: dict[str, Any], prefix: str = "", depth: int = 1) -> dict[str, str]:
    """The JSON type of every key path in ``meta`` (nulls say nothing). Frames of a dataset mostly share
    their meta's keys and types, so a flat meta's answer is remembered by its keys and value types."""
    if depth > MAX_META_DEPTH:
        raise FrameError(f"meta.{prefix[:-1]}", f"objects must not nest more than {MAX_META_DEPTH} levels deep")
    if not prefix:
        key = (*meta, *map(type, meta.values()))
        known = _flat_meta_types.get(key)
        if known is not None:
            return known
    types: dict[str, str] = {}
    flat = True
    for key_name, value in meta.items():
        path = f"{prefix}{key_name}"
        if value is None:
            continue
        if isinstance(value, bool):
            types[path] = "boolean"
        elif isinstance(value, int | float):
            types[path] = "number"
        elif isinstance(value, str):
            types[path] = "string"
        elif isinstance(value, list | tuple):
            types[path] = "array"
        elif isinstance(value, dict):
            flat = False
            types[path] = "object"
            types.update(meta_types(value, path + ".", depth + 1))
    if not prefix and flat and len(_flat_meta_types) < 4096 and _FLAT_VALUE_TYPES.issuperset(key[len(meta):]):
        _flat_meta_types[key] = types
    return types


def frame_id_from_uri(uri: str) -> str:
    """The id of a frame given without one: deterministic in its first source's URI."""
    return uuid.uuid5(uuid.NAMESPACE_URL, uri).hex


def frame_clean(frame: Any) -> CleanFrame:
    """Validate one frame (a single frame or a frame group; a dict, or a ``FrameDocument`` already decoded
    from JSON) and return its stored form."""
    if type(frame) is FrameDocument:
        doc = frame
    else:
        try:
            doc = msgspec.convert(frame, FrameDocument, strict=True)
        except msgspec.ValidationError as exc:
            raise _validation_error(exc) from None
        except RecursionError:
            raise FrameError("", "is nested too deeply") from None
    doc.saved = doc.saved_in_version = UNSET
    sources = doc.sources
    if not sources:
        raise FrameError("sources", "at least one source is required")
    for index, source in enumerate(sources):
        _source(source, index)
    source_ids = [s.id for s in sources]
    if len(source_ids) > 1 and len(set(source_ids)) != len(source_ids):
        raise FrameError("sources", "source ids must be unique within the frame")
    first = sources[0]
    if doc.id is None:
        doc.id = frame_id_from_uri(first.uri)
    if doc.context_id is None:
        doc.context_id = first.uri
    if doc.timestamp is None:
        doc.timestamp = first.timestamp
    rois = doc.rois
    if rois is None:
        rois = doc.rois = []
    elif rois:
        masks_by_source = {s.id: {m.id for m in s.masks} for s in sources if s.masks}
        for r_index, roi in enumerate(rois):
            try:
                roi_clean(roi, r_index, source_ids, masks_by_source)
            except RoiError as exc:
                raise FrameError(f"rois[{r_index}].{exc.field}".rstrip("."), exc.reason) from None
        if len(rois) > 1 and len({roi.id for roi in rois}) < len(rois):
            _refuse_repeated_roi_id(rois)
    meta = doc.meta
    if meta is None:
        meta = doc.meta = {}
    if doc.meta_blob is None:
        doc.meta_blob = {}
    if doc.blob is None:
        doc.blob = UNSET
    encoded = _encode(doc)
    content_types = [s.content_type or "unknown" for s in sources]
    return CleanFrame(doc.id, doc.context_id, doc.timestamp, encoded, _ENCODER.encode(meta), len(rois),
                      roi_labels(rois), content_types, meta_types(meta))


def _refuse_repeated_roi_id(rois: list[Roi]) -> None:
    """ROI ids are unique within a frame: the editor, the edit history and ROI-level diffs go by them."""
    first_at: dict[str, int] = {}
    for r_index, roi in enumerate(rois):
        if roi.id in first_at:
            raise FrameError(f"rois[{r_index}].id", f"{roi.id!r} is also the id of rois[{first_at[roi.id]}]; ROI "
                             "ids must be unique within a frame (a ROI given without one is roi-<index>)")
        first_at[roi.id] = r_index


def _sized_parts(doc: FrameDocument) -> list[tuple[str, Any, int]]:
    parts = [("meta", doc.meta, MAX_META_BYTES), ("meta_blob", doc.meta_blob, MAX_META_BLOB_BYTES)]
    for i, source in enumerate(doc.sources):
        parts.append((f"sources[{i}].meta", source.meta, MAX_META_BYTES))
    for i, roi in enumerate(doc.rois):
        parts.append((f"rois[{i}].meta", roi.meta, MAX_META_BYTES))
    return parts


def _check_numbers(value: Any, field: str) -> None:
    if type(value) is int and not -MAX_JSON_INTEGER <= value <= MAX_JSON_INTEGER:
        raise FrameError(field, "integers must lie within ±(2**63-1) (give larger numbers as floats or strings)")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_numbers(item, f"{field}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_numbers(item, f"{field}[{index}]")


def _encode(doc: FrameDocument) -> bytes:
    """The stored JSON (sorted keys, so equal content gives equal bytes), checking the size rules."""
    try:
        encoded = _ENCODER.encode(doc)
    except (TypeError, ValueError, RecursionError):  # not JSON, a string that is not Unicode, or too deep
        for field, value, _limit in _sized_parts(doc):
            try:
                _ENCODER.encode(value)
            except RecursionError:
                raise FrameError(field, "is nested too deeply") from None
            except (TypeError, ValueError) as exc:
                raise FrameError(field, f"must be JSON ({exc})") from None
        raise FrameError("", "must be JSON (strings must be valid Unicode)") from None
    if _LONG_DIGIT_RUN in encoded.translate(_DIGITS_AS_ZERO):
        for field, value, _limit in _sized_parts(doc):
            _check_numbers(value, field)
    # PostgreSQL text and jsonb cannot hold NUL. The substring test is fast; the regex (slow on every
    # document) only tells a real NUL from the escaped text "\\u0000".
    if b"\\u0000" in encoded and ENCODED_NUL.search(encoded):
        raise FrameError("", "strings must not contain NUL (\\u0000) characters")
    if len(encoded) > MAX_META_BYTES:  # only then can a part be over its limit
        for field, value, limit in _sized_parts(doc):
            if len(_ENCODER.encode(value)) > limit:
                raise FrameError(field, f"must be at most {limit} bytes as JSON")
        if len(encoded) > MAX_DOCUMENT_BYTES:
            raise FrameError("", f"a frame must be at most {MAX_DOCUMENT_BYTES} bytes as JSON")
    return encoded
