"""Datumaro (PyPI ``datumaro``), another tool's reader and writer, on our files: it imports each exported COCO and
YOLO folder and finds the same items, annotations per type and labels; and this project imports what Datumaro
exports from a dataset it built."""

import io
import zipfile
from collections import Counter

import numpy as np
import pytest
from datumaro.components.annotation import AnnotationType, Bbox, LabelCategories, Polygon
from datumaro.components.dataset import Dataset as DatumaroDataset
from datumaro.components.dataset_base import DatasetItem
from datumaro.components.media import Image as DatumaroImage
from PIL import Image

from formats.bundle import Bundle
from formats.selectors import annotations_export
from formats.services import annotations_import
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.frames import frames_get
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from tests.formats.test_coco import PREFIX, coco_file
from tests.formats.test_yolo import yolo_zip

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    return version_head(dataset_create(dataset_name="datumaro", dataset_project="formats"))


def _write(files: dict[str, bytes], folder) -> None:
    for name, content in files.items():
        target = folder / name
        if name.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _summary(dataset: DatumaroDataset) -> tuple[int, Counter, list[str]]:
    kinds = Counter(a.type.name for item in dataset for a in item.annotations)
    labels = [c.name for c in dataset.categories()[AnnotationType.label].items]
    return len(dataset), kinds, labels


def test_datumaro_reads_our_coco_export(draft, tmp_path):
    annotations_import(draft, format="coco", data=coco_file(), images_prefix=PREFIX)
    exported = annotations_export(DatasetVersion.objects.get(pk=draft.pk), format="coco")
    _write(exported.files, tmp_path)
    items, kinds, labels = _summary(DatumaroDataset.import_from(str(tmp_path), "coco_instances"))
    # Datumaro splits a COCO annotation into its shapes: each of the 6 images has a car box, a bicycle box
    # with its polygon (2 parts on odd images), and a person box (Datumaro reads no keypoints in instances).
    assert items == 6
    assert kinds == Counter({"bbox": 18, "polygon": 9})
    assert sorted(labels) == ["bicycle", "car", "person"]


def test_datumaro_reads_our_yolo_export(draft, tmp_path):
    annotations_import(draft, format="yolo", data=yolo_zip(labels={
        "labels/train/a.txt": "0 0.5 0.5 0.25 0.5\n1 0.2 0.3 0.1 0.1\n", "labels/val/b.txt": "1 0.25 0.75 0.5 0.5\n"}),
        images_prefix=PREFIX)
    exported = annotations_export(DatasetVersion.objects.get(pk=draft.pk), format="yolo")
    _write(exported.files, tmp_path)
    for name, size in (("images/train/a.jpg", (640, 480)), ("images/val/b.png", (200, 100)),
                       ("images/train/c.jpg", (32, 32))):  # the user's images, which the export refers to
        Image.new("RGB", size).save(tmp_path / name)
    dataset = DatumaroDataset.import_from(str(tmp_path), "yolo")
    items, kinds, labels = _summary(dataset)
    assert items == 3 and kinds == Counter({"bbox": 3}) and labels == ["person", "car"]
    boxes = {item.id: [(a.label, [round(v, 6) for v in a.get_bbox()]) for a in item.annotations] for item in dataset}
    assert boxes["a"] == [(0, [240.0, 120.0, 160.0, 240.0]), (1, [96.0, 120.0, 64.0, 48.0])]


def _datumaro_built() -> DatumaroDataset:
    pixels = np.zeros((40, 60, 3), np.uint8)
    items = [DatasetItem(id=f"img{i}", subset="train" if i < 2 else "val", media=DatumaroImage.from_numpy(pixels),
                         annotations=[Bbox(5, 6, 10 + i, 8, label=i % 2, id=10 * i + 1, group=10 * i + 1),
                                      Polygon([1, 1, 20, 1, 20, 15, 1, 15], label=1, id=10 * i + 2,
                                              group=10 * i + 2)])
             for i in range(4)]
    return DatumaroDataset.from_iterable(items, categories={AnnotationType.label: LabelCategories.from_iterable(
        ["dog", "cat"])})


def _zipped(folder) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return out.getvalue()


@pytest.mark.parametrize("datumaro_format, ours", [("coco_instances", "coco"), ("yolo_ultralytics", "yolo")])
def test_we_import_what_datumaro_exports(draft, tmp_path, datumaro_format, ours):
    _datumaro_built().export(str(tmp_path), datumaro_format, save_media=True)
    result = annotations_import(draft, format=ours, data=Bundle(f"{ours}.zip", _zipped(tmp_path)),
                                images_prefix="s3://bucket/datumaro/")
    assert result.frames == 4
    frame_ids = [f"{'train' if i < 2 else 'val'}/img{i}.jpg" for i in range(4)]  # images/<subset>/<file>
    frames = frames_get(draft, frame_ids)
    assert sorted(frames) == sorted(frame_ids)
    shapes = Counter((roi["meta"]["_type"], roi["label"][0]) for f in frames.values() for roi in f["rois"])
    if ours == "coco":  # a polygon annotation carries its box as well
        assert shapes == Counter({("b2d", "dog"): 2, ("b2d", "cat"): 6, ("p2d", "cat"): 4})
    else:  # Datumaro's YOLO export writes boxes only, and leaves the polygons out
        assert shapes == Counter({("b2d", "dog"): 2, ("b2d", "cat"): 2})
    first = frames[frame_ids[1]]
    box = next(roi for roi in first["rois"] if roi["label"] == ["cat"] and roi["meta"]["_type"] == "b2d")
    assert box["poly"] == pytest.approx([5, 6, 16, 6, 16, 14, 5, 14], abs=1e-3)


def test_subsets_of_coco_come_back_as_their_files(draft, tmp_path):
    _datumaro_built().export(str(tmp_path), "coco_instances", save_media=True)
    annotations_import(draft, format="coco", data=Bundle("coco.zip", _zipped(tmp_path)), images_prefix=PREFIX)
    exported = annotations_export(DatasetVersion.objects.get(pk=draft.pk), format="coco")
    assert sorted(exported.files) == ["annotations/instances_train.json", "annotations/instances_val.json",
                                      "images/train/", "images/val/"]
    out = tmp_path / "ours"
    _write(exported.files, out)
    again = DatumaroDataset.import_from(str(out), "coco_instances")
    assert sorted((item.subset, item.id) for item in again) == [("train", "img0"), ("train", "img1"),
                                                                 ("val", "img2"), ("val", "img3")]
    assert _summary(again)[1] == Counter({"bbox": 8, "polygon": 4})
