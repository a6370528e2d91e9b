"""Any frame the document allows, read through the SDK and written back unchanged, is stored unchanged.

Frames are generated with hypothesis: single frames and frame groups, ROIs of every shape type on one, some
or all sources, frame labels, masks, previews, source meta, meta and meta_blob. Each goes SDK add -> get ->
update (no change) -> get, and the stored document must be the same at both gets.
"""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperdatasets.frame_documents import READ_ONLY_KEYS
from hyperdatasets.sdk import DatasetVersion, FrameGroup, SingleFrame
from hyperdatasets.sdk.client import _Client

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)
KEYS = st.text(alphabet="abcdefgh_", min_size=1, max_size=5)
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-(2**63) + 1, 2**63 - 1),
                   st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                    max_leaves=6)
OBJECTS = st.dictionaries(KEYS, JSON, max_size=3)
NUMBERS = st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-(10**6), 10**6)
SCHEMES = ["s3://bucket/", "gs://bucket/", "azure://acct.blob.core.windows.net/c/", "https://cdn.example/",
           "file:///data/"]
_counter = itertools.count()


@st.composite
def file_ref(draw, stem: str, **extra) -> dict:
    ref = {"uri": draw(st.sampled_from(SCHEMES)) + stem + draw(st.sampled_from([".jpg", ".png", ".webp", ""])),
           **extra}
    for key, values in (("content_type", st.sampled_from(["image/jpeg", "image/png", "video/mp4"])),
                        ("width", st.integers(0, 10_000)), ("height", st.integers(0, 10_000)),
                        ("timestamp", st.integers(0, 2**40))):
        if draw(st.booleans()):
            ref[key] = draw(values)
    return ref


@st.composite
def source(draw, name: str | None) -> dict:
    doc = draw(file_ref(f"{name or 'img'}-{next(_counter)}"))
    if name is not None:
        doc["id"] = name
    if draw(st.booleans()):
        doc["meta"] = draw(OBJECTS)
    if draw(st.booleans()):
        doc["preview"] = draw(file_ref("preview"))
    if draw(st.booleans()):
        ids = draw(st.lists(st.sampled_from(["00", "01", "m", "fg"]), min_size=1, max_size=3, unique=True))
        doc["masks"] = [draw(file_ref(f"mask-{mask_id}", id=mask_id)) for mask_id in ids]
    return doc


def _shape(draw, kind: str) -> list:
    if kind == "b2d":
        return draw(st.lists(NUMBERS, min_size=8, max_size=8))
    if kind == "p2d":
        return draw(st.lists(NUMBERS, min_size=3, max_size=5).map(lambda xs: [v for x in xs for v in (x, x + 1)]))
    if kind == "k2d":
        return draw(st.lists(NUMBERS, min_size=1, max_size=4).map(lambda xs: [v for x in xs for v in (x, -x)]))
    if kind == "elp":
        return [*draw(st.lists(NUMBERS, min_size=2, max_size=2)), *draw(st.lists(st.floats(0, 100), min_size=2,
                                                                                   max_size=2)), draw(NUMBERS)]
    return draw(st.lists(NUMBERS, min_size=1, max_size=3).map(lambda xs: [v for x in xs for v in (x, x, x)]))


@st.composite
def roi(draw, sources: list[dict], index: int) -> dict:
    names = [s.get("id", "default") for s in sources]
    on = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
    doc: dict = {"label": draw(st.lists(st.text("abcxyz", min_size=1, max_size=4), max_size=3))}
    if draw(st.booleans()):
        doc["sources"] = on
    masks = [(m["id"]) for s in sources if s.get("id", "default") in on for m in s.get("masks", [])]
    kind = draw(st.sampled_from(["b2d", "p2d", "k2d", "elp", "p3d", "k3d", "b3d", "label"] + (["mask"] * bool(masks))))
    meta = draw(OBJECTS)
    if kind == "mask":
        doc["mask"] = {"id": draw(st.sampled_from(masks)), "value": draw(st.lists(st.integers(0, 255), min_size=3,
                                                                                  max_size=3))}
        meta["_type"] = "mask"
    elif kind == "label":
        doc["label"] = doc["label"] or ["frame-label"]
    else:
        doc["poly"] = _shape(draw, kind)
        meta["_type"] = kind
    doc["meta"] = meta
    if draw(st.booleans()):
        doc["confidence"] = draw(st.floats(0, 1))
    if draw(st.booleans()):
        doc["id"] = f"r{index}"
    return doc


