"""Shared data of the dataview tests."""

import pytest

from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert


@pytest.fixture
def streets():
    """Day frames (ten times as many) and night frames, with ROIs of a few labels."""
    dataset = dataset_create(dataset_name="streets", dataset_project="dv")
    head = version_head(dataset)
    frames = []
    for i in range(60):
        night = i % 11 == 0
        frames.append({
            "id": f"s{i:03d}", "context_id": "drive", "timestamp": i,
            "sources": [{"id": "default", "uri": f"s3://b/{i}.jpg", "width": 64, "height": 48}],
            "meta": {"time": "night" if night else "day"},
            "rois": [{"label": ["car", "red"], "confidence": 0.9, "poly": [0, 0, 1, 0, 1, 1]},
                     {"label": ["person"], "confidence": 0.4, "poly": [0, 0, 2, 0, 2, 2]},
                     {"label": ["van"], "confidence": 0.95, "poly": [0, 0, 3, 0, 3, 3]}][: 1 + i % 3]})
    assert frames_upsert(head, frames).failures == []
    head.refresh_from_db()
    return dataset, head, frames
