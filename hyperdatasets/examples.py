"""The example datasets: small, real images drawn here, with every kind of annotation and a version tree.

``load_examples`` stores the images in the media storage (through ``upload_store``) and writes everything
through the services. Running it again changes nothing.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

from django.db import transaction
from PIL import Image, ImageDraw

from hyperdatasets.models import Dataset
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.snapshots import snapshot_create
from hyperdatasets.services.uploads import upload_store
from hyperdatasets.services.versions import version_create, version_mask_labels_set, version_publish

PROJECT = "Examples"
STREET = "Street scenes (example)"
STEREO = "Stereo rig (example)"
WIDTH, HEIGHT = 320, 240
MASK_LABELS = {(0, 0, 0): ["background"], (1, 1, 1): ["road"], (2, 2, 2): ["car"], (3, 3, 3): ["person"]}
MASK_COLOURS = {(1, 1, 1): (90, 90, 90), (2, 2, 2): (200, 40, 40), (3, 3, 3): (40, 160, 60)}


@dataclass
class Scene:
    """One synthetic street image: a road, a car (box), a person (keypoints), a sign (ellipse), a lane
    (two-part polygon), drawn the same way into the image and into its mask."""

    seed: int

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        self.car = (rng.randint(20, 160), rng.randint(120, 150), rng.randint(70, 110), rng.randint(40, 60))
        self.person = (rng.randint(200, 280), rng.randint(90, 120))
        self.sign = (rng.randint(40, 280), rng.randint(30, 60), rng.randint(10, 18), rng.randint(10, 18))
        self.sky = (rng.randint(120, 170), rng.randint(170, 210), 235)
        self.night = self.seed % 3 == 0

    def person_points(self) -> list[float]:
        x, y = self.person
        return [x, y, x, y + 25, x - 10, y + 50, x + 10, y + 50, x - 12, y + 15, x + 12, y + 15]

    def lane(self) -> list[list[float]]:
        return [[150, 240, 158, 240, 162, 200, 154, 200], [165, 190, 171, 190, 174, 160, 168, 160]]

    def image(self) -> bytes:
        picture = Image.new("RGB", (WIDTH, HEIGHT), (30, 30, 60) if self.night else self.sky)
        draw = ImageDraw.Draw(picture)
        self._draw(draw, MASK_COLOURS)
        sx, sy, rx, ry = self.sign
        draw.ellipse([sx - rx, sy - ry, sx + rx, sy + ry], fill=(240, 200, 0))
        for part in self.lane():
            draw.polygon(part, fill=(250, 250, 250))
        return _png(picture)

    def mask(self) -> bytes:
        picture = Image.new("RGB", (WIDTH, HEIGHT), (0, 0, 0))
        self._draw(ImageDraw.Draw(picture), {value: value for value in MASK_COLOURS})
        return _png(picture)

    def _draw(self, draw: ImageDraw.ImageDraw, colours: dict) -> None:
        draw.rectangle([0, 150, WIDTH, HEIGHT], fill=colours[(1, 1, 1)])
        x, y, w, h = self.car
        draw.rectangle([x, y, x + w, y + h], fill=colours[(2, 2, 2)])
        points = self.person_points()
        draw.line(points[:4], fill=colours[(3, 3, 3)], width=5)
        draw.line(points[2:6], fill=colours[(3, 3, 3)], width=5)
        draw.line(points[2:4] + points[6:8], fill=colours[(3, 3, 3)], width=5)
        draw.ellipse([points[0] - 6, points[1] - 12, points[0] + 6, points[1]], fill=colours[(3, 3, 3)])


def _png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _store(dataset: Dataset, kind: str, name: str, data: bytes) -> str:
    return upload_store(dataset, kind=kind, filename=name, fileobj=io.BytesIO(data), size=len(data),
                        content_type="image/png", path=name).uri


def _street_frame(dataset: Dataset, index: int) -> dict:
    scene = Scene(index)
    image_uri = _store(dataset, "source", f"street/{index:03d}.png", scene.image())
    mask_uri = _store(dataset, "mask", f"street/{index:03d}-mask.png", scene.mask())
    x, y, w, h = scene.car
    sx, sy, rx, ry = scene.sign
    lane = scene.lane()
    return {
        "id": f"street-{index:03d}",
        "context_id": "drive-01",
        "timestamp": index * 100,
        "sources": [{"id": "default", "uri": image_uri, "content_type": "image/png", "width": WIDTH,
                     "height": HEIGHT, "masks": [{"id": "00", "uri": mask_uri, "content_type": "image/png",
                                                  "width": WIDTH, "height": HEIGHT}]}],
        "rois": [
            {"label": ["car"], "poly": [x, y, x + w, y, x + w, y + h, x, y + h], "confidence": 0.97,
             "meta": {"_type": "b2d"}},
            {"label": ["person"], "poly": scene.person_points(), "meta": {"_type": "k2d"}},
            {"label": ["sign"], "poly": [sx, sy, rx, ry, 0.0], "meta": {"_type": "elp"}},
            {"label": ["lane marking"], "poly": lane[0] + [-999999999] + lane[1], "meta": {"_type": "p2d"}},
            {"label": ["car"], "mask": {"id": "00", "value": [2, 2, 2]}, "meta": {"_type": "mask"}},
            {"label": ["night" if scene.night else "day"]},
        ],
        "meta": {"weather": "clear" if index % 2 else "cloudy", "frame": index, "night": scene.night},
    }


def _stereo_frame(dataset: Dataset, index: int) -> dict:
    left, right = Scene(100 + index), Scene(100 + index)
    right.car = (left.car[0] - 12, *left.car[1:])
    sources, rois = [], []
    for camera, scene in (("left", left), ("right", right)):
        uri = _store(dataset, "source", f"stereo/{index:03d}-{camera}.png", scene.image())
        sources.append({"id": camera, "uri": uri, "content_type": "image/png", "width": WIDTH, "height": HEIGHT,
                        "meta": {"camera": camera, "baseline_mm": 120}})
        x, y, w, h = scene.car
        rois.append({"label": ["car"], "sources": [camera], "poly": [x, y, x + w, y, x + w, y + h, x, y + h],
                     "meta": {"_type": "b2d"}})
    rois.append({"label": ["synchronised"], "sources": ["left", "right"]})
    return {"id": f"stereo-{index:03d}", "context_id": "rig-01", "timestamp": index * 33, "sources": sources,
            "rois": rois, "meta": {"exposure_ms": round(8 + 2 * math.sin(index), 2)}}


def _write(version, frames: list[dict]) -> None:
    result = frames_upsert(version, frames)
    if result.failures:
        raise RuntimeError(f"example frames refused: {[f.as_dict() for f in result.failures]}")


def load_street(user=None) -> Dataset:
    """Snapshots v1 and v2 on the main line, and a Published branch from v1 that relabels."""
    dataset = dataset_create(dataset_name=STREET, dataset_project=PROJECT, is_example=True, user=user,
                             tags=["example", "street", "masks"],
                             description="Synthetic street scenes with boxes, polygons, keypoints, ellipses, "
                                         "masks and frame labels.")
    current = version_head(dataset)
    _write(current, [_street_frame(dataset, i) for i in range(8)])
    version_mask_labels_set(current, MASK_LABELS)
    current = snapshot_create(dataset, publish_name="v1", child_comment="more frames")
    version_mask_labels_set(current, MASK_LABELS)
    _write(current, [_street_frame(dataset, i) for i in range(8, 12)])
    current = snapshot_create(dataset, publish_name="v2", child_comment="work in progress")
    version_mask_labels_set(current, MASK_LABELS)
    branch = version_create(dataset, version_name="relabel-signs", parent_version_names=["v1"], user=user,
                            comment="signs relabelled as traffic signs")
    relabelled = [_street_frame(dataset, i) for i in range(0, 8, 2)]
    for frame in relabelled:
        frame["rois"][2]["label"] = ["traffic sign"]
    _write(branch, relabelled)
    version_mask_labels_set(branch, MASK_LABELS)
    version_publish(branch)
    return dataset


def load_stereo(user=None) -> Dataset:
    dataset = dataset_create(dataset_name=STEREO, dataset_project=PROJECT, is_example=True, user=user,
                             tags=["example", "frame groups"],
                             description="Frame groups from a two-camera rig: one frame per instant, a source "
                                         "per camera.")
    _write(version_head(dataset), [_stereo_frame(dataset, i) for i in range(6)])
    snapshot_create(dataset, publish_name="v1")
    return dataset


def load_examples(user=None) -> list[str]:
    """Create the example datasets that do not exist yet; returns the names created."""
    created = []
    for name, loader in ((STREET, load_street), (STEREO, load_stereo)):
        if Dataset.objects.filter(name=name, project__name=PROJECT).exists():
            continue
        with transaction.atomic():
            loader(user)
        created.append(name)
    return created
