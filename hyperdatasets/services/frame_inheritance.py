"""What a new version inherits: its ancestor list, its counters and, for several parents, corrections.

One parent (the common case, and snapshots): the child stores no frame rows; its ancestors are itself then
the parent's ancestors, and it starts with the parent's counters. O(1) in the number of frames.

Several parents: the child sees the union of its parents' frames and the earlier parent wins a frame id that
several hold. The ancestor list (parents' ancestors in parent order) gets that right except where a
tombstone or an older row of an earlier parent's line shadows what a parent really holds; those frame ids
get a row of their own in the child (a copy of the winning row, or a tombstone). Finding them reads the
parents' rows once, in frame-id order (streamed); only the differences are stored.
"""

from __future__ import annotations

import time

from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.frames import db_uuid, load_json, resolve_in, row_groups
from hyperdatasets.services.frame_rows import frame_rows_copy, tombstones_insert
from hyperdatasets.services.frame_stats import StatsDelta


def ancestors_for(version_id, parents: list[DatasetVersion]) -> list[str]:
    chain = [str(version_id)]
    seen = set(chain)
    for parent in parents:
        for ancestor in parent.ancestors or [str(parent.pk)]:
            if ancestor not in seen:
                seen.add(ancestor)
                chain.append(ancestor)
    return chain


def version_frames_inherit(child: DatasetVersion, parents: list[DatasetVersion]) -> None:
    """Set the new child's counters (and, with several parents, write its corrections)."""
    if not parents:
        return
    if len(parents) == 1:
        DatasetVersion.objects.filter(pk=child.pk).update(frame_count=parents[0].frame_count,
                                                          stats=parents[0].stats)
        child.frame_count, child.stats = parents[0].frame_count, parents[0].stats
        return
    parent_lines = [[db_uuid(a) for a in (p.ancestors or [str(p.pk)])] for p in parents]
    inherited = [db_uuid(a) for a in child.ancestors[1:]]
    delta = StatsDelta()
    copies, tombstones = [], []
    groups = row_groups(child.dataset_id, inherited, columns="e.roi_count, e.labels, e.content_types")
    for fid, group in groups:
        union = next((hit for hit in (resolve_in(group, line) for line in parent_lines) if hit), None)
        linear = resolve_in(group, inherited)
        if union is not None:
            _deleted, roi_count, labels, content_types = union[1]
            delta.count(roi_count, load_json(labels), load_json(content_types), +1)
        if (union and union[0]) != (linear and linear[0]):
            if union is None:
                tombstones.append(fid)
            else:
                copies.append((union[0], fid))
    frame_rows_copy(child.dataset_id, child.pk, copies)
    tombstones_insert(child.dataset_id, child.pk, tombstones, int(time.time() * 1000))
    delta.apply(child)
