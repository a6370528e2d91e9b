"""Pascal VOC detection both ways: boxes with their flags and pose, sizes, subsets from ImageSets/Main; an
export of an import gives the same objects back; Datumaro reads our export and we read Datumaro's; bad XML
is refused with the file and element, and XML entities are never expanded."""

import io
import zipfile
from collections import Counter

import numpy as np
import pytest
from datumaro.components.annotation import AnnotationType, Bbox, LabelCategories
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
PREFIX = "s3://bucket/voc/JPEGImages/"


def _xml(name, objects, size=(500, 375)) -> str:
    body = "".join(
        f"<object><name>{label}</name><pose>{pose}</pose><truncated>{t}</truncated><difficult>{d}</difficult>"
        f"<bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
        for label, pose, t, d, (x0, y0, x1, y1) in objects)
    return (f"<annotation><folder>VOC2012</folder><filename>{name}.jpg</filename><size><width>{size[0]}</width>"
            f"<height>{size[1]}</height><depth>3</depth></size><segmented>0</segmented>{body}</annotation>")


def voc_archive(extra=None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Annotations/2007_000027.xml", _xml("2007_000027", [
            ("person", "Frontal", 0, 0, (174, 101, 349, 351)), ("dog", "Left", 1, 1, (10.5, 20, 60, 80))]))
        archive.writestr("Annotations/2007_000032.xml", _xml("2007_000032", [
            ("aeroplane", "Unspecified", 0, 0, (104, 78, 375, 183))], size=(500, 281)))
        archive.writestr("ImageSets/Main/train.txt", "2007_000027\n")
        archive.writestr("ImageSets/Main/val.txt", "2007_000032\n")
        archive.writestr("ImageSets/Main/dog_train.txt", "2007_000027  1\n")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.fixture
def draft():
    return version_head(dataset_create(dataset_name="voc", dataset_project="formats"))


def test_import_maps_objects_to_boxes_with_their_flags(draft):
    result = annotations_import(draft, format="voc", data=Bundle("voc.zip", voc_archive()), images_prefix=PREFIX)
    assert (result.frames, result.annotations, result.categories) == (2, 3, 3)
    frame = frames_get(draft, ["2007_000027.jpg"])["2007_000027.jpg"]
    assert frame["sources"][0] == {**frame["sources"][0], "uri": PREFIX + "2007_000027.jpg", "width": 500,
                                   "height": 375}
    assert frame["meta"] == {"voc": {"name": "2007_000027", "subset": "train"}}
    person, dog = frame["rois"]
    assert person["poly"] == [174, 101, 349, 101, 349, 351, 174, 351] and person["label"] == ["person"]
    assert person["meta"]["voc"] == {"truncated": False, "difficult": False, "pose": "Frontal"}
    assert dog["meta"]["voc"] == {"truncated": True, "difficult": True, "pose": "Left"}