@st.composite
def frame_document(draw) -> dict:
    if draw(st.booleans()):
        sources = [draw(source(draw(st.sampled_from([None, "default"]))))]
    else:
        names = draw(st.lists(st.sampled_from(["left", "right", "top", "cam", "lidar"]), min_size=1, max_size=3,
                              unique=True))
        sources = [draw(source(name)) for name in names]
    doc = {"id": f"frame-{next(_counter)}", "sources": sources,
           "rois": [draw(roi(sources, i)) for i in range(draw(st.integers(0, 4)))]}
    meta = draw(OBJECTS)
    if len(sources) > 1 and draw(st.booleans()):  # a group's per-source meta, one entry possibly empty
        meta[sources[0]["id"]] = draw(OBJECTS)
    for key, value in (("meta", meta), ("meta_blob", draw(OBJECTS)),
                       ("context_id", draw(TEXT)), ("timestamp", draw(st.integers(0, 2**40))), ("blob", draw(TEXT))):
        if draw(st.booleans()):
            doc[key] = value
    return doc


def _stored(version, frame_id: str) -> dict:
    from hyperdatasets.sdk.datasets import _frame_segment

    document = _Client.get().get_json(f"/api/versions/{version.id}/frame/{_frame_segment(frame_id)}/")
    return {k: v for k, v in document.items() if k not in READ_ONLY_KEYS}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(document=frame_document())
def test_a_frame_read_and_written_back_unchanged_is_stored_unchanged(api, document):
    version = DatasetVersion.create_new_dataset(dataset_name=f"round-trip-{next(_counter)}")
    assert version.add_frames([document]) == [], version.last_failures
    before = _stored(version, document["id"])
    read = version.get_single_frame(document["id"])
    assert isinstance(read, SingleFrame | FrameGroup)
    assert version.update_frames([read]) == []
    assert _stored(version, document["id"]) == before
    assert version.get_single_frame(document["id"]).to_api() == read.to_api()


def test_a_roi_on_some_sources_of_a_group_survives_an_update(api):
    version = DatasetVersion.create_new_dataset(dataset_name="shared-rois")
    group = FrameGroup(id="g")
    for name in ("a", "b", "c"):
        group[name] = SingleFrame(source=f"s3://b/{name}.jpg")
    group.shared_annotations.append({"label": ["car"], "poly": [0, 0, 1, 0, 1, 1, 0, 1], "sources": ["a", "b"],
                                     "meta": {"_type": "b2d"}})
    group.add_global_annotation(labels=["day"])
    assert version.add_frames([group]) == []
    read = version.get_single_frame("g")
    assert [r["sources"] for r in read.shared_annotations] == [["a", "b"]]
    assert [r["label"] for r in read.global_annotations] == [["day"]]
    read["a"].add_annotation(box2d_xywh=(1, 1, 2, 2), labels=["new"])
    assert version.update_frames([read]) == []
    stored = _stored(version, "g")
    assert [(r["label"], r["sources"]) for r in stored["rois"]] == [
        (["car"], ["a", "b"]), (["day"], ["a", "b", "c"]), (["new"], ["a"])]


def test_a_global_annotation_of_a_one_source_group_reads_back_as_global(api):
    version = DatasetVersion.create_new_dataset(dataset_name="one-source")
    group = FrameGroup(id="g", cam=SingleFrame(source="s3://b/cam.jpg"))
    group["cam"].add_annotation(frame_class=["own"])
    group.add_global_annotation(labels=["everywhere"], confidence=0.5)
    assert version.add_frames([group]) == []
    read = version.get_single_frame("g")
    assert [r["label"] for r in read.global_annotations] == [["everywhere"]]
    assert [r["label"] for r in read["cam"].annotations] == [["own"]]


def test_source_meta_and_the_details_of_previews_and_masks_survive_an_update(api):
    version = DatasetVersion.create_new_dataset(dataset_name="details")
    document = {"id": "d", "sources": [{"uri": "s3://b/d.jpg", "timestamp": 3, "meta": {"hash": "abc"},
                                        "preview": {"uri": "s3://b/d-small.webp", "width": 64, "height": 48},
                                        "masks": [{"id": "00", "uri": "s3://b/d-m.png", "content_type": "image/png",
                                                   "width": 640, "height": 480}]}],
                "timestamp": 9}
    assert version.add_frames([document]) == []
    read = version.get_single_frame("d")
    assert read.source_meta == {"hash": "abc"}
    read.metadata["edited"] = True
    assert version.update_frames([read]) == []
    source = _stored(version, "d")["sources"][0]
    assert source["meta"] == {"hash": "abc"} and source["timestamp"] == 3
    assert source["preview"] == {"uri": "s3://b/d-small.webp", "width": 64, "height": 48, "content_type": "image/webp",
                                 "timestamp": 0}
    assert source["masks"] == [{"id": "00", "uri": "s3://b/d-m.png", "content_type": "image/png", "width": 640,
                                "height": 480, "timestamp": 0}]
