"""CVAT for images 1.1 both ways: boxes, polygons, polylines, points, ellipses and tags with their attributes,
occlusion, z order and groups; an export of an import gives every shape back; Datumaro reads our export and we
read Datumaro's; bad XML is refused with the file and element."""

import io
import math
import zipfile
from collections import Counter

import numpy as np
import pytest
from datumaro.components.annotation import AnnotationType, Bbox, Label, LabelCategories, Points, Polygon
from datumaro.components.dataset import Dataset as DatumaroDataset
from datumaro.components.dataset_base import DatasetItem
from datumaro.components.media import Image as DatumaroImage
from PIL import Image

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
PREFIX = "gs://bucket/cvat/"
XML = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><name>t</name><labels>
    <label><name>car</name><attributes><attribute><name>color</name></attribute></attributes></label>
    <label><name>road</name></label><label><name>lane</name></label><label><name>joint</name></label>
    <label><name>wheel</name></label><label><name>day</name></label><label><name>unused</name></label>
  </labels></task></meta>
  <image id="0" name="frame_000.jpg" width="640" height="480" subset="train">
    <box label="car" occluded="1" source="manual" xtl="10.5" ytl="20" xbr="110" ybr="80.25" z_order="2">
      <attribute name="color">red</attribute>
    </box>
    <polygon label="road" occluded="0" source="manual" points="0,400;640,400;640,480;0,480" group_id="3"/>
    <polyline label="lane" occluded="0" source="manual" points="100,479;300,300;320,250"/>
    <points label="joint" occluded="0" source="manual" points="50.5,60;70,80"/>
    <ellipse label="wheel" occluded="0" source="manual" cx="60" cy="75" rx="12" ry="8" rotation="30"/>
    <tag label="day" source="manual"/>
  </image>
  <image id="1" name="frame_001.jpg" width="640" height="480" subset="val"/>
