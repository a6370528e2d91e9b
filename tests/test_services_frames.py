import pytest
from django.db import IntegrityError, connection, transaction

from hyperdatasets.exceptions import InvalidInput, StateConflict
from hyperdatasets.models import DatasetVersion, Frame
from hyperdatasets.selectors.frame_pages import frames_page
from hyperdatasets.selectors.frames import (
    frames_count,
    frames_get,
    version_label_stats,
    versions_diff,
    versions_diff_counts,
)
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_delete, frames_update, frames_upsert
from hyperdatasets.services.snapshots import snapshot_create
from hyperdatasets.services.versions import version_create, version_publish
from tests.factories import frame

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    return dataset_create(dataset_name="frames")


@pytest.fixture
def draft(dataset):
    return version_head(dataset)


def _all(version, **filters):
    frames, cursor = [], None
    while True:
        page = frames_page(version, cursor=cursor, limit=3, **filters)
        frames += page.frames
        cursor = page.next_cursor
        if cursor is None:
            return frames


def _ids(version, **filters):
    return [f["id"] for f in _all(version, **filters)]


def _fresh(version):
    return DatasetVersion.objects.get(pk=version.pk)


def test_upsert_get_page_count(draft):
    result = frames_upsert(draft, [frame(f"f{i}", context_id=f"ctx{i % 3}", timestamp=10 - i) for i in range(10)])
    assert len(result.saved) == 10 and result.failures == []
    draft = _fresh(draft)
    assert frames_count(draft) == 10
    ordered = _all(draft)
    keys = [(f["context_id"], f["timestamp"], f["id"]) for f in ordered]
    assert keys == sorted(keys) and len(keys) == 10
    got = frames_get(draft, ["f3", "nope"])
    assert list(got) == ["f3"] and got["f3"]["saved_in_version"] == str(draft.pk)


def test_upsert_replaces_existing_id(draft):
    frames_upsert(draft, [frame("a", labels=[["car"]])])
    frames_upsert(draft, [frame("a", labels=[["dog"], ["dog"]])])
    draft = _fresh(draft)
    assert frames_count(draft) == 1
    assert frames_get(draft, ["a"])["a"]["rois"][0]["label"] == ["dog"]
    assert version_label_stats(draft)["labels"] == {"dog": 2}
    assert Frame.objects.filter(version=draft).count() == 1


def test_special_characters_survive_the_bulk_write(draft):
    """The bulk writer formats COPY text itself: tabs, line breaks and backslashes must round-trip."""
    odd = "a\tb\nc\rd\\e \\N \\. é ✓"
    doc = frame(odd, context_id=odd, labels=[[odd, 'quote " and \\ slash']],
                meta={odd: odd, "path": "C:\\data\\x.jpg", "nested": {"s": "\\t literal"}},
                uri="s3://bucket/dir with spaces/x\\y.jpg")
    assert frames_upsert(draft, [doc]).failures == []
    draft = _fresh(draft)
    stored = frames_get(draft, [odd])[odd]
    assert stored["context_id"] == odd and stored["meta"] == doc["meta"]
    assert stored["rois"][0]["label"] == doc["rois"][0]["label"]
    assert stored["sources"][0]["uri"] == "s3://bucket/dir with spaces/x\\y.jpg"
    assert _ids(draft, label=odd) == [odd] and _ids(draft, meta_key="path", meta_value="C:\\data\\x.jpg") == [odd]
    assert version_label_stats(draft)["labels"] == {odd: 1, 'quote " and \\ slash': 1}


def test_bad_frames_reported_good_ones_saved(draft):
    result = frames_upsert(draft, [frame("ok1"), {"id": "bad", "sources": []}, frame("ok2"), "junk"])
    assert result.saved == ["ok1", "ok2"]
    assert [(f.index, f.id, f.field) for f in result.failures] == [(1, "bad", "sources"), (3, None, "")]
    assert frames_count(_fresh(draft)) == 2


def test_meta_key_keeps_one_type_per_dataset(dataset, draft):
    frames_upsert(draft, [frame("a", meta={"weather": "sunny", "speed": 3})])
    result = frames_upsert(draft, [frame("b", meta={"speed": "fast"}), frame("c", meta={"speed": 5.5})])
    assert [(f.id, f.field) for f in result.failures] == [("b", "meta.speed")]
    assert "number" in result.failures[0].reason
    assert result.saved == ["c"]
    other_version = version_create(dataset, version_name="root2")
    again = frames_upsert(other_version, [frame("d", meta={"weather": 1})])
    assert again.failures[0].field == "meta.weather"


def test_update_merges_meta_and_keeps_rest(draft):
    frames_upsert(draft, [frame("a", labels=[["car"]], meta={"x": 1, "y": "keep"})])
    result = frames_update(draft, [{"id": "a", "meta": {"x": 2}}, {"id": "zzz", "meta": {}}, {"meta": {}}])
    assert result.saved == ["a"]
    assert [(f.index, f.field) for f in result.failures] == [(1, "id"), (2, "id")]
    got = frames_get(_fresh(draft), ["a"])["a"]
    assert got["meta"] == {"x": 2, "y": "keep"} and got["rois"][0]["label"] == ["car"]


