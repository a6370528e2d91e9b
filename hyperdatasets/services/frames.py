"""Frame writes in a Draft version: add (upsert), update (merge) and delete, in bulk.

A batch is validated frame by frame: invalid frames are reported (index, id, field, reason) and left out;
every valid frame of the batch is then written in one transaction, so a batch is never half-written.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.frame_documents import READ_ONLY_KEYS, CleanFrame, FrameError, frame_clean
from hyperdatasets.models import DatasetMetaField, DatasetVersion
from hyperdatasets.selectors.frames import db_uuid, load_json, rows_for_ids
from hyperdatasets.services.frame_rows import frame_rows_delete, frame_rows_insert, tombstones_insert
from hyperdatasets.services.frame_stats import StatsDelta
from hyperdatasets.services.locks import dataset_touch
from hyperdatasets.services.versions import version_lock, version_refuse_if_published

MAX_FRAMES_PER_CALL = 50_000


@dataclass
class FrameFailure:
    index: int
    id: str | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.id, "field": self.field, "reason": self.reason}


@dataclass
class FrameWriteResult:
    saved: list[str] = field(default_factory=list)
    failures: list[FrameFailure] = field(default_factory=list)


@dataclass
class FrameDeleteResult:
    deleted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _check_size(items: Sequence[Any], field_name: str) -> None:
    if not isinstance(items, list | tuple):
        raise InvalidInput.for_field(field_name, "must be a list")
    if len(items) > MAX_FRAMES_PER_CALL:
        raise InvalidInput.for_field(field_name, f"at most {MAX_FRAMES_PER_CALL} per call")


def _frame_id_of(frame: Any) -> str | None:
    return frame.get("id") if isinstance(frame, dict) and isinstance(frame.get("id"), str) else None


def _lock_draft(version: DatasetVersion, action: str) -> DatasetVersion:
    current = version_lock(version)
    version_refuse_if_published(current, action)
    return current


def _meta_schema_filter(version: DatasetVersion, cleaned: dict[str, tuple[int, CleanFrame]],
                        failures: list[FrameFailure]) -> None:
    """Keep one JSON type per meta key path in the dataset; refuse frames that break it."""
    schema = dict(DatasetMetaField.objects.filter(dataset_id=version.dataset_id).values_list("path", "type"))
    new_fields: dict[str, str] = {}
    for fid in list(cleaned):
        index, frame = cleaned[fid]
        clash = next(((p, t) for p, t in frame.meta_types.items() if schema.get(p, t) != t), None)
        if clash is not None:
            path, got = clash
            failures.append(FrameFailure(index, fid, f"meta.{path}", f"is a {schema[path]} in this dataset, got {got}"))
            del cleaned[fid]
            continue
        for path, kind in frame.meta_types.items():
            if path not in schema:
                schema[path] = new_fields[path] = kind
    DatasetMetaField.objects.bulk_create(
        DatasetMetaField(dataset_id=version.dataset_id, path=p, type=t) for p, t in new_fields.items())


def _write_clean(version: DatasetVersion, cleaned: dict[str, tuple[int, CleanFrame]], result: FrameWriteResult,
                 action: str) -> FrameWriteResult:
    with transaction.atomic():
        current = _lock_draft(version, action)
        _meta_schema_filter(current, cleaned, result.failures)
        prior = rows_for_ids(current, cleaned)
        own = db_uuid(current.pk)
        delta = StatsDelta()
        own_rows = []
        for fid, rows in prior.items():
            if not rows[0].deleted:
                delta.count(rows[0].roi_count, rows[0].labels, rows[0].content_types, -1)
            if rows[0].version_id == own:
                own_rows.append(fid)
        frames = [frame for _index, frame in cleaned.values()]
        for frame in frames:
            delta.count(frame.roi_count, frame.labels, frame.content_types, +1)
        frame_rows_delete(current.pk, own_rows)
        frame_rows_insert(current.dataset_id, current.pk, frames, _now_ms())
        delta.apply(current)
        dataset_touch(current.dataset)
    result.saved = list(cleaned)
    result.failures.sort(key=lambda f: f.index)
    return result


def _clean_all(frames: Sequence[Any], result: FrameWriteResult) -> dict[str, tuple[int, CleanFrame]]:
    cleaned: dict[str, tuple[int, CleanFrame]] = {}
    for index, frame in enumerate(frames):
        try:
            clean = frame_clean(frame)
        except FrameError as exc:
            result.failures.append(FrameFailure(index, _frame_id_of(frame), exc.field, exc.reason))
            continue
        cleaned.pop(clean.frame_id, None)  # a later frame with the same id replaces the earlier one
        cleaned[clean.frame_id] = (index, clean)
    return cleaned


def frames_upsert(version: DatasetVersion, frames: Sequence[Any]) -> FrameWriteResult:
    """Add frames; an existing id in the version is replaced. Returns the saved ids and the failures."""
    _check_size(frames, "frames")
    result = FrameWriteResult()
    cleaned = _clean_all(frames, result)
    return _write_clean(version, cleaned, result, "add frames")


def _merged(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = {k: v for k, v in current.items() if k not in READ_ONLY_KEYS}
    for key, value in update.items():
        if key in ("meta", "meta_blob") and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def frames_update(version: DatasetVersion, updates: Sequence[Any]) -> FrameWriteResult:
    """Merge changes into existing frames: given fields replace the stored ones; ``meta`` and ``meta_blob``
    are merged key by key. Frames the version does not hold are reported as failures."""
    _check_size(updates, "frames")
    result = FrameWriteResult()
    ids = [_frame_id_of(u) for u in updates]
    stored = {}
    for fid, rows in rows_for_ids(version, [i for i in ids if i], with_documents=True).items():
        if not rows[0].deleted:
            stored[fid] = load_json(rows[0].document)
    merged: list[Any] = []
    positions: list[int] = []
    for index, (fid, update) in enumerate(zip(ids, updates, strict=True)):
        if fid is None:
            result.failures.append(FrameFailure(index, None, "id", "an update needs the id of the frame"))
        elif fid not in stored:
            result.failures.append(FrameFailure(index, fid, "id", f"frame does not exist in version {version.name!r}"))
        else:
            merged.append(_merged(stored[fid], update))
            positions.append(index)
    inner = FrameWriteResult()
    cleaned = _clean_all(merged, inner)
    result.failures += [FrameFailure(positions[f.index], f.id, f.field, f.reason) for f in inner.failures]
    cleaned = {fid: (positions[i], frame) for fid, (i, frame) in cleaned.items()}
    return _write_clean(version, cleaned, result, "update frames")


def frames_delete(version: DatasetVersion, frame_ids: Sequence[Any]) -> FrameDeleteResult:
    """Delete frames by id: own rows go, inherited frames get a tombstone; parents are never touched."""
    _check_size(frame_ids, "frame_ids")
    for fid in frame_ids:
        if not isinstance(fid, str) or not fid:
            raise InvalidInput.for_field("frame_ids", "must be a list of non-empty strings")
    result = FrameDeleteResult()
    with transaction.atomic():
        current = _lock_draft(version, "delete frames")
        own = db_uuid(current.pk)
        prior = rows_for_ids(current, frame_ids)
        delta = StatsDelta()
        own_rows, tombstones = [], []
        for fid in dict.fromkeys(frame_ids):
            rows = prior.get(fid)
            if not rows or rows[0].deleted:
                result.missing.append(fid)
                continue
            delta.count(rows[0].roi_count, rows[0].labels, rows[0].content_types, -1)
            result.deleted.append(fid)
            if rows[0].version_id == own:
                own_rows.append(fid)
            if any(row.version_id != own for row in rows):
                tombstones.append(fid)
        frame_rows_delete(current.pk, own_rows)
        tombstones_insert(current.dataset_id, current.pk, tombstones, _now_ms())
        delta.apply(current)
        dataset_touch(current.dataset)
    return result