</annotations>"""


@pytest.fixture
def draft():
    return version_head(dataset_create(dataset_name="cvat", dataset_project="formats"))


def test_import_maps_every_shape(draft):
    result = annotations_import(draft, format="cvat", data=Bundle("annotations.xml", XML.encode()),
                                images_prefix=PREFIX)
    assert (result.frames, result.annotations, result.categories) == (2, 6, 7)
    frame = frames_get(draft, ["frame_000.jpg"])["frame_000.jpg"]
    assert frame["sources"][0]["uri"] == PREFIX + "frame_000.jpg" and frame["meta"] == {
        "cvat": {"id": "0", "subset": "train"}}
    by_label = {roi["label"][0]: roi for roi in frame["rois"]}
    assert by_label["car"]["meta"] == {"_type": "b2d", "cvat": {"attributes": {"color": "red"}, "occluded": "1",
                                                                "z_order": "2"}}
    assert by_label["car"]["poly"] == [10.5, 20, 110, 20, 110, 80.25, 10.5, 80.25]
    assert by_label["road"]["meta"]["_type"] == "p2d" and by_label["road"]["meta"]["cvat"]["group_id"] == "3"
    assert by_label["lane"]["meta"] == {"_type": "k2d", "cvat": {"occluded": "0", "shape": "polyline"}}
    assert by_label["joint"]["poly"] == [50.5, 60, 70, 80]
    assert by_label["wheel"]["poly"] == pytest.approx([60, 75, 12, 8, math.radians(30)])
    assert by_label["day"]["poly"] == [] and "_type" not in by_label["day"]["meta"]  # a frame label
    kept = [c["name"] for c in DatasetVersion.objects.get(pk=draft.pk).metadata["cvat"]["categories"]]
    assert kept == ["car", "road", "lane", "joint", "wheel", "day", "unused"]


def test_export_of_an_import_gives_every_shape_back(draft, tmp_path):
    annotations_import(draft, format="cvat", data=Bundle("annotations.xml", XML.encode()), images_prefix=PREFIX)
    exported = annotations_export(DatasetVersion.objects.get(pk=draft.pk), format="cvat")
    assert exported.report == {} and (exported.images, exported.annotations) == (2, 6)
    again = version_head(dataset_create(dataset_name="cvat-again", dataset_project="formats"))
    annotations_import(again, format="cvat", data=Bundle("annotations.xml", exported.files["annotations.xml"]),
                       images_prefix=PREFIX)
    for frame_id in ("frame_000.jpg", "frame_001.jpg"):
        first, second = frames_get(draft, [frame_id])[frame_id], frames_get(again, [frame_id])[frame_id]
        assert second["sources"] == first["sources"] and second["meta"]["cvat"]["subset"] == \
            first["meta"]["cvat"]["subset"]
        assert [(r["label"], r["meta"]) for r in second["rois"]] == [(r["label"], r["meta"]) for r in first["rois"]]
        for ours, theirs in zip(second["rois"], first["rois"], strict=True):
            assert ours["poly"] == pytest.approx(theirs["poly"], abs=1e-6)

    _write(exported.files, tmp_path)
    for name in ("train/frame_000.jpg", "val/frame_001.jpg"):  # the user's images, which the export refers to
        (tmp_path / "images" / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (640, 480)).save(tmp_path / "images" / name)
    dataset = DatumaroDataset.import_from(str(tmp_path), "cvat")
    assert sorted((item.subset, item.id) for item in dataset) == [("train", "frame_000"), ("val", "frame_001")]
    kinds = Counter(a.type.name for item in dataset for a in item.annotations)
    # Datumaro's CVAT reader knows no ellipses (a later CVAT shape); it reads every other shape and the tag.
    assert kinds == Counter({"bbox": 1, "polygon": 1, "polyline": 1, "points": 1, "label": 1})
    car = next(a for item in dataset for a in item.annotations if a.type.name == "bbox")
    assert car.get_bbox() == pytest.approx([10.5, 20, 99.5, 60.25]) and car.attributes["color"] == "red"
    assert car.attributes["occluded"] is True


def test_we_import_what_datumaro_exports_as_cvat(draft, tmp_path):
    pixels = np.zeros((40, 60, 3), np.uint8)
    items = [DatasetItem(id=f"im{i}", subset="default", media=DatumaroImage.from_numpy(pixels), annotations=[
        Bbox(1, 2, 10, 5, label=0, attributes={"occluded": i == 1}), Polygon([0, 0, 9, 0, 9, 9], label=1),
        Points([3, 4, 5, 6], label=1), Label(0)]) for i in range(2)]
    categories = {AnnotationType.label: LabelCategories.from_iterable(["car", "tree"])}
    DatumaroDataset.from_iterable(items, categories=categories).export(str(tmp_path), "cvat", save_media=True)
    result = annotations_import(draft, format="cvat", data=Bundle("cvat.zip", _zipped(tmp_path)),
                                images_prefix=PREFIX)
    assert (result.frames, result.annotations) == (2, 8)
    frame = frames_get(draft, ["im1.jpg"])["im1.jpg"]
    shapes = sorted((roi["meta"].get("_type", "tag"), roi["label"][0]) for roi in frame["rois"])
    assert shapes == [("b2d", "car"), ("k2d", "tree"), ("p2d", "tree"), ("tag", "car")]
    box = next(roi for roi in frame["rois"] if roi["meta"].get("_type") == "b2d")
    assert box["poly"] == [1, 2, 11, 2, 11, 7, 1, 7] and box["meta"]["cvat"]["occluded"] == "1"


@pytest.mark.parametrize("xml, where, rule", [
    ("<annotations><image id='0'/></annotations>", "image[0]/@name", "is required"),
    ("<annotations><image name='a' width='wide'/></annotations>", "image[0]/@width", "must be a number"),
    ("<annotations><image name='a'><box xtl='1' ytl='1' xbr='2' ybr='2'/></image></annotations>",
     "image[0]/box[0]/@label", "is required"),
    ("<annotations><image name='a'><polygon label='x' points='1,2;3'/></image></annotations>",
     "image[0]/polygon[0]/@points", "must be 'x,y;x,y;...'"),
    ("<annotations><image name='a'><polygon label='x' points='1,2;3,4'/></image></annotations>",
     "image[0]/polygon[0]/@points", "at least 3 points"),
    ("<annotations><image name='a'><mask label='x' rle='1,2'/></image></annotations>", "image[0]/mask[0]/@left",
     "must be a number"),
    ("<annotations><image name='a' width='4' height='4'><mask label='x' rle='1,2' left='0' top='0' width='2' "
     "height='2'/></image></annotations>", "image[0]/mask[0]/@rle", "must add up to width x height (4)"),
    ("<annotations><image name='a' width='4' height='4'><mask label='x' rle='1,3' left='3' top='0' width='2' "
     "height='2'/></image></annotations>", "image[0]/mask[0]", "must lie inside the image"),
    ("<root/>", "root", "must be <annotations>"),
    ("<annotations><image", "xml", "not readable XML"),
])
def test_bad_xml_is_refused_with_the_element(draft, xml, where, rule):
    with pytest.raises(FormatError) as refused:
        annotations_import(draft, format="cvat", data=Bundle("annotations.xml", xml.encode()), images_prefix=PREFIX)
    assert refused.value.path == where and rule in refused.value.rule, str(refused.value)


def test_an_archive_must_hold_one_xml_file(draft):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.xml", XML)
        archive.writestr("b.xml", XML)
    with pytest.raises(FormatError, match="must hold one CVAT XML file, found 2"):
        annotations_import(draft, format="cvat", data=Bundle("two.zip", out.getvalue()), images_prefix=PREFIX)


def test_masks_both_ways(draft):
    xml = ("<annotations><version>1.1</version><image id='0' name='m.jpg' width='8' height='6'>"
           "<mask label='road' source='manual' occluded='0' rle='2, 3, 1, 2, 4' left='2' top='1' width='4' "
           "height='3' z_order='0'/></image></annotations>")
    annotations_import(draft, format="cvat", data=Bundle("annotations.xml", xml.encode()), images_prefix=PREFIX)
    version = DatasetVersion.objects.get(pk=draft.pk)
    frame = frames_get(version, ["m.jpg"])["m.jpg"]
    roi = frame["rois"][0]
    assert roi["meta"]["_type"] == "mask" and roi["mask"] == {"id": "cvat-0", "value": [1, 0, 0]}
    exported = annotations_export(version, format="cvat")
    assert exported.report == {}
    text = exported.files["annotations.xml"].decode()
    # Row by row over the 4x3 box: 2 off, 3 on, 1 off, 2 on, 4 off; the box shrinks to the rows with pixels.
    assert 'rle="2, 3, 1, 2" left="2" top="1" width="4" height="2"' in text, text
    again = version_head(dataset_create(dataset_name="cvat-masks-again", dataset_project="formats"))
    annotations_import(again, format="cvat", data=Bundle("annotations.xml", exported.files["annotations.xml"]),
                       images_prefix=PREFIX)
    from formats.masks import mask_reader

    first = mask_reader([version.dataset_id])(frame["sources"][0]["masks"][0]["uri"])
    second_frame = frames_get(again, ["m.jpg"])["m.jpg"]
    second = mask_reader([again.dataset_id])(second_frame["sources"][0]["masks"][0]["uri"])
    assert np.array_equal(first, second) and int(np.all(first == [1, 0, 0], axis=-1).sum()) == 5
