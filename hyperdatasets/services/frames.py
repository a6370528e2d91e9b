"""Frame writes in a Draft version: add (upsert), update (merge) and delete, in bulk.

A batch is validated frame by frame: invalid frames are reported (index, id, field, reason) and left out;
every valid frame of the batch is then written in one transaction, so a batch is never half-written.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.frame_documents import (
    READ_ONLY_KEYS,
    CleanFrame,
    FrameDocument,
    FrameError,
    frame_clean,
    frame_id_from_uri,
    normalise_uri,
)
from hyperdatasets.models import DatasetMetaField, DatasetVersion
from hyperdatasets.selectors.frames import check_frame_ids, db_uuid, frame_output, rows_for_ids
from hyperdatasets.services.frame_rows import (
    frame_labels_replace,
    frame_rows_delete,
    frame_rows_drop_replaced,
    frame_rows_stream,
    tombstones_insert,
)
from hyperdatasets.services.frame_stats import StatsDelta
from hyperdatasets.services.locks import dataset_touch
from hyperdatasets.services.table_statistics import frame_tables_analyze_soon
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
    if type(frame) is FrameDocument:
        return frame.id
    return frame.get("id") if isinstance(frame, dict) and isinstance(frame.get("id"), str) else None


def _lock_draft(version: DatasetVersion, action: str) -> DatasetVersion:
    current = version_lock(version)
    version_refuse_if_published(current, action)
    return current


class _MetaSchema:
    """One JSON type per meta key path in a dataset; new paths are recorded when the write commits."""

    def __init__(self, dataset_id) -> None:
        self.dataset_id = dataset_id
        self.types = dict(DatasetMetaField.objects.filter(dataset_id=dataset_id).values_list("path", "type"))
        self.new: dict[str, str] = {}

    def clash(self, frame: CleanFrame) -> FrameFailure | None:
        for path, kind in frame.meta_types.items():
            known = self.types.get(path, kind)
            if known != kind:
                return FrameFailure(-1, frame.frame_id, f"meta.{path}", f"is a {known} in this dataset, got {kind}")
        for path, kind in frame.meta_types.items():
            if path not in self.types:
                self.types[path] = self.new[path] = kind
        return None

    def save(self) -> None:
        DatasetMetaField.objects.bulk_create(
            DatasetMetaField(dataset_id=self.dataset_id, path=p, type=t) for p, t in self.new.items())


def _frame_id_hint(frame: Any) -> str | None:
    """The id a frame will have, without validating it (to read the rows it replaces up front)."""
    if type(frame) is FrameDocument:
        frame_id, sources = frame.id, frame.sources
        uri = sources[0].uri if sources else None
    elif isinstance(frame, dict):
        frame_id, sources = frame.get("id"), frame.get("sources")
        first = sources[0] if isinstance(sources, list) and sources else None
        uri = first.get("uri") if isinstance(first, dict) else None
    else:
        return None
    if isinstance(frame_id, str):
        return frame_id
    try:
        return frame_id_from_uri(normalise_uri(uri, "uri")) if uri is not None else None
    except FrameError:
        return None


def _write(version: DatasetVersion, frames: Sequence[Any], positions: Sequence[int], result: FrameWriteResult,
           action: str) -> FrameWriteResult:
    """Validate and write frames in one transaction: each valid frame is streamed to the database as soon as
    it is checked; invalid ones are reported. ``positions`` maps each frame to its index in the caller's list."""
    with transaction.atomic():
        current = _lock_draft(version, action)
        schema = _MetaSchema(current.dataset_id)
        prior = rows_for_ids(current, [h for h in map(_frame_id_hint, frames) if h])
        own = db_uuid(current.pk)

        def valid_frames():
            for position, frame in zip(positions, frames, strict=True):
                try:
                    clean = frame_clean(frame)
                except FrameError as exc:
                    result.failures.append(FrameFailure(position, _frame_id_of(frame), exc.field, exc.reason))
                    continue
                failure = schema.clash(clean)
                if failure is not None:
                    failure.index = position
                    result.failures.append(failure)
                    continue
                yield clean

        written = frame_rows_stream(current.dataset_id, current.pk, valid_frames(), _now_ms())
        latest = {frame.frame_id: frame for frame in written}  # a later frame with the same id wins
        replaced = [fid for fid in latest if fid in prior and prior[fid][0].version_id == own]
        if len(latest) < len(written):  # an id given twice in the batch: its earlier rows go too
            replaced += [fid for fid, n in Counter(f.frame_id for f in written).items()
                         if n > 1 and fid not in replaced]
        frame_rows_drop_replaced(current.dataset_id, current.pk, replaced)
        latest_frames = list(latest.values())
        frame_labels_replace(current.dataset_id, current.pk, latest_frames, replaced)
        schema.save()
        delta = StatsDelta()
        delta.count_all([rows[0] for fid in latest if (rows := prior.get(fid)) and not rows[0].deleted], -1)
        delta.count_all(latest_frames, +1)
        delta.apply(current)
        dataset_touch(current.dataset)
        frame_tables_analyze_soon(len(written))
    result.saved = list(latest)
    result.failures.sort(key=lambda f: f.index)
    return result


def frames_upsert(version: DatasetVersion, frames: Sequence[Any]) -> FrameWriteResult:
    """Add frames; an existing id in the version is replaced. Returns the saved ids and the failures."""
    _check_size(frames, "frames")
    return _write(version, frames, range(len(frames)), FrameWriteResult(), "add frames")


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
    with transaction.atomic():
        current = _lock_draft(version, "update frames")  # read and write the same state
        stored = {}
        for fid, rows in rows_for_ids(current, [i for i in ids if i], with_documents=True).items():
            if not rows[0].deleted:
                stored[fid] = frame_output(rows[0].document, 0, current.pk, fid)
        merged: list[Any] = []
        positions: list[int] = []
        for index, (fid, update) in enumerate(zip(ids, updates, strict=True)):
            if fid is None:
                result.failures.append(FrameFailure(index, None, "id", "an update needs the id of the frame"))
            elif fid not in stored:
                result.failures.append(
                    FrameFailure(index, fid, "id", f"frame does not exist in version {current.name!r}"))
            elif "unreadable" in stored[fid]:
                result.failures.append(FrameFailure(
                    index, fid, "id", f"{stored[fid]['unreadable']}: write the whole frame again to replace it"))
            else:
                merged.append(_merged(stored[fid], update))
                positions.append(index)
        return _write(current, merged, positions, result, "update frames")


def frames_delete(version: DatasetVersion, frame_ids: Sequence[Any]) -> FrameDeleteResult:
    """Delete frames by id: own rows go, inherited frames get a tombstone; parents are never touched."""
    check_frame_ids(frame_ids, MAX_FRAMES_PER_CALL)
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
        frame_rows_delete(current.dataset_id, current.pk, own_rows)
        tombstones_insert(current.dataset_id, current.pk, tombstones, _now_ms())
        delta.apply(current)
        dataset_touch(current.dataset)
    return result
