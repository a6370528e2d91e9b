"""Per-version counters (frames, annotated frames, ROIs per label, sources per content type), kept by writes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from django.db.models import F

from hyperdatasets.models import DatasetVersion


@dataclass
class StatsDelta:
    frames: int = 0
    annotated: int = 0
    labels: Counter = field(default_factory=Counter)
    content_types: Counter = field(default_factory=Counter)

    def count(self, roi_count: int, labels: list[str], content_types: list[str], sign: int) -> None:
        self.frames += sign
        if roi_count:
            self.annotated += sign
        for label in labels:
            self.labels[label] += sign
        for content_type in content_types:
            self.content_types[content_type] += sign

    def count_all(self, frames: Sequence[Any], sign: int) -> None:
        """``count`` for many frames or stored rows at once (their ``roi_count``, ``labels`` and
        ``content_types``): the label and type tallies are counted in C, not per frame."""
        self.frames += sign * len(frames)
        self.annotated += sign * sum(1 for f in frames if f.roi_count)
        labels = Counter(chain.from_iterable(f.labels for f in frames))
        content_types = Counter(chain.from_iterable(f.content_types for f in frames))
        if sign > 0:
            self.labels.update(labels)
            self.content_types.update(content_types)
        else:
            self.labels.subtract(labels)
            self.content_types.subtract(content_types)

    def merged_into(self, stats: dict) -> dict:
        labels = Counter(stats.get("labels", {}))
        labels.update(self.labels)
        content_types = Counter(stats.get("content_types", {}))
        content_types.update(self.content_types)
        return {
            "annotated": stats.get("annotated", 0) + self.annotated,
            "labels": {k: v for k, v in labels.items() if v},
            "content_types": {k: v for k, v in content_types.items() if v},
        }

    def apply(self, version: DatasetVersion) -> None:
        """Add to the version's counters. The caller holds the dataset lock and has checked it is a Draft."""
        version.stats = self.merged_into(version.stats or {})
        DatasetVersion.objects.filter(pk=version.pk).update(
            frame_count=F("frame_count") + self.frames, stats=version.stats
        )
        version.frame_count += self.frames
