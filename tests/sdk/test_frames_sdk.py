import pytest
from PIL import Image

from hyperdatasets.sdk import Dataset, DatasetVersion, FrameGroup, SingleFrame


def _frame(i, **extra):
    frame = SingleFrame(id=f"f{i}", source=f"s3://bucket/img/{i}.jpg", width=640, height=480,
                        metadata={"camera": "front", "n": i}, **extra)
    frame.add_annotation(box2d_xywh=(10, 20, 30, 40), labels=["car"], confidence=0.9)
    return frame


def test_add_iterate_get_and_failures(api):
    version = DatasetVersion.create_new_dataset(dataset_name="frames")
    frames = [_frame(i) for i in range(25)]
    frames[3].add_annotation(poly2d_xy=[[0, 0, 5, 0, 5, 5], [10, 10, 15, 10, 15, 15]], labels=["road"])
    frames[4].add_annotation(ellipse2d_xyrrt=(5, 5, 2, 1, 0.3), labels=["wheel"])
    frames[5].add_annotation(points2d_xy=[1, 2, 3, 4], labels=["joints"])
    frames[6].add_annotation(frame_class=["night"])
    broken = SingleFrame(id="broken", source=None)
    failed = version.add_frames(frames + [broken], batch_size=10)
    assert failed == [broken] and broken.failure["field"] == "sources[0].uri"
    assert version.get_frames_count() == 25
    got = list(version.iterate_frames(page_size=7))
    assert [f.id for f in got] == sorted(f"f{i}" for i in range(25)) or len(got) == 25
    assert len(got) == 25
    single = DatasetVersion.get_single_frame("f3", dataset_name="frames", version_name="Current")
    assert single.annotations[1]["poly"][6] == -999999999 and single.annotations[1]["meta"]["_type"] == "p2d"
    assert single.annotations[0]["poly"] == [10, 20, 40, 20, 40, 60, 10, 60]
    assert version.get_single_frame("f6").annotations[1]["label"] == ["night"]
    assert version.get_statistics()["labels"]["car"] == 25


def test_frame_group_round_trip_and_masks(api):
    version = DatasetVersion.create_new_dataset(dataset_name="groups")
    group = FrameGroup(id="g1")
    group["left"] = SingleFrame(source="gs://b/left.jpg", width=100, height=50, masks_source=["gs://b/left-m.png"])
    group["right"] = SingleFrame(source="azure://acct.blob.core.windows.net/c/right.jpg", preview_uri="https://x/r.jpg")
    group["left"].add_annotation(mask_rgb=(1, 1, 1), labels=["person"])
    group["right"].add_annotation(box2d_xywh=(0, 0, 5, 5), labels=["car"])
    assert version.add_frames([group]) == []
    back = version.get_single_frame("g1")
    assert isinstance(back, FrameGroup) and list(back) == ["left", "right"]
    assert back["left"].masks_source == {"00": "gs://b/left-m.png"}
    assert back["left"].annotations[0]["mask"] == {"id": "00", "value": [1, 1, 1]}
    assert back["right"].preview_uri == "https://x/r.jpg"


def test_update_delete_diff(api):
    version = DatasetVersion.create_new_dataset(dataset_name="edits")
    version.add_frames([_frame(i) for i in range(4)])
    child = DatasetVersion.create_snapshot(dataset_name="edits")
    assert child.update_frames([{"id": "f1", "meta": {"camera": "rear"}}]) == []
    assert child.get_single_frame("f1").metadata == {"camera": "rear", "n": 1}
    assert child.delete_frames(["f2", "nope"]) == ["nope"]
    child.add_frames([_frame(9)])
    parent = DatasetVersion.get_version(dataset_name="edits", version_id=version.id)
    changes = parent.diff(child)
    assert changes["added"] == ["f9"] and changes["removed"] == ["f2"] and changes["modified"] == ["f1"]
    assert changes["counts"] == {"added": 1, "removed": 1, "modified": 1}
    with pytest.raises(ValueError, match="read-only"):
        parent.add_frames([_frame(7)])


