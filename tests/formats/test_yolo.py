"""YOLO (Ultralytics) both ways: boxes and polygons relative to each image's size (read from the images in
the archive), subsets, data.yaml's names; an export of an import gives the same label lines back; bad archives
are refused with the file and line."""

import io
import zipfile

import pytest
import yaml
from PIL import Image

from formats.bundle import Bundle
from formats.coco import FormatError
from formats.selectors import annotations_export
from formats.services import annotations_import
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.frames import frames_get
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert

pytestmark = pytest.mark.django_db
PREFIX = "s3://bucket/yolo/images/"
LABELS = {"labels/train/a.txt": "0 0.5 0.5 0.25 0.5\n1 0.1 0.1 0.4 0.1 0.25 0.3\n",
          "labels/val/b.txt": "1 0.25 0.75 0.5 0.5\n"}


def _image(size, kind="JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(out, format=kind)
    return out.getvalue()


def yolo_zip(labels=None, names=("person", "car"), images=None, extra=None) -> Bundle:
    return Bundle("dataset.zip", yolo_archive(labels, names, images, extra))


def yolo_archive(labels=None, names=("person", "car"), images=None, extra=None) -> bytes:
    """A YOLO dataset's zip: a.jpg (640x480, a box and a polygon), b.png (200x100, a box), c.jpg (no labels)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("data.yaml", yaml.safe_dump({"path": ".", "train": "images/train", "names": list(names)}))
        for name, content in (images if images is not None else {
                "images/train/a.jpg": _image((640, 480)), "images/val/b.png": _image((200, 100), "PNG"),
                "images/train/c.jpg": _image((32, 32))}).items():
            archive.writestr(name, content)
        for name, text in (labels if labels is not None else LABELS).items():
            archive.writestr(name, text)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.fixture
def draft():
    return version_head(dataset_create(dataset_name="yolo", dataset_project="formats"))


def test_import_reads_sizes_from_the_images_and_makes_pixel_rois(draft):
    result = annotations_import(draft, format="yolo", data=yolo_zip(), images_prefix=PREFIX)
    assert (result.frames, result.annotations, result.categories) == (3, 3, 2)
    frames = frames_get(draft, ["train/a.jpg", "val/b.png", "train/c.jpg"])
    a = frames["train/a.jpg"]
    assert a["sources"][0] == {**a["sources"][0], "uri": PREFIX + "train/a.jpg", "width": 640, "height": 480}
    assert a["meta"] == {"yolo": {"subset": "train"}}
    box, polygon = a["rois"]
    assert box["label"] == ["person"] and box["meta"]["_type"] == "b2d"
    assert box["poly"] == pytest.approx([240, 120, 400, 120, 400, 360, 240, 360])
    assert polygon["label"] == ["car"] and polygon["meta"]["_type"] == "p2d"
    assert polygon["poly"] == pytest.approx([64, 48, 256, 48, 160, 144])
    assert frames["val/b.png"]["rois"][0]["poly"] == pytest.approx([0, 50, 100, 50, 100, 100, 0, 100])
    assert frames["train/c.jpg"]["rois"] == []  # an image without labels: a background frame
    kept = DatasetVersion.objects.get(pk=draft.pk).metadata["yolo"]["categories"]
    assert kept == [{"id": 0, "name": "person"}, {"id": 1, "name": "car"}]


def test_export_of_an_import_gives_the_same_label_lines(draft):
    annotations_import(draft, format="yolo", data=yolo_zip(), images_prefix=PREFIX)
    exported = annotations_export(DatasetVersion.objects.get(pk=draft.pk), format="yolo")
    assert exported.report == {} and (exported.images, exported.annotations) == (3, 3)
    data = yaml.safe_load(exported.files["data.yaml"])
    assert data["names"] == {0: "person", 1: "car"} and data["train"] == "images/train"
    for name, text in LABELS.items():
        ours = [[float(v) for v in line.split()] for line in exported.files[name].decode().splitlines()]
        theirs = [[float(v) for v in line.split()] for line in text.splitlines()]
        assert ours == [pytest.approx(line, abs=1e-9) for line in theirs]
    assert exported.files["labels/train/c.txt"] == b""
    again = version_head(dataset_create(dataset_name="yolo-again", dataset_project="formats"))
    images = {"images/train/a.jpg": _image((640, 480)), "images/val/b.png": _image((200, 100), "PNG"),
              "images/train/c.jpg": _image((32, 32))}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in {**exported.files, **images}.items():
            archive.writestr(name, content)
    annotations_import(again, format="yolo", data=Bundle("again.zip", out.getvalue()), images_prefix=PREFIX)
    first, second = frames_get(draft, ["train/a.jpg"]), frames_get(again, ["train/a.jpg"])
    for ours, theirs in zip(second["train/a.jpg"]["rois"], first["train/a.jpg"]["rois"], strict=True):
        assert ours["label"] == theirs["label"] and ours["poly"] == pytest.approx(theirs["poly"])


def test_what_yolo_cannot_carry_is_counted(draft):
    assert frames_upsert(draft, [{"id": "x.jpg", "sources": [{"uri": "s3://b/x.jpg", "width": 10, "height": 10}],
                                  "rois": [{"label": ["tag"]},
                                           {"label": ["p"], "poly": [1, 1, 2, 2], "meta": {"_type": "k2d"}},
                                           {"label": ["car"], "poly": [0, 0, 5, 0, 5, 5, 0, 5],
                                            "meta": {"_type": "b2d"}}]},
                                 {"id": "nosize.jpg", "sources": [{"uri": "s3://b/n.jpg"}],
                                  "rois": [{"label": ["car"], "poly": [0, 0, 5, 0, 5, 5, 0, 5],
                                            "meta": {"_type": "b2d"}}]}]).failures == []
    exported = annotations_export(draft, format="yolo")
    assert exported.report == {"frame labels": 1, "keypoints": 1, "ROIs of frames without a size": 1}
    assert exported.files["labels/train/x.txt"] == b"0 0.25 0.25 0.5 0.5\n"


@pytest.mark.parametrize("make, where, rule", [
    (lambda: yolo_zip(labels={"labels/train/a.txt": "5 0.5 0.5 0.1 0.1\n"}), "dataset.zip:labels/train/a.txt",
     "class 5 is not in data.yaml's names"),
    (lambda: yolo_zip(labels={"labels/train/a.txt": "0 0.5 0.5 0.1 1.5\n"}), "dataset.zip:labels/train/a.txt",
     "coordinates must be relative"),
    (lambda: yolo_zip(labels={"labels/train/a.txt": "0 0.5 0.5\n"}), "dataset.zip:labels/train/a.txt",
     "must be 'class"),
    (lambda: yolo_zip(labels={"labels/train/zz.txt": "0 0.5 0.5 0.1 0.1\n"}), "dataset.zip:labels/train/zz.txt",
     "has no image images/train/zz.*"),
    (lambda: yolo_zip(names=()), "dataset.zip:data.yaml", "must be a list of class names"),
    (lambda: yolo_zip(images={"images/train/a.jpg": b"not an image"}), "dataset.zip:images/train/a.jpg",
     "cannot be read"),
    (lambda: Bundle("labels.txt", b"0 0.5 0.5 0.1 0.1"), "labels.txt", "zip archive"),
    (lambda: yolo_zip(extra={"../escape.txt": "x"}), "dataset.zip", "not a relative path"),
])
def test_a_bad_archive_is_refused_with_the_file_and_line(draft, make, where, rule):
    with pytest.raises(FormatError) as refused:
        annotations_import(draft, format="yolo", data=make(), images_prefix=PREFIX)
    assert refused.value.file == where and rule in refused.value.rule, str(refused.value)
    assert frames_get(draft, ["train/a.jpg"]) == {}
