"""Datumaro's own JSON format both ways, checked with Datumaro: we import what Datumaro exports (every shape,
attributes, groups, z order, item attributes, subsets, image sizes), Datumaro imports our export of it with the
same annotations, and a bad file is refused with its JSON path."""

import json
from collections import Counter

import numpy as np
import pytest
from datumaro.components.annotation import (
    AnnotationType,
    Bbox,
    Ellipse,
    Label,
    LabelCategories,
    Mask,
    Points,
    Polygon,
    PolyLine,
)
from datumaro.components.dataset import Dataset as DatumaroDataset
from datumaro.components.dataset_base import DatasetItem
from datumaro.components.media import Image as DatumaroImage

from formats.bundle import Bundle
from formats.coco import FormatError
from formats.selectors import annotations_export
from formats.services import annotations_import
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.frames import frames_get
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from tests.formats.test_datumaro import _write, _zipped

pytestmark = pytest.mark.django_db
PREFIX = "s3://bucket/dm/images/"


def _built() -> DatumaroDataset:
    pixels = np.zeros((40, 60, 3), np.uint8)
    region = np.zeros((40, 60), np.uint8)
    region[3:17, 20:41] = 1
    items = [DatasetItem(id=f"im{i}", subset="train" if i < 2 else "val", media=DatumaroImage.from_numpy(pixels),
                         attributes={"time": "day" if i % 2 else "night"}, annotations=[
                             Bbox(1, 2, 10, 5, label=0, attributes={"occluded": True}, group=7, z_order=1),
                             Polygon([0, 0, 9, 0, 9, 9], label=1), Points([3, 4, 5, 6], [2, 1], label=1),
                             PolyLine([1, 1, 8, 8], label=2), Ellipse(10, 10, 20, 16, label=2), Label(0),
                             Mask(region, label=1)])
             for i in range(3)]
    return DatumaroDataset.from_iterable(items, categories={
        AnnotationType.label: LabelCategories.from_iterable(["car", "tree", "lane"])})


@pytest.fixture
def draft():
    return version_head(dataset_create(dataset_name="dm", dataset_project="formats"))


def _shapes(dataset) -> Counter:
    return Counter((a.type.name, a.label) for item in dataset for a in item.annotations)


def test_datumaro_both_ways(draft, tmp_path):
    original = _built()
    original.export(str(tmp_path / "theirs"), "datumaro", save_media=True)
    result = annotations_import(draft, format="datumaro", data=Bundle("dm.zip", _zipped(tmp_path / "theirs")),
                                images_prefix=PREFIX)
    assert (result.frames, result.annotations, result.categories) == (3, 21, 3)
    frame = frames_get(draft, ["train/im1"])["train/im1"]
    assert frame["sources"][0] == {**frame["sources"][0], "uri": PREFIX + "train/im1.jpg", "width": 60,
                                   "height": 40}
    assert frame["meta"]["datumaro"] == {"subset": "train", "id": "im1", "path": "im1.jpg", "attr": {"time": "day"}}
    box = frame["rois"][0]
    assert box["poly"] == [1, 2, 11, 2, 11, 7, 1, 7] and box["meta"] == {
        "_type": "b2d", "datumaro": {"group": 7, "z_order": 1, "attributes": {"occluded": True}}}
    assert [r["meta"].get("_type") for r in frame["rois"]] == ["b2d", "p2d", "k2d", "k2d", "elp", None, "mask"]
    assert frame["rois"][6]["mask"] == {"id": "datumaro-6", "value": [2, 0, 0]}
    assert frame["rois"][4]["poly"] == [15, 13, 5, 3, 0]

    exported = annotations_export(DatasetVersion.objects.get(pk=draft.pk), format="datumaro")
    assert exported.report == {} and (exported.images, exported.annotations) == (3, 21)
    _write(exported.files, tmp_path / "ours")
    again = DatumaroDataset.import_from(str(tmp_path / "ours"), "datumaro")
    assert sorted((item.subset, item.id) for item in again) == sorted((item.subset, item.id) for item in original)
    assert _shapes(again) == _shapes(original)
    ours = {(item.subset, item.id): item for item in again}
    theirs = {(item.subset, item.id): item for item in original}
    for key, item in theirs.items():
        assert ours[key].attributes == item.attributes
        for mine, their in zip(ours[key].annotations, item.annotations, strict=True):
            assert mine.type == their.type and mine.label == their.label and mine.attributes == their.attributes
            assert mine.group == their.group
            if hasattr(their, "points"):
                assert list(mine.points) == pytest.approx(list(their.points))
            if their.type.name == "mask":
                assert np.array_equal(mine.image, their.image)  # pixel-exact


@pytest.mark.parametrize("change, path", [
    (lambda d: d["items"][0].pop("id"), "$.items[0].id"),
    (lambda d: d["items"][0]["annotations"][0].update(label_id=9), "$.items[0].annotations[0].label_id"),
    (lambda d: d["items"][0]["annotations"][0].update(bbox=[1, 2]), "$.items[0].annotations[0].bbox"),
    (lambda d: d["items"][0]["annotations"][0].update(type="cuboid_3d"), "$.items[0].annotations[0].type"),
    (lambda d: d["items"][0]["image"].update(size=[1]), "$.items[0].image.size"),
    (lambda d: d.pop("items"), "$.items"),
])
def test_a_bad_file_is_refused_with_its_json_path(draft, tmp_path, change, path):
    _built().export(str(tmp_path), "datumaro")
    data = json.loads((tmp_path / "annotations" / "train.json").read_text())
    change(data)
    with pytest.raises(FormatError) as refused:
        annotations_import(draft, format="datumaro", data=Bundle("train.json", json.dumps(data).encode()),
                           images_prefix=PREFIX)
    assert refused.value.path == path, str(refused.value)
