import pytest

from annotations.rois import POLY_PART_SEPARATOR, RoiError, shape_to_roi
from hyperdatasets.frame_documents import FrameError, frame_clean, frame_id_from_uri
from tests.factories import frame


def _clean(doc):
    return frame_clean(doc)


def test_defaults_from_first_source():
    clean = _clean({"sources": [{"uri": "/data/images/a.png", "timestamp": 7}]})
    assert clean.frame_id == frame_id_from_uri("file:///data/images/a.png")
    assert clean.context_id == "file:///data/images/a.png"
    assert clean.timestamp == 7
    source = clean.document["sources"][0]
    assert source["id"] == "default" and source["content_type"] == "image/png"


def test_frame_group_and_masks_auto_numbered():
    clean = _clean({
        "id": "g1",
        "sources": [
            {"id": "left", "uri": "gs://b/l.jpg", "masks": [{"uri": "gs://b/l-m0.png"}, {"uri": "gs://b/l-m1.png"}]},
            {"id": "right", "uri": "azure://acct.blob.core.windows.net/c/r.jpg",
             "preview": {"uri": "https://cdn.example/r.webp"}},
        ],
        "rois": [{"label": ["car"], "sources": ["left"], "mask": {"id": "01", "value": [1, 2, 3]},
                  "meta": {"_type": "mask"}}],
    })
    left, right = clean.document["sources"]
    assert [m["id"] for m in left["masks"]] == ["00", "01"]
    assert right["preview"]["content_type"] == "image/webp"
    assert clean.labels == ["car"] and clean.roi_count == 1


def test_labels_counted_once_per_roi_and_frame_label():
    clean = _clean(frame("f", labels=[["car", "car", "occluded"], ["person"]]))
    assert sorted(clean.labels) == ["car", "occluded", "person"]
    frame_label = _clean({**frame("g"), "rois": [{"label": ["night"]}]})
    assert frame_label.document["rois"][0]["poly"] == []


def test_read_only_fields_are_ignored_on_input():
    clean = _clean({**frame("f"), "saved": 123, "saved_in_version": "x"})
    assert "saved" not in clean.document


def test_multi_part_polygon():
    poly = [0, 0, 10, 0, 10, 10, POLY_PART_SEPARATOR, 20, 20, 30, 20, 30, 30]
    clean = _clean({**frame("f"), "rois": [{"label": ["a"], "poly": poly, "meta": {"_type": "p2d"}}]})
    assert clean.document["rois"][0]["poly"] == poly


def test_meta_types_paths():
    clean = _clean(frame("f", meta={"a": 1, "b": {"c": "x", "d": True}, "e": [1], "n": None}))
    assert clean.meta_types == {"a": "number", "b": "object", "b.c": "string", "b.d": "boolean", "e": "array"}


def test_meta_types_of_frames_sharing_keys_follow_each_frame():
    """Flat metas are answered from a cache keyed by keys and value types: same keys, other types differ."""
    seen = [_clean(frame("f", meta=meta)).meta_types for meta in (
        {"k": 1, "s": "x"}, {"k": "1", "s": "x"}, {"k": 1, "s": "y"}, {"k": None, "s": "x"}, {"k": True, "s": "x"},
        {"k": {"deep": 1}, "s": "x"}, {"k": {"deep": "1"}, "s": "x"}, {"s": "x", "k": 1.5})]
    assert seen == [{"k": "number", "s": "string"}, {"k": "string", "s": "string"}, {"k": "number", "s": "string"},
                    {"s": "string"}, {"k": "boolean", "s": "string"},
                    {"k": "object", "k.deep": "number", "s": "string"},
                    {"k": "object", "k.deep": "string", "s": "string"}, {"s": "string", "k": "number"}]


