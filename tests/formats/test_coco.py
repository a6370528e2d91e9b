"""COCO both ways, checked by COCO's own tools (pycocotools): the export loads in ``COCO``, ``COCOeval`` of the
exported ground truth against itself gives AP = 1.0 for boxes and polygon segmentation, and import -> export
-> import keeps every annotation (boxes to 1e-6, polygons exactly); bad files are refused with the JSON path."""

import json
import math

import numpy as np
import orjson
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from formats.coco import FormatError
from formats.selectors import annotations_export
from formats.services import annotations_import
from hyperdatasets.exceptions import StateConflict
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.frames import frames_get
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.versions import version_publish

pytestmark = pytest.mark.django_db
PREFIX = "s3://bucket/coco/val2017/"


def coco_file(images: int = 6) -> dict:
    """Images with boxes, multi-part polygons, keypoints, a crowd, a scored detection; two supercategories."""
    categories = [{"id": 1, "name": "person", "supercategory": "human",
                   "keypoints": ["nose", "left_eye", "right_eye"], "skeleton": [[1, 2], [1, 3]]},
                  {"id": 3, "name": "car", "supercategory": "vehicle"},
                  {"id": 7, "name": "bicycle", "supercategory": "vehicle"}]
    out_images, annotations, ann_id = [], [], 100
    for i in range(images):
        out_images.append({"id": 10 + i, "file_name": f"0000{i}.jpg", "width": 640, "height": 480,
                           "license": 1, "date_captured": "2013-11-14 11:18:45"})
        x, y = 10.5 + 7 * i, 20.25 + 3 * i
        annotations.append({"id": ann_id, "image_id": 10 + i, "category_id": 3, "bbox": [x, y, 50.125, 30.5],
                            "area": 50.125 * 30.5, "iscrowd": 0})
        polygon = [x, y, x + 40, y, x + 40, y + 25, x, y + 25]
        second = [x + 60, y + 60, x + 80, y + 60, x + 70, y + 90]
        annotations.append({"id": ann_id + 1, "image_id": 10 + i, "category_id": 7, "iscrowd": i == 3 and 1 or 0,
                            "segmentation": [polygon, second] if i % 2 else [polygon],
                            "bbox": [x, y, 80, 90] if i % 2 else [x, y, 40, 25], "area": 1000.0 + i})
        annotations.append({"id": ann_id + 2, "image_id": 10 + i, "category_id": 1, "bbox": [200, 100, 60, 120],
                            "area": 7200, "iscrowd": 0, "num_keypoints": 2,
                            "keypoints": [230, 110, 2, 225, 105, 1, 0, 0, 0]})
        ann_id += 10
    return {"info": {"description": "test"}, "images": out_images, "annotations": annotations,
            "categories": categories}


@pytest.fixture
def draft():
    return version_head(dataset_create(dataset_name="coco", dataset_project="formats"))


def _export(version, format="coco"):
    exported = annotations_export(version, format=format)
    return orjson.loads(exported.files["annotations/instances_default.json"]), exported.report


def _load(tmp_path, document: dict, name: str) -> COCO:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return COCO(str(path))


def _by_id(document: dict) -> dict:
    return {a["id"]: a for a in document["annotations"]}


def test_import_maps_images_and_annotations_to_frames(draft):
    result = annotations_import(draft, format="coco", data=coco_file(), images_prefix=PREFIX)
    assert (result.frames, result.annotations, result.categories) == (6, 18, 3)
    frame = frames_get(draft, ["00001.jpg"])["00001.jpg"]
    assert frame["sources"][0]["uri"] == PREFIX + "00001.jpg" and frame["sources"][0]["width"] == 640
    assert frame["meta"]["coco"] == {"image_id": 11, "license": 1, "date_captured": "2013-11-14 11:18:45"}
    shapes = [(roi["meta"]["_type"], roi["label"], roi["meta"]["_id"]) for roi in frame["rois"]]
    assert shapes == [("b2d", ["car"], "coco-110"), ("b2d", ["bicycle"], "coco-111"),
                      ("p2d", ["bicycle"], "coco-111"), ("b2d", ["person"], "coco-112"),
                      ("k2d", ["person"], "coco-112")]
    keypoints = frame["rois"][4]
    assert keypoints["poly"] == [230, 110, 225, 105, 0, 0] and keypoints["meta"]["coco"]["visibility"] == [2, 1, 0]
    kept = DatasetVersion.objects.get(pk=draft.pk).metadata["coco"]["categories"]
    assert [c["id"] for c in kept] == [1, 3, 7] and kept[0]["skeleton"] == [[1, 2], [1, 3]]