def test_local_files_uploaded_with_relative_paths(api, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    root = tmp_path / "dataset"
    (root / "cam1").mkdir(parents=True)
    Image.new("RGB", (8, 6)).save(root / "cam1" / "a.png")
    version = DatasetVersion.create_new_dataset(dataset_name="local")
    frame = SingleFrame(id="a", source=str(root / "cam1" / "a.png"))
    assert version.add_frames([frame], auto_upload_destination="raw", local_dataset_root_path=str(root)) == []
    stored = version.get_single_frame("a").source
    assert stored.startswith("file://") and stored.endswith("/sources/raw/cam1/a.png")
    assert (settings.MEDIA_ROOT / stored.split("/media/", 1)[1]).read_bytes() == (root / "cam1" / "a.png").read_bytes()


def test_errors_carry_the_server_message(api):
    with pytest.raises(LookupError, match="'nothing' does not exist"):
        Dataset.get(dataset_name="nothing")
    with pytest.raises(ValueError, match="dataset_name"):
        Dataset.create(dataset_name="")


def test_permission_error_without_token(live_server, transactional_db):
    from hyperdatasets import sdk

    sdk.configure(url=live_server.url, token="wrong")
    try:
        with pytest.raises(PermissionError):
            Dataset.create(dataset_name="x")
    finally:
        sdk.configure(url=None, token=None)


def test_batches_keep_failure_indexes_and_the_later_copy(api):
    version = DatasetVersion.create_new_dataset(dataset_name="batched")
    frames = [_frame(i) for i in range(35)]
    broken = SingleFrame(id="broken", source=None)
    frames.insert(14, broken)  # in the second of four batches
    failed = version.add_frames(frames, batch_size=10)
    assert failed == [broken] and version.last_failures[0]["index"] == 14
    assert version.get_frames_count() == 35
    # An id in two batches: the batches are written in order, so the later copy is the one kept.
    first, again = _frame(1), _frame(1)
    first.metadata, again.metadata = {"copy": "first"}, {"copy": "later"}
    assert version.add_frames([first, *(_frame(i) for i in range(100,110)), again], batch_size=6) == []
    assert version.get_single_frame("f1").metadata["copy"] == "later"


def test_every_frame_id_is_reachable_through_the_sdk(api):
    from tests.api.test_frames_api import AWKWARD_IDS

    ids = [*AWKWARD_IDS, ".", "../etc", "a/./b"]
    version = DatasetVersion.create_new_dataset(dataset_name="awkward")
    assert version.add_frames([SingleFrame(id=fid, source=f"s3://b/{i}.jpg", metadata={"which": fid})
                               for i, fid in enumerate(ids)]) == []
    for fid in ids:
        assert version.get_single_frame(fid).metadata == {"which": fid}, fid
    assert version.get_frames_count() == len(ids)


def test_uploading_a_folder_twice_registers_nothing_twice(api, tmp_path, settings):
    import hashlib

    settings.MEDIA_ROOT = tmp_path / "media"
    root = tmp_path / "dataset"
    root.mkdir()
    for name, colour in (("a.png", (1, 2, 3)), ("b.png", (4, 5, 6))):
        Image.new("RGB", (8, 6), colour).save(root / name)
    version = DatasetVersion.create_new_dataset(dataset_name="rerun")

    def run():  # frames without ids: each gets one from its stored source's URI
        frames = [SingleFrame(source=str(root / name)) for name in ("a.png", "b.png")]
        assert version.add_frames(frames, auto_upload_destination="raw", local_dataset_root_path=str(root)) == []

    run()
    first = sorted((f.id, f.source) for f in version.iterate_frames())
    run()
    assert sorted((f.id, f.source) for f in version.iterate_frames()) == first
    assert version.get_frames_count() == 2
    assert sorted(p.name for p in (settings.MEDIA_ROOT).rglob("*.png")) == ["a.png", "b.png"]
    stored = next(f for f in version.iterate_frames() if f.source.endswith("/a.png"))
    assert stored.source_meta["hash"] == hashlib.sha256((root / "a.png").read_bytes()).hexdigest()
    # Changed content at the same path: a file of its own, the first one untouched.
    Image.new("RGB", (8, 6), (9, 9, 9)).save(root / "a.png")
    run()
    assert version.get_frames_count() == 3 and len(list(settings.MEDIA_ROOT.rglob("*.png"))) == 3


def test_large_calls_are_split_and_a_failed_batch_is_reported_not_fatal(api, monkeypatch):
    import requests

    from hyperdatasets.sdk import datasets as sdk_datasets
    from hyperdatasets.sdk.client import _Client

    version = DatasetVersion.create_new_dataset(dataset_name="batches")
    client = _Client.get()
    client.backoff = 0.01
    real, seen = client.session.request, []

    def flaky(method, url, **kwargs):
        seen.append((method, url.rsplit("/api/", 1)[1]))
        frames_posts = sum(1 for m, u in seen if m == "POST" and u.endswith("/frames/"))
        if method == "POST" and url.endswith("/frames/") and frames_posts == 2:
            raise requests.ConnectionError("connection reset by peer")  # the second batch's first try
        if method == "PATCH" and sum(1 for m, _ in seen if m == "PATCH") == 2:
            response = requests.Response()
            response.status_code, response._content = 500, b'{"error": {"code": "server_error", "message": "boom"}}'
            return response
        return real(method, url, **kwargs)

    monkeypatch.setattr(client.session, "request", flaky)
    frames = [_frame(i) for i in range(7)]
    assert version.add_frames(frames, batch_size=3) == []  # the dropped request was sent again
    assert version.get_frames_count() == 7
    assert [m for m, u in seen if u.endswith("/frames/")] == ["POST", "POST", "POST", "POST"]
    updates = [{"id": f"f{i}", "meta": {"seen": True}} for i in range(7)]
    failed = version.update_frames(updates, batch_size=3)
    assert failed == updates[3:6]  # the second batch answered 500 on every try; the others were saved
    assert [f["index"] for f in version.last_failures] == [3, 4, 5]
    assert version.last_failures[0]["id"] == "f3" and "boom" in version.last_failures[0]["reason"]
    assert version.get_single_frame("f6").metadata["seen"] is True
    assert "seen" not in version.get_single_frame("f4").metadata
    monkeypatch.setattr(sdk_datasets, "LOOKUP_BATCH", 3)
    assert version.delete_frames([f"f{i}" for i in range(7)] + ["nope"]) == ["nope"]
    assert sum(1 for m, u in seen if u.endswith("/frames/delete/")) == 3
    assert version.get_frames_count() == 0


def test_bulk_context_sends_in_order_every_n_frames_and_on_exit(api, caplog):
    import logging

    version = DatasetVersion.create_new_dataset(dataset_name="bulk")
    version.add_frames([_frame(i) for i in range(2)])
    log = logging.getLogger("bulk-test")
    with caplog.at_level(logging.INFO, logger="bulk-test"), \
            version.get_bulk_context(flush_threshold=3, log=log, allow_update=True) as bulk:
        for i in range(2, 7):
            bulk.add_frame(_frame(i))
            if i == 4:
                assert version.get_frames_count() == 5  # three operations: sent
        bulk.update({"id": "f0", "meta": {"checked": True}})  # a merge: the rest of f0 stays
        bulk.delete("f1")
        bulk.delete("absent")
        assert version.get_frames_count() == 7  # f5, f6 and the update were the next three; the deletes wait
    assert version.get_frames_count() == 6 and bulk.missing == ["absent"]
    assert version.get_single_frame("f0").metadata == {"camera": "front", "n": 0, "checked": True}
    assert bulk.stats["frames"] == 6 and bulk.stats["labels"]["car"] == 6
    assert "bulk context: add 3 frames, 0 failed" in caplog.text
    with version.get_bulk_context(refresh_version_stats=False) as overwrite:
        overwrite.update({"id": "f0", "sources": [{"uri": "s3://bucket/other.jpg"}]})  # no allow_update: replaced
        overwrite.add_frame(SingleFrame(id="bad", source=None))
    assert version.get_single_frame("f0").metadata == {} and overwrite.stats is None
    assert [f["id"] for f in overwrite.last_failures] == ["bad"] and len(overwrite.failed) == 1


def test_annotation_objects_and_the_clearml_calls_around_them(api):
    from hyperdatasets.sdk import Annotation, ImageAnnotation

    assert Annotation.get_type() == "roi" and ImageAnnotation.get_type() == "image"
    version = DatasetVersion.create_new_dataset(dataset_name="annotations")
    group = FrameGroup(id="g", left=SingleFrame(source="s3://b/l.jpg"), right=SingleFrame(source="s3://b/r.jpg"))
    group.add_global_annotation(annotation=ImageAnnotation(labels=["night"], confidence=0.7))
    group["left"].add_annotation(annotation=Annotation(values=[0, 0, 4, 0, 4, 4], labels=["sign"],
                                                       metadata={"_type": "p2d"}, id="s1"))
    with pytest.raises(ValueError, match="no values"):
        group.add_global_annotation(annotation=Annotation(values=[1, 2], labels=["x"]))
    assert version.add_frames([group, _frame(1)]) == []
    assert version.commit_version()["frames"] == 2
    read = version.get_single_frame("g")
    assert [(r["label"], r["confidence"]) for r in read.global_annotations] == [(["night"], 0.7)]
    assert read["left"].annotations[0]["id"] == "s1" and read["left"].annotations[0]["poly"] == [0, 0, 4, 0, 4, 4]
    assert [f.id for f in version.get_single_frames(["f1", "nope", "g"])] == ["f1", "g"]


def test_datasets_are_filtered_by_every_tag_on_the_server(api, monkeypatch):
    from hyperdatasets.sdk.client import _Client

    for name, tags in (("a", ["coco", "cars"]), ("b", ["coco"]), ("c", ["cars"])):
        Dataset.create(dataset_name=f"tagged-{name}", tags=tags)
    asked = []
    session = _Client.get().session
    real = session.request
    monkeypatch.setattr(session, "request", lambda method, url, **kw: asked.append(kw.get("params")) or
                        real(method, url, **kw))
    assert [d.name for d in Dataset.list(tags=["coco", "cars"])] == ["tagged-a"]
    assert asked == [{"tag": ["coco", "cars"]}]
    assert [d.name for d in Dataset.list(tags=["coco"])] == ["tagged-a", "tagged-b"]
    assert [d.name for d in DatasetVersion.get_datasets(tags=["cars"])] == ["tagged-a", "tagged-c"]


def test_version_tags_through_the_sdk(api):
    version = DatasetVersion.create_new_dataset(dataset_name="version-tags")
    assert version.add_tags(["a", "b"]) == ["a", "b"] and version.remove_tags(["a"]) == ["b"]
    assert DatasetVersion.get_current(dataset_name="version-tags").tags == ["b"]
    version.publish_version()
    with pytest.raises(ValueError, match="Published and read-only"):
        version.add_tags(["c"])


def test_clearml_arguments_of_single_frame_and_add_frames(api, monkeypatch):
    from hyperdatasets.sdk.client import _Client

    version = DatasetVersion.create_new_dataset(dataset_name="clearml-args")
    frame = SingleFrame(id="a", source="s3://b/a.jpg", hash="abc", size=1234, preview_uri="s3://b/a-small.jpg",
                        preview_uri_timestamp=7)
    session = _Client.get().session
    real, posts = session.request, []
    monkeypatch.setattr(session, "request", lambda method, url, **kw: (posts.append(url) if method == "POST" else None)
                        or real(method, url, **kw))
    many = [frame] + [_frame(i) for i in range(9)]
    assert version.add_frames(many, max_request_size_mb=0.0003) == []  # 314 bytes a request: one frame each
    assert sum(url.endswith("/frames/") for url in posts) == 10
    read = version.get_single_frame("a")
    assert read.source_meta == {"hash": "abc", "size": 1234} and read.preview_uri_timestamp == 7
    with pytest.raises(ValueError, match="upload_retries"):
        version.add_frames([frame], upload_retries=0)


def test_a_batch_whose_answer_is_lost_is_sent_again_and_written_once(api, monkeypatch):
    import requests

    from hyperdatasets.sdk.client import _Client

    version = DatasetVersion.create_new_dataset(dataset_name="lost-answers")
    client = _Client.get()
    client.backoff = 0.01
    real, sent = client.session.request, []

    def losing_the_first_answer(method, url, **kwargs):
        response = real(method, url, **kwargs)
        if method == "POST" and url.endswith("/frames/"):
            sent.append((kwargs["headers"]["Idempotency-Key"], response.headers.get("Idempotent-Replayed")))
            if len(sent) == 1:
                raise requests.ConnectionError("the answer was lost")
        return response

    monkeypatch.setattr(client.session, "request", losing_the_first_answer)
    assert version.add_frames([_frame(i) for i in range(3)]) == []
    assert len(sent) == 2 and sent[0][0] == sent[1][0] and sent[1][1] == "true"  # one key; answered again
    assert version.get_frames_count() == 3