BOX = [0, 0, 1, 0, 1, 1, 0, 1]


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ("not a frame", ""),
        ({"sources": []}, "sources"),
        ({"sources": "s3://b/x"}, "sources"),
        ({"sources": [{"uri": "ftp://x/y"}]}, "sources[0].uri"),
        ({"sources": [{"uri": "relative/path.jpg"}]}, "sources[0].uri"),
        ({"sources": [{"uri": "s3://b/" + "x" * 2000}]}, "sources[0].uri"),
        ({"sources": [{"uri": "s3://b/x", "width": -1}]}, "sources[0].width"),
        ({"sources": [{"uri": "s3://b/x", "width": True}]}, "sources[0].width"),
        ({"sources": [{"content_type": "image/png"}]}, "sources[0].uri"),
        ({"sources": ["s3://b/x"]}, "sources[0]"),
        ({"sources": [{"uri": "s3://b/x"}], "meta": {1: "x"}}, "meta"),
        ({"sources": [{"uri": "s3://b/x"}], "meta": {"a": "\ud800"}}, "meta"),
        ({"sources": [{"uri": "s3://b/x"}], "meta": {"a": object()}}, "meta"),
        ({"sources": [{"uri": "s3://b/x", "height": 1.5}]}, "sources[0].height"),
        ({"sources": [{"uri": "s3://b/x", "bogus": 1}]}, "sources[0].bogus"),
        ({"sources": [{"uri": "s3://b/x"}, {"uri": "s3://b/y"}]}, "sources[1].id"),
        ({"sources": [{"id": "a", "uri": "s3://b/x"}, {"id": "a", "uri": "s3://b/y"}]}, "sources"),
        ({"sources": [{"uri": "s3://b/x", "preview": {"content_type": "x"}}]}, "sources[0].preview.uri"),
        ({"sources": [{"uri": "s3://b/x", "masks": [{"uri": "s3://b/m", "id": ""}]}]}, "sources[0].masks[0].id"),
        ({"sources": [{"uri": "s3://b/x"}], "id": ""}, "id"),
        ({"sources": [{"uri": "s3://b/x"}], "id": 5}, "id"),
        ({"sources": [{"uri": "s3://b/x"}], "timestamp": -1}, "timestamp"),
        ({"sources": [{"uri": "s3://b/x"}], "meta": [1]}, "meta"),
        ({"sources": [{"uri": "s3://b/x"}], "meta": {"big": "x" * 70_000}}, "meta"),
        ({"sources": [{"uri": "s3://b/x"}], "colour": 1}, "colour"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": {}}, "rois"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": "car", "poly": BOX}]}, "rois[0].label"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": [""], "poly": BOX}]}, "rois[0].label[0]"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": []}]}, "rois[0].label"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "confidence": 1.5}]}, "rois[0].confidence"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "poly": [1, "2"]}]}, "rois[0].poly[1]"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "poly": [1, float("nan")]}]},
         "rois[0].poly[1]"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "poly": [10**400, 1]}]}, "rois[0].poly[0]"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "poly": [True, 1]}]}, "rois[0].poly[0]"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "poly": [1, 2, 3],
                                                     "meta": {"_type": "b2d"}}]}, "rois[0].poly"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "poly": [1, 2, 3, 4],
                                                     "meta": {"_type": "p2d"}}]}, "rois[0].poly"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "poly": [1, 2, -3, 4, 0],
                                                     "meta": {"_type": "elp"}}]}, "rois[0].poly"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "poly": [1, 2],
                                                     "meta": {"_type": "k3d"}}]}, "rois[0].poly"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "meta": {"_type": "blob"}}]},
         "rois[0].meta._type"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "sources": ["nope"], "poly": BOX}]},
         "rois[0].sources"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "mask": {"id": "00", "value": [1, 1, 1]},
                                                     "meta": {"_type": "mask"}}]}, "rois[0].mask.id"),
        ({"sources": [{"uri": "s3://b/x", "masks": [{"uri": "s3://b/m"}]}],
          "rois": [{"label": ["a"], "mask": {"id": "00", "value": [1, 1, 256]}, "meta": {"_type": "mask"}}]},
         "rois[0].mask.value[2]"),
        ({"sources": [{"uri": "s3://b/x"}], "rois": [{"label": ["a"], "poly": BOX, "extra": 1}]}, "rois[0].extra"),
    ],
)
def test_refusals_name_the_field(doc, field):
    with pytest.raises(FrameError) as info:
        frame_clean(doc)
    assert info.value.field == field, info.value
    assert info.value.reason and "`$" not in info.value.reason, info.value


@pytest.mark.parametrize(
    ("doc", "field", "reason"),
    [
        ({"sources": [{"uri": "s3://b/x", "width": 2_000_000}]}, "sources[0].width", "Expected `int` <= 1000000"),
        ({"sources": [{"uri": "s3://b/x", "bogus": 1}]}, "sources[0].bogus", "unknown field"),
        ({"sources": [{"uri": "s3://b/x", "preview": {}}]}, "sources[0].preview.uri", "is required"),
        ({"sources": [{"uri": "s3://b/x"}], "id": 5}, "id", "Expected `str | null`, got `int`"),
        ({"sources": [{"uri": "s3://b/x"}], "meta": {1: "x"}}, "meta", "Expected `str`, got `int` (an object key)"),
        ([], "", "must be an object"),
    ],
)
def test_refusal_reasons_state_the_rule(doc, field, reason):
    with pytest.raises(FrameError) as info:
        frame_clean(doc)
    assert (info.value.field, info.value.reason) == (field, reason)