def test_delete_frames(draft):
    frames_upsert(draft, [frame("a"), frame("b")])
    result = frames_delete(draft, ["a", "missing"])
    assert (result.deleted, result.missing) == (["a"], ["missing"])
    assert _ids(_fresh(draft)) == ["b"]
    assert frames_count(_fresh(draft)) == 1
    with pytest.raises(InvalidInput):
        frames_delete(draft, [5])


def test_stats_follow_writes(draft):
    frames_upsert(draft, [frame("a", labels=[["car"], ["car", "red"]]), frame("b"),
                          {**frame("c", labels=[["dog"]]), "sources": [{"uri": "s3://b/c.png"}]}])
    stats = version_label_stats(_fresh(draft))
    assert stats == {"frames": 3, "annotated": 2, "unannotated": 1,
                     "labels": {"car": 2, "dog": 1, "red": 1},
                     "content_types": {"image/jpeg": 2, "image/png": 1}}
    frames_delete(draft, ["a"])
    stats = version_label_stats(_fresh(draft))
    assert stats["labels"] == {"dog": 1} and stats["annotated"] == 1 and stats["frames"] == 2


def test_label_and_meta_filtered_pages(draft):
    frames_upsert(draft, [frame(f"f{i}", labels=[["rare"]] if i % 4 == 0 else [["common"]],
                                meta={"cam": "left" if i % 2 else "right", "n": i, "ok": i < 5}) for i in range(12)])
    draft = _fresh(draft)
    assert _ids(draft, label="rare") == ["f0", "f4", "f8"]
    assert _ids(draft, label="absent") == []
    assert _ids(draft, meta_key="cam", meta_value="left") == [f"f{i}" for i in sorted(range(1, 12, 2), key=str)]
    assert _ids(draft, meta_key="n", meta_value=3) == ["f3"]
    assert len(_ids(draft, meta_key="ok", meta_value=True)) == 5


def test_bad_page_arguments(draft):
    with pytest.raises(InvalidInput, match="limit"):
        frames_page(draft, limit=0)
    with pytest.raises(InvalidInput, match="cursor"):
        frames_page(draft, cursor="garbage!!")
    with pytest.raises(InvalidInput, match="meta_value"):
        frames_page(draft, meta_key="a", meta_value=[1])


def test_child_inherits_and_edits_without_touching_parent(dataset, draft):
    frames_upsert(draft, [frame(f"f{i}", labels=[["a"]]) for i in range(5)])
    parent_rows_before = Frame.objects.filter(version=draft).count()
    child = snapshot_create(dataset)
    parent = _fresh(draft)
    assert parent.status == "published"
    assert _ids(child) == [f"f{i}" for i in range(5)]
    assert Frame.objects.filter(version=child).count() == 0  # nothing copied
    assert frames_count(child) == 5 and version_label_stats(child)["labels"] == {"a": 5}
    frames_upsert(child, [frame("f1", labels=[["b"]]), frame("new")])
    frames_delete(child, ["f2"])
    child = _fresh(child)
    assert _ids(child) == ["f0", "f1", "f3", "f4", "new"]
    assert frames_get(child, ["f1"])["f1"]["rois"][0]["label"] == ["b"]
    assert frames_count(child) == 5
    assert version_label_stats(child)["labels"] == {"a": 3, "b": 1}
    # parent untouched
    assert _ids(parent) == [f"f{i}" for i in range(5)]
    assert frames_get(parent, ["f1"])["f1"]["rois"][0]["label"] == ["a"]
    assert Frame.objects.filter(version=parent).count() == parent_rows_before
    # re-adding a deleted inherited frame works
    frames_upsert(child, [frame("f2")])
    assert "f2" in _ids(_fresh(child))


def test_several_parents_earlier_wins_and_tombstones_do_not_hide_later_parent(dataset, draft):
    frames_upsert(draft, [frame("shared", labels=[["root"]]), frame("gone-in-p1", labels=[["root"]])])
    root = version_publish(draft)
    p1 = version_create(dataset, version_name="p1", parent_version_names=[root.name])
    frames_upsert(p1, [frame("shared", labels=[["p1"]]), frame("only-p1")])
    frames_delete(p1, ["gone-in-p1"])
    p1 = version_publish(p1)
    p2 = version_create(dataset, version_name="p2", parent_version_names=[root.name])
    frames_upsert(p2, [frame("shared", labels=[["p2"]]), frame("gone-in-p1", labels=[["p2"]]), frame("only-p2")])
    p2 = version_publish(p2)
    merged = version_create(dataset, version_name="merged", parent_version_names=["p1", "p2"])
    got = frames_get(merged, ["shared", "gone-in-p1", "only-p1", "only-p2"])
    assert got["shared"]["rois"][0]["label"] == ["p1"]  # earlier parent wins
    assert got["gone-in-p1"]["rois"][0]["label"] == ["p2"]  # p1 does not hold it; p2 does
    assert set(got) == {"shared", "gone-in-p1", "only-p1", "only-p2"}
    assert frames_count(merged) == 4
    assert version_label_stats(merged)["labels"] == {"p1": 1, "p2": 1}
    other_order = version_create(dataset, version_name="merged-21", parent_version_names=["p2", "p1"])
    assert frames_get(other_order, ["shared"])["shared"]["rois"][0]["label"] == ["p2"]