def test_the_export_loads_in_pycocotools_and_evaluates_to_ap_one(draft, tmp_path):
    annotations_import(draft, format="coco", data=coco_file(), images_prefix=PREFIX)
    exported, report = _export(DatasetVersion.objects.get(pk=draft.pk), format="coco")
    assert report == {}
    ground_truth = _load(tmp_path, exported, "gt.json")
    assert len(ground_truth.getImgIds()) == 6 and len(ground_truth.getAnnIds()) == 18
    assert {c["name"]: c.get("supercategory") for c in ground_truth.loadCats(ground_truth.getCatIds())} == {
        "person": "human", "car": "vehicle", "bicycle": "vehicle"}
    assert ground_truth.loadCats([1])[0]["keypoints"] == ["nose", "left_eye", "right_eye"]

    for kind in ("bbox", "segm"):
        wanted = [a for a in exported["annotations"] if kind == "bbox" or "segmentation" in a]
        gt = _load(tmp_path, {**exported, "annotations": wanted}, f"gt-{kind}.json")
        results = [{**a, "score": 1.0} for a in wanted if not a["iscrowd"]]
        evaluation = COCOeval(gt, gt.loadRes(results), kind)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
        assert evaluation.stats[0] == pytest.approx(1.0), kind


def test_import_export_import_keeps_every_annotation(draft):
    original = coco_file()
    annotations_import(draft, format="coco", data=original, images_prefix=PREFIX)
    first, _ = _export(DatasetVersion.objects.get(pk=draft.pk), format="coco")
    again = version_head(dataset_create(dataset_name="coco-again", dataset_project="formats"))
    annotations_import(again, format="coco", data=first, images_prefix=PREFIX)
    second, _ = _export(DatasetVersion.objects.get(pk=again.pk), format="coco")
    for exported in (first, second):
        got, sent = _by_id(exported), _by_id(original)
        assert sorted(got) == sorted(sent)
        for ann_id, ann in sent.items():
            out = got[ann_id]
            assert out["image_id"] == ann["image_id"] and out["category_id"] == ann["category_id"]
            assert all(math.isclose(a, b, abs_tol=1e-6) for a, b in zip(out["bbox"], ann["bbox"], strict=True))
            assert out.get("segmentation") == ann.get("segmentation")
            assert out.get("keypoints") == ann.get("keypoints") and out["iscrowd"] == ann["iscrowd"]
            assert out["area"] == pytest.approx(ann["area"])
        assert {i["id"]: i["file_name"] for i in exported["images"]} == {
            i["id"]: i["file_name"] for i in original["images"]}


def test_what_coco_cannot_carry_is_counted(draft):
    assert frames_upsert(draft, [{"id": "x", "sources": [{"id": "a", "uri": "s3://b/x.jpg"},
                                                          {"id": "b", "uri": "s3://b/y.jpg"}],
                                  "rois": [{"label": ["tag"]},
                                           {"label": ["ball"], "poly": [5, 5, 2, 1, 0], "meta": {"_type": "elp"}},
                                           {"label": ["car", "red"], "poly": [0, 0, 4, 0, 4, 4, 0, 4],
                                            "meta": {"_type": "b2d"}}]}]).failures == []
    exported, report = _export(draft, format="coco")
    assert report == {"ellipses": 1, "frame labels": 1, "labels beyond a ROI's first": 1,
                      "sources beyond a frame's first": 1}
    assert [(a["bbox"], a["category_id"]) for a in exported["annotations"]] == [([0, 0, 4, 4], 1)]
    assert exported["categories"] == [{"id": 1, "name": "car"}]