def test_stored_form_fills_defaults_and_sorts_keys():
    clean = frame_clean({"sources": [{"uri": "s3://b/x.jpg", "preview": None, "masks": [{"uri": "s3://b/m.png"}]}],
                         "rois": [{"poly": (1, 2.5, 3, 4), "label": ["a"], "mask": None}], "meta": {"b": 1, "a": 2},
                         "saved": 5, "saved_in_version": "v"})
    assert clean.document_json == (
        b'{"context_id":"s3://b/x.jpg","id":"%s","meta":{"a":2,"b":1},"meta_blob":{},'
        b'"rois":[{"confidence":1.0,"id":"roi-0","label":["a"],"meta":{},"poly":[1,2.5,3,4],"sources":["default"]}],'
        b'"sources":[{"content_type":"image/jpeg","height":null,"id":"default","masks":[{"content_type":"image/png",'
        b'"height":null,"id":"00","timestamp":0,"uri":"s3://b/m.png","width":null}],"meta":{},"timestamp":0,'
        b'"uri":"s3://b/x.jpg","width":null}],"timestamp":0}' % frame_id_from_uri("s3://b/x.jpg").encode())
    assert clean.meta_json == b'{"a":2,"b":1}' and clean.roi_count == 1 and clean.labels == ["a"]


def test_shape_conversion():
    assert shape_to_roi(box2d_xywh=(1, 2, 3, 4)) == ([1, 2, 4, 2, 4, 6, 1, 6], None, "b2d")
    poly, _, shape = shape_to_roi(poly2d_xy=[[0, 0, 1, 0, 1, 1], [5, 5, 6, 5, 6, 6]])
    assert shape == "p2d" and poly[6] == POLY_PART_SEPARATOR
    assert shape_to_roi(ellipse2d_xyrrt=(5, 5, 2, 1, 0.5))[2] == "elp"
    assert shape_to_roi(points2d_xy=[1, 2, 3, 4])[2] == "k2d"
    assert shape_to_roi(mask_rgb=(1, 2, 3)) == ([], {"id": "00", "value": [1, 2, 3]}, "mask")
    assert shape_to_roi() == ([], None, None)
    with pytest.raises(RoiError, match="one shape"):
        shape_to_roi(box2d_xywh=(1, 2, 3, 4), points2d_xy=[1, 2])


def test_nul_characters_are_refused_but_their_escaped_text_is_not():
    with pytest.raises(FrameError, match="NUL"):
        frame_clean(frame("f", meta={"note": "a\x00b"}))
    with pytest.raises(FrameError, match="NUL"):
        frame_clean(frame("f", labels=[["car\x00"]]))
    assert frame_clean(frame("f", meta={"note": "literal \\u0000 text"})).document["meta"]["note"].endswith("text")


def _nested(depth, leaf=1):
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def test_deep_nesting_is_refused_with_the_field_not_a_crash():
    frame_clean(frame("f", meta=_nested(32)))
    with pytest.raises(FrameError) as info:
        frame_clean(frame("f", meta=_nested(33)))
    assert info.value.field == "meta" + ".a" * 32 and "32 levels" in info.value.reason
    with pytest.raises(FrameError) as info:
        frame_clean({**frame("f"), "meta_blob": _nested(5000)})
    assert (info.value.field, info.value.reason) == ("meta_blob", "is nested too deeply")
    deep_list = 1
    for _ in range(5000):
        deep_list = [deep_list]
    with pytest.raises(FrameError) as info:
        frame_clean({**frame("f"), "meta": {"x": deep_list}})
    assert info.value.field == "meta"


def test_roi_ids_are_unique_within_a_frame():
    box = {"label": ["car"], "poly": [0, 0, 1, 0, 1, 1, 0, 1]}
    with pytest.raises(FrameError) as given:
        _clean({"sources": [{"uri": "s3://b/a.jpg"}], "rois": [{**box, "id": "r"}, box, {**box, "id": "r"}]})
    assert given.value.field == "rois[2].id" and "'r' is also the id of rois[0]" in given.value.reason
    # An id left out is roi-<index>: taken by another ROI, that is a clash too, and said so.
    with pytest.raises(FrameError) as generated:
        _clean({"sources": [{"uri": "s3://b/a.jpg"}], "rois": [{**box, "id": "roi-1"}, box]})
    assert generated.value.field == "rois[1].id" and "roi-<index>" in generated.value.reason
    clean = _clean({"sources": [{"uri": "s3://b/a.jpg"}], "rois": [{**box, "id": "roi-5"}, box, box]})
    assert [r["id"] for r in clean.document["rois"]] == ["roi-5", "roi-1", "roi-2"]


def test_blob_is_kept_as_given_and_absent_unless_given():
    assert "blob" not in _clean({"sources": [{"uri": "s3://b/a.jpg"}]}).document
    assert "blob" not in _clean({"sources": [{"uri": "s3://b/a.jpg"}], "blob": None}).document
    assert _clean({"sources": [{"uri": "s3://b/a.jpg"}], "blob": "raw ✓ text"}).document["blob"] == "raw ✓ text"
    with pytest.raises(FrameError) as refused:
        _clean({"sources": [{"uri": "s3://b/a.jpg"}], "blob": 3})
    assert refused.value.field == "blob"