def test_published_version_refuses_every_frame_write(draft):
    frames_upsert(draft, [frame("a")])
    published = version_publish(draft)
    for call in (lambda: frames_upsert(published, [frame("b")]),
                 lambda: frames_update(published, [{"id": "a", "meta": {"x": 1}}]),
                 lambda: frames_delete(published, ["a"])):
        with pytest.raises(StateConflict, match="Published and read-only"):
            call()
    assert _ids(_fresh(published)) == ["a"]


def test_database_refuses_frame_rows_in_published_version(draft):
    frames_upsert(draft, [frame("a")])
    published = version_publish(draft)
    with pytest.raises(IntegrityError), transaction.atomic():
        Frame.objects.filter(version=published).update(frame_id="changed")
    row = Frame.objects.get(version=published)
    with pytest.raises(IntegrityError), transaction.atomic():
        Frame.objects.create(dataset_id=row.dataset_id, version=published, frame_id="sneaky", context_id="x")
    assert list(Frame.objects.filter(version=published).values_list("frame_id", flat=True)) == ["a"]
    assert connection.vendor in {"sqlite", "postgresql"}


def test_write_is_atomic_on_database_error(draft, monkeypatch):
    frames_upsert(draft, [frame("a")])
    from hyperdatasets.services import frames as frames_module

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # Fails after the frame rows were streamed: the whole write must roll back.
    monkeypatch.setattr(frames_module, "frame_labels_replace", broken)
    with pytest.raises(RuntimeError):
        frames_upsert(draft, [frame("a", labels=[["x"]]), frame("b")])
    draft = _fresh(draft)
    assert _ids(draft) == ["a"] and frames_count(draft) == 1


def test_diff_between_versions(dataset, draft):
    frames_upsert(draft, [frame("same"), frame("changed"), frame("removed")])
    child = snapshot_create(dataset)
    frames_upsert(child, [frame("changed", labels=[["x"]]), frame("added"), frame("same")])
    frames_delete(child, ["removed"])
    base = _fresh(draft)
    assert sorted(versions_diff(base, child)) == [("added", "added"), ("modified", "changed"),
                                                  ("removed", "removed")]
    counts = versions_diff_counts(base, child)
    assert (counts.added, counts.removed, counts.modified) == (1, 1, 1)
    assert sorted(versions_diff(child, base)) == [("added", "removed"), ("modified", "changed"),
                                                  ("removed", "added")]
    other = dataset_create(dataset_name="other")
    with pytest.raises(InvalidInput):
        list(versions_diff(base, version_head(other)))


def test_delete_dataset_with_frames(dataset, draft):
    from hyperdatasets.models import FrameLabel
    from hyperdatasets.selectors.frames import labels_in_frame_rows
    from hyperdatasets.services.datasets import dataset_delete

    kept = version_head(dataset_create(dataset_name="kept"))
    frames_upsert(kept, [frame("k", labels=[["x"]])])
    frames_upsert(draft, [frame("a", labels=[["x"]], meta={"k": 1})])
    snapshot_create(dataset)
    dataset_delete(dataset, delete_all_versions=True, force=True)
    # The rows have no database key to the dataset: the delete itself removes them (and only them).
    assert list(Frame.objects.values_list("frame_id", flat=True)) == ["k"]
    expected_label_rows = [] if labels_in_frame_rows() else ["k"]  # PostgreSQL indexes the frame rows
    assert list(FrameLabel.objects.values_list("frame_id", flat=True)) == expected_label_rows
    assert frames_page(version_head(kept.dataset), label="x").frames[0]["id"] == "k"


def test_rare_label_plan_resolves_through_ancestors(dataset, draft):
    from hyperdatasets.selectors import frame_pages as frame_selectors

    frames_upsert(draft, [frame(f"f{i:03d}", labels=[["rare"]] if i in (5, 50, 90) else [["common"]])
                          for i in range(100)])
    child = snapshot_create(dataset)
    frames_upsert(child, [frame("f050", labels=[["common"]]), frame("f060", labels=[["rare"]])])
    frames_delete(child, ["f090"])
    child = _fresh(child)
    assert frame_selectors._label_is_rare(child, "rare")
    assert not frame_selectors._label_is_rare(child, "common")
    assert _ids(child, label="rare") == ["f005", "f060"]
    assert _ids(_fresh(draft), label="rare") == ["f005", "f050", "f090"]
    common = _ids(child, label="common")
    assert len(common) == 97 and "f050" in common and "f060" not in common