@pytest.mark.parametrize("change, path", [
    (lambda d: d["annotations"][0].update(image_id=999), "$.annotations[0].image_id"),
    (lambda d: d["annotations"][1].update(category_id=2), "$.annotations[1].category_id"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), "$.annotations[0].bbox"),
    (lambda d: d["annotations"][1].update(segmentation=[[1, 2, 3, 4]]), "$.annotations[1].segmentation[0]"),
    (lambda d: d["annotations"][1].update(segmentation={"counts": [1], "size": [2, 2]}),
     "$.annotations[1].segmentation.counts"),
    (lambda d: d["images"][1].update(id=10), "$.images[1].id"),
    (lambda d: d["images"][1].update(file_name=d["images"][0]["file_name"]), "$.images[1].file_name"),
    (lambda d: d["categories"][0].pop("name"), "$.categories[0].name"),
    (lambda d: d.update(images="all"), "$.images"),
    (lambda d: d["annotations"][2].update(keypoints=[1, 2, 5]), "$.annotations[2].keypoints"),
])
def test_a_bad_file_is_refused_with_its_json_path_and_nothing_is_written(draft, change, path):
    data = coco_file()
    change(data)
    with pytest.raises(FormatError) as refused:
        annotations_import(draft, format="coco", data=data, images_prefix=PREFIX, file="instances.json")
    assert refused.value.file == "instances.json" and refused.value.path == path
    assert str(refused.value).startswith(f"instances.json: {path}: ")
    assert frames_get(draft, ["00000.jpg"]) == {}


def test_a_frame_the_rules_refuse_fails_the_whole_import(draft):
    with pytest.raises(FormatError) as refused:
        annotations_import(draft, format="coco", data=coco_file(), images_prefix="relative/path/")
    assert "image '00000.jpg'" in str(refused.value) and "uri" in str(refused.value)
    assert frames_get(draft, ["00000.jpg", "00001.jpg"]) == {}
    assert "coco" not in (DatasetVersion.objects.get(pk=draft.pk).metadata or {})
    version_publish(draft)
    with pytest.raises(StateConflict):
        annotations_import(DatasetVersion.objects.get(pk=draft.pk), format="coco", data=coco_file(),
                           images_prefix=PREFIX)


def test_an_images_bad_field_is_named_by_its_json_path(draft):
    data = coco_file()
    data["images"][2]["width"] = "wide"
    with pytest.raises(FormatError) as refused:
        annotations_import(draft, format="coco", data=data, images_prefix=PREFIX)
    assert refused.value.path == "$.images[2].width"


def _rle_file() -> tuple[dict, dict]:
    """Two images: a crowd region as an uncompressed RLE, and an instance as COCO's compressed RLE (with its
    box); the binary masks they encode, by annotation id."""
    from pycocotools import mask as coco_mask

    crowd = np.zeros((48, 64), np.uint8)
    crowd[10:30, 5:50] = 1
    crowd[35:40, 0:64] = 1
    instance = np.zeros((48, 64), np.uint8)
    instance[2:20, 30:44] = 1
    instance[20:25, 38:40] = 1
    runs, previous, run = [], 0, 0
    for pixel in crowd.flatten(order="F"):
        if pixel != previous:
            runs.append(run)
            previous, run = pixel, 0
        run += 1
    runs.append(run)
    compressed = coco_mask.encode(np.asfortranarray(instance))
    data = {"images": [{"id": 1, "file_name": "crowd.jpg", "width": 64, "height": 48},
                       {"id": 2, "file_name": "one.jpg", "width": 64, "height": 48}],
            "categories": [{"id": 1, "name": "person"}, {"id": 300, "name": "car"}],
            "annotations": [
                {"id": 7, "image_id": 1, "category_id": 1, "iscrowd": 1, "area": float(crowd.sum()),
                 "bbox": [0, 10, 64, 30], "segmentation": {"size": [48, 64], "counts": runs}},
                {"id": 8, "image_id": 2, "category_id": 300, "iscrowd": 0, "area": float(instance.sum()),
                 "bbox": [30, 2, 14, 23], "segmentation": {"size": [48, 64],
                                                           "counts": compressed["counts"].decode()}}]}
    return data, {7: crowd, 8: instance}