def test_export_of_an_import_gives_the_same_objects(draft, tmp_path):
    annotations_import(draft, format="voc", data=Bundle("voc.zip", voc_archive()), images_prefix=PREFIX)
    exported = annotations_export(DatasetVersion.objects.get(pk=draft.pk), format="voc")
    assert exported.report == {} and (exported.images, exported.annotations) == (2, 3)
    assert exported.files["ImageSets/Main/train.txt"] == b"2007_000027\n"
    again = version_head(dataset_create(dataset_name="voc-again", dataset_project="formats"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in exported.files.items():
            archive.writestr(name, content)
    annotations_import(again, format="voc", data=Bundle("again.zip", out.getvalue()), images_prefix=PREFIX)
    for frame_id in ("2007_000027.jpg", "2007_000032.jpg"):
        first, second = frames_get(draft, [frame_id])[frame_id], frames_get(again, [frame_id])[frame_id]
        assert second["meta"] == first["meta"] and second["sources"] == first["sources"]
        assert [(r["label"], r["poly"], r["meta"]) for r in second["rois"]] == [
            (r["label"], r["poly"], r["meta"]) for r in first["rois"]]

    _write(exported.files, tmp_path)
    dataset = DatumaroDataset.import_from(str(tmp_path), "voc_detection")
    assert sorted((item.subset, item.id) for item in dataset) == [("train", "2007_000027"), ("val", "2007_000032")]
    assert Counter(a.type.name for item in dataset for a in item.annotations) == Counter({"bbox": 3})
    labels = dataset.categories()[AnnotationType.label]
    boxes = sorted((labels[a.label].name, a.get_bbox()) for item in dataset for a in item.annotations)
    assert boxes[0] == ("aeroplane", [104.0, 78.0, 271.0, 105.0])


def test_we_import_what_datumaro_exports_as_voc(draft, tmp_path):
    pixels = np.zeros((40, 60, 3), np.uint8)
    items = [DatasetItem(id=f"im{i}", subset="train", media=DatumaroImage.from_numpy(pixels),
                         annotations=[Bbox(2, 3, 10, 12, label=i % 2, attributes={"difficult": i == 1})])
             for i in range(3)]
    categories = {AnnotationType.label: LabelCategories.from_iterable(["cat", "dog"])}
    DatumaroDataset.from_iterable(items, categories=categories).export(str(tmp_path), "voc_detection",
                                                                       save_media=True)
    result = annotations_import(draft, format="voc", data=Bundle("voc.zip", _zipped(tmp_path)), images_prefix=PREFIX)
    assert (result.frames, result.annotations) == (3, 3)
    frames = frames_get(draft, ["im0.jpg", "im1.jpg", "im2.jpg"])
    assert [frames[f"im{i}.jpg"]["rois"][0]["label"] for i in range(3)] == [["cat"], ["dog"], ["cat"]]
    assert frames["im1.jpg"]["rois"][0]["meta"]["voc"]["difficult"] is True
    assert frames["im0.jpg"]["rois"][0]["poly"] == pytest.approx([2, 3, 12, 3, 12, 15, 2, 15])
    assert frames["im0.jpg"]["meta"]["voc"]["subset"] == "train"


BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        '<annotation><filename>&lol2;</filename></annotation>')


@pytest.mark.parametrize("extra, where, rule", [
    ({"Annotations/bad.xml": "<annotation><object>"}, "voc.zip:Annotations/bad.xml", "not readable XML"),
    ({"Annotations/bomb.xml": BOMB}, "voc.zip:Annotations/bomb.xml", "not readable XML"),
    ({"Annotations/other.xml": "<root/>"}, "voc.zip:Annotations/other.xml", "must be <annotation>"),
    ({"Annotations/nobox.xml": "<annotation><object><name>x</name></object></annotation>"},
     "voc.zip:Annotations/nobox.xml", "is required"),
    ({"Annotations/flip.xml": _xml("flip", [("x", "", 0, 0, (50, 5, 10, 20))])}, "voc.zip:Annotations/flip.xml",
     "must not be below"),
    ({"Annotations/word.xml": _xml("word", [("x", "", 0, 0, ("left", 5, 10, 20))])},
     "voc.zip:Annotations/word.xml", "must be a number"),
    ({"Annotations/flag.xml": _xml("flag", [("x", "", 2, 0, (1, 5, 10, 20))])}, "voc.zip:Annotations/flag.xml",
     "must be 0 or 1"),
])
def test_bad_xml_is_refused_with_the_file_and_element(draft, extra, where, rule):
    with pytest.raises(FormatError) as refused:
        annotations_import(draft, format="voc", data=Bundle("voc.zip", voc_archive(extra)), images_prefix=PREFIX)
    assert refused.value.file == where and rule in refused.value.rule, str(refused.value)
    assert frames_get(draft, ["2007_000027.jpg"]) == {}


def test_segmentation_masks_both_ways_with_datumaro(draft, tmp_path):
    from datumaro.components.annotation import Mask

    from annotations.mask_labels import MASK_LABELS_KEY

    cat = np.zeros((40, 60), np.uint8)
    cat[5:20, 10:30] = 1
    dog = np.zeros((40, 60), np.uint8)
    dog[25:38, 40:58] = 1
    items = [DatasetItem(id="seg0", subset="train", media=DatumaroImage.from_numpy(np.zeros((40, 60, 3), np.uint8)),
                         annotations=[Mask(cat, label=1), Mask(dog, label=2), Bbox(10, 5, 20, 15, label=1)])]
    categories = {AnnotationType.label: LabelCategories.from_iterable(["background", "cat", "dog"])}
    DatumaroDataset.from_iterable(items, categories=categories).export(str(tmp_path / "theirs"), "voc",
                                                                       save_media=True)
    result = annotations_import(draft, format="voc", data=Bundle("voc.zip", _zipped(tmp_path / "theirs")),
                                images_prefix=PREFIX)
    assert result.frames == 1
    version = DatasetVersion.objects.get(pk=draft.pk)
    frame = frames_get(version, ["seg0.jpg"])["seg0.jpg"]
    masks = [roi for roi in frame["rois"] if roi["meta"]["_type"] == "mask"]
    assert [(roi["label"], roi["mask"]) for roi in masks] == [
        (["dog"], {"id": "voc-class", "value": [0, 128, 0]}), (["cat"], {"id": "voc-class", "value": [128, 0, 0]})]
    assert [m["id"] for m in frame["sources"][0]["masks"]] == ["voc-class"]
    mapping = {tuple(e["value"]): e["labels"] for e in version.metadata[MASK_LABELS_KEY]["_all_"]}
    assert mapping == {(0, 128, 0): ["dog"], (128, 0, 0): ["cat"]}

    exported = annotations_export(version, format="voc")
    assert exported.report == {} and "SegmentationClass/seg0.png" in exported.files
    _write(exported.files, tmp_path / "ours")
    (tmp_path / "ours" / "JPEGImages" / "seg0.jpg").write_bytes((tmp_path / "theirs" / "JPEGImages" /
                                                                 "seg0.jpg").read_bytes())
    again = DatumaroDataset.import_from(str(tmp_path / "ours"), "voc_segmentation")
    labels = again.categories()[AnnotationType.label]
    read = {labels[a.label].name: a.image for item in again for a in item.annotations if a.type.name == "mask"}
    read.pop("background", None)  # Datumaro reads the unlabelled pixels as a background mask
    assert sorted(read) == ["cat", "dog"]
    assert np.array_equal(read["cat"].astype(np.uint8), cat) and np.array_equal(read["dog"].astype(np.uint8), dog)