def test_rle_masks_are_stored_as_mask_images_and_exported_pixel_exact(draft, tmp_path):
    from pycocotools import mask as coco_mask

    from annotations.mask_labels import MASK_LABELS_KEY

    data, binaries = _rle_file()
    annotations_import(draft, format="coco", data=data, images_prefix=PREFIX)
    version = DatasetVersion.objects.get(pk=draft.pk)
    frame = frames_get(version, ["crowd.jpg"])["crowd.jpg"]
    mask_roi = next(roi for roi in frame["rois"] if roi["meta"]["_type"] == "mask")
    assert mask_roi["mask"] == {"id": "coco-7", "value": [1, 0, 0]} and mask_roi["label"] == ["person"]
    stored = frame["sources"][0]["masks"][0]
    assert stored["id"] == "coco-7" and stored["uri"].startswith("file://")
    assert version.metadata[MASK_LABELS_KEY]["_all_"] == [{"value": [1, 0, 0], "labels": ["person"]},
                                                          {"value": [44, 1, 0], "labels": ["car"]}]

    exported, report = _export(version)
    assert report == {}
    by_id = _by_id(exported)
    for ann_id, binary in binaries.items():
        segmentation = by_id[ann_id]["segmentation"]
        decoded = coco_mask.decode({"size": segmentation["size"], "counts": segmentation["counts"].encode()})
        assert np.array_equal(decoded, binary), ann_id  # pixel-exact
        assert by_id[ann_id]["iscrowd"] == data["annotations"][ann_id - 7]["iscrowd"]
        assert by_id[ann_id]["bbox"] == data["annotations"][ann_id - 7]["bbox"]
    again = version_head(dataset_create(dataset_name="rle-again", dataset_project="formats"))
    annotations_import(again, format="coco", data=exported, images_prefix=PREFIX)
    second = _by_id(_export(DatasetVersion.objects.get(pk=again.pk))[0])
    for ann_id, binary in binaries.items():
        segmentation = second[ann_id]["segmentation"]
        decoded = coco_mask.decode({"size": segmentation["size"], "counts": segmentation["counts"].encode()})
        assert np.array_equal(decoded, binary) and second[ann_id]["area"] == by_id[ann_id]["area"]
    gt = _load(tmp_path, exported, "rle.json")
    results = [{**a, "score": 1.0} for a in exported["annotations"] if not a["iscrowd"]]
    evaluation = COCOeval(gt, gt.loadRes(results), "segm")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    assert evaluation.stats[0] == pytest.approx(1.0)


@pytest.mark.parametrize("segmentation, path", [
    ({"size": [48], "counts": [1]}, "$.annotations[0].segmentation.size"),
    ({"size": [2, 2], "counts": [1, 1]}, "$.annotations[0].segmentation.counts"),
    ({"size": [2, 2], "counts": ""}, "$.annotations[0].segmentation.counts"),
])
def test_a_bad_rle_is_refused_with_its_json_path(draft, segmentation, path):
    data, _ = _rle_file()
    data["annotations"][0]["segmentation"] = segmentation
    with pytest.raises(FormatError) as refused:
        annotations_import(draft, format="coco", data=data, images_prefix=PREFIX)
    assert refused.value.path == path


def test_an_rle_of_another_size_than_its_image_is_refused(draft):
    data, _ = _rle_file()
    data["images"][0]["width"] = 65
    with pytest.raises(FormatError, match="is 48x64 but the image is 48x65"):
        annotations_import(draft, format="coco", data=data, images_prefix=PREFIX)
    assert frames_get(draft, ["crowd.jpg", "one.jpg"]) == {}


def test_images_in_the_archive_are_uploaded_when_no_prefix_is_given(draft):
    import io
    import zipfile

    from PIL import Image

    from formats.bundle import Bundle

    data = coco_file(2)

    def archive_with(images: list[dict]) -> Bundle:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("annotations/instances_default.json", json.dumps(data))
            for image in images:
                picture = io.BytesIO()
                Image.new("RGB", (640, 480), (9, 9, 9)).save(picture, format="JPEG")
                archive.writestr(f"images/default/{image['file_name']}", picture.getvalue())
        return Bundle("coco.zip", out.getvalue())

    with pytest.raises(FormatError, match=r"00001.jpg is not in the archive"):
        annotations_import(draft, format="coco", data=archive_with(data["images"][:1]), images_prefix="")
    assert frames_get(draft, ["00000.jpg"]) == {}
    from django.core.files.storage import default_storage

    stored = f"datasets/{draft.dataset_id}/sources/imports/00000.jpg"
    assert not default_storage.exists(stored)  # the failed import removed the image it had stored
    annotations_import(draft, format="coco", data=archive_with(data["images"]), images_prefix="")
    frame = frames_get(draft, ["00000.jpg"])["00000.jpg"]
    assert "/sources/imports/00000.jpg" in frame["sources"][0]["uri"]
    assert frame["sources"][0]["content_type"] == "image/jpeg" and len(frame["rois"]) == 5
    assert default_storage.exists(stored)
