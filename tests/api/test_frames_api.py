import gzip

import orjson
import pytest

from tests.api.conftest import error_of
from tests.factories import frame

pytestmark = pytest.mark.django_db


@pytest.fixture
def head(clients, dataset):
    return clients["write"].get(f"/api/datasets/{dataset.pk}/head/").json()


def _post_json(client, url, body, **extra):
    return client.post(url, orjson.dumps(body), content_type="application/json", **extra)


def test_bulk_add_page_get_count_stats(clients, head):
    client = clients["write"]
    url = f"/api/versions/{head['id']}/frames/"
    frames = [frame(f"f{i:05d}", labels=[["car"]] if i % 2 else []) for i in range(10_000)]
    frames.append({"id": "bad", "sources": []})
    response = _post_json(client, url, {"frames": frames})
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["saved"] == 10_000 and body["failed"] == 1
    assert body["failures"] == [{"index": 10_000, "id": "bad", "field": "sources",
                                 "reason": "at least one source is required"}]
    assert "not saved" in body["batch"]
    assert client.get(url + "count/").json() == {"count": 10_000}
    stats = client.get(f"/api/versions/{head['id']}/stats/").json()
    assert stats["labels"] == {"car": 5000} and stats["annotated"] == 5000 and stats["unannotated"] == 5000
    page = client.get(url + "?limit=3").json()
    assert [f["id"] for f in page["frames"]] == ["f00000", "f00001", "f00002"]
    second = client.get(url + f"?limit=3&cursor={page['next_cursor']}").json()
    assert [f["id"] for f in second["frames"]] == ["f00003", "f00004", "f00005"]
    one = f"/api/versions/{head['id']}/frame/"
    assert client.get(one + "f00007/").json()["rois"][0]["label"] == ["car"]
    assert client.get(one + "nope/").status_code == 404
    lookup = _post_json(client, url + "lookup/", {"frame_ids": ["f00001", "zzz"]}).json()
    assert list(lookup["frames"]) == ["f00001"] and lookup["missing"] == ["zzz"]
    labelled = client.get(url + "?label=car&limit=2").json()
    assert [f["id"] for f in labelled["frames"]] == ["f00001", "f00003"]


def test_gzip_body_and_size_limit(clients, head, monkeypatch):
    client = clients["write"]
    url = f"/api/versions/{head['id']}/frames/"
    body = gzip.compress(orjson.dumps({"frames": [frame("zipped")]}))
    response = client.post(url, body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 200 and response.json()["saved_ids"] == ["zipped"]
    broken = client.post(url, b"not gzip", content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert broken.status_code == 400
    from hyperdatasets.api.views import frames as frame_views

    monkeypatch.setattr(frame_views.VersionFramesView, "max_body_bytes", 1000)
    big = _post_json(client, url, {"frames": [frame(f"x{i}") for i in range(50)]})
    bomb = client.post(url, gzip.compress(b" " * 100_000), content_type="application/json",
                       HTTP_CONTENT_ENCODING="gzip")
    assert big.status_code == 413 and error_of(big)["code"] == "too_large"
    assert bomb.status_code == 413


def test_update_delete_and_diff(clients, dataset, head):
    client = clients["write"]
    url = f"/api/versions/{head['id']}/frames/"
    _post_json(client, url, {"frames": [frame("a", meta={"x": 1}), frame("b"), frame("c")]})
    patched = client.patch(url, orjson.dumps({"frames": [{"id": "a", "meta": {"y": 2}}, {"id": "zz"}]}),
                           content_type="application/json").json()
    assert patched["saved_ids"] == ["a"] and patched["failures"][0]["id"] == "zz"
    assert client.get(f"/api/versions/{head['id']}/frame/a/").json()["meta"] == {"x": 1, "y": 2}
    child = client.post(f"/api/datasets/{dataset.pk}/snapshot/", {}, format="json").json()
    child_url = f"/api/versions/{child['id']}/frames/"
    deleted = _post_json(client, child_url + "delete/", {"frame_ids": ["b", "nope"]}).json()
    assert deleted == {"deleted": ["b"], "missing": ["nope"]}
    _post_json(client, child_url, {"frames": [frame("d"), frame("c", labels=[["new"]])]})
    diff = client.get(f"/api/versions/{head['id']}/diff/?other={child['id']}")
    assert diff.status_code == 200 and diff["Content-Type"] == "application/x-ndjson"
    lines = [orjson.loads(line) for line in b"".join(diff.streaming_content).splitlines()]
    assert sorted((x["change"], x["id"]) for x in lines[:-1]) == [("added", "d"), ("modified", "c"),
                                                                 ("removed", "b")]
    assert lines[-1] == {"counts": {"added": 1, "removed": 1, "modified": 1}}
    assert client.get(f"/api/versions/{head['id']}/diff/").status_code == 400


def test_frame_endpoint_refusals(clients, head):
    client = clients["write"]
    url = f"/api/versions/{head['id']}/frames/"
    assert _post_json(client, url, {"frames": "nope"}).status_code == 400
    assert _post_json(client, url, [frame("a")]).status_code == 400
    assert client.get(url + "?limit=0").status_code == 400
    assert client.get(url + "?limit=abc").status_code == 400
    assert client.get(url + "?cursor=garbage").status_code == 404  # as DRF answers a bad cursor
    assert client.get(url + "?meta_key=a").status_code == 200  # meta_key alone: the frames having the key
    assert _post_json(client, url + "delete/", {"frame_ids": [1]}).status_code == 400
    assert _post_json(client, url + "lookup/", {"frame_ids": [1]}).status_code == 400


def test_meta_filter(clients, head):
    client = clients["write"]
    url = f"/api/versions/{head['id']}/frames/"
    _post_json(client, url, {"frames": [frame("a", meta={"cam": "left", "n": 1}), frame("b", meta={"cam": "right"})]})
    assert [f["id"] for f in client.get(url + "?meta_key=cam&meta_value=left").json()["frames"]] == ["a"]
    assert [f["id"] for f in client.get(url + "?meta_key=n&meta_value=1").json()["frames"]] == ["a"]


def test_upload(clients, dataset, tmp_path, settings):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (5, 7)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "cam.png"
    response = clients["write"].post(f"/api/datasets/{dataset.pk}/uploads/", {"file": buffer, "kind": "mask"},
                                     format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["uri"].startswith("file://") and response.json()["width"] == 5
    missing = clients["write"].post(f"/api/datasets/{dataset.pk}/uploads/", {"kind": "mask"}, format="multipart")
    assert missing.status_code == 400 and "file" in error_of(missing)["details"]
    assert clients["read"].post(f"/api/datasets/{dataset.pk}/uploads/", {"file": buffer},
                                format="multipart").status_code == 403


def _varied_frames():
    return [
        frame("plain", labels=[["car"], ["person", "person"]], meta={"n": 1, "x": 2.5, "deep": {"k": [1, "a"]}},
              context_id="seq\t1", timestamp=5),
        {"id": "group", "sources": [
            {"id": "left", "uri": "/data/left.png", "masks": [{"uri": "s3://b/m0.png"}, {"id": "x", "uri": "s3://b/m1"}]},
            {"id": "right", "uri": "gs://b/right.jpg", "preview": {"uri": "https://cdn/r.webp"}, "timestamp": 9}],
         "rois": [{"label": ["road"], "sources": ["left"], "mask": {"id": "x", "value": [1, 2, 3]},
                   "meta": {"_type": "mask"}},
                  {"label": ["night"]},
                  {"poly": [0, 0, 1.5, 0, 1, 1e20, -999999999, 5, 5, 6, 5, 6, 6], "meta": {"_type": "p2d"},
                   "confidence": 0}],
         "meta_blob": {"raw": [None, True, "é"]}},
        {"sources": [{"uri": "s3://b/no-id.jpg", "content_type": None, "width": None}], "timestamp": None},
    ]


def test_typed_and_plain_parsing_store_the_same_frames(clients, dataset, people):
    """A well-typed batch is decoded straight into structs; a batch with a bad frame is parsed as plain JSON
    and validated frame by frame. Both must store byte-identical frames."""
    from hyperdatasets.api.bodies import FramesParser
    from hyperdatasets.frame_documents import FrameDocument
    from hyperdatasets.services.datasets import dataset_create

    class Post:
        method = "POST"

    good = orjson.dumps({"frames": _varied_frames()})
    bad = orjson.dumps({"frames": [*_varied_frames(), {"id": "bad", "sources": [{"uri": "s3://b/x", "width": -1}]}]})
    assert all(type(f) is FrameDocument for f in FramesParser().decode(good, Post())["frames"])
    assert all(type(f) is dict for f in FramesParser().decode(bad, Post())["frames"])

    client = clients["write"]
    other = dataset_create(dataset_name="cars-2", dataset_project="vision", user=people["owner"])
    stored = []
    for target, body in ((dataset, good), (other, bad)):
        version = client.get(f"/api/datasets/{target.pk}/head/").json()["id"]
        response = client.post(f"/api/versions/{version}/frames/", body, content_type="application/json")
        assert response.status_code == 200, response.content
        result = response.json()
        assert result["saved"] == 3
        frames = client.get(f"/api/versions/{version}/frames/?limit=10").json()["frames"]
        stored.append({f["id"]: {k: v for k, v in f.items() if k not in ("saved", "saved_in_version")} for f in frames})
    assert result["failures"] == [{"index": 3, "id": "bad", "field": "sources[0].width",
                                   "reason": "Expected `int` >= 0"}]
    assert stored[0] == stored[1] and len(stored[0]) == 3
    assert stored[0]["group"]["sources"][0]["uri"] == "file:///data/left.png"
    assert stored[0]["group"]["sources"][0]["masks"][0]["id"] == "00"


# Frame ids that read like the names of the other frame endpoints, or hold slashes and URL syntax.
AWKWARD_IDS = ["count", "lookup", "delete", "history", "frame", "a/history", "count/", "a//b", "x?y=1", "50%", "#top",
               "frame-history/a", "..", "é/ü"]


def test_every_frame_id_reaches_its_own_frame(clients, head):
    from urllib.parse import quote

    client = clients["write"]
    url = f"/api/versions/{head['id']}/frames/"
    saved = _post_json(client, url, {"frames": [frame(fid, meta={"which": fid}) for fid in AWKWARD_IDS]}).json()
    assert saved["failed"] == 0, saved["failures"]
    for fid in AWKWARD_IDS:
        path = quote(fid, safe="")
        got = client.get(f"/api/versions/{head['id']}/frame/{path}/")
        assert got.status_code == 200 and got.json()["meta"] == {"which": fid}, fid
        put = client.put(f"/api/versions/{head['id']}/frame/{path}/",
                         orjson.dumps({**got.json(), "meta": {"which": fid, "put": True}}),
                         content_type="application/json")
        assert put.status_code == 200 and put.json()["id"] == fid, (fid, put.content[:300])
        history = client.get(f"/api/versions/{head['id']}/frame-history/{path}/")
        assert history.status_code == 200 and len(history.json()["edits"]) == 1, fid
    assert client.get(url + "count/").json() == {"count": len(AWKWARD_IDS)}


def test_an_idempotency_key_writes_once_and_answers_again(clients, head):
    client = clients["write"]
    url = f"/api/versions/{head['id']}/frames/"
    body = {"frames": [frame("a", meta={"x": 1})]}
    first = _post_json(client, url, body, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert first.status_code == 200 and not first.has_header("Idempotent-Replayed")
    client.patch(url, orjson.dumps({"frames": [{"id": "a", "meta": {"x": 2}}]}), content_type="application/json")
    again = _post_json(client, url, body, HTTP_IDEMPOTENCY_KEY="batch-1")  # the answer was lost, say
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert client.get(f"/api/versions/{head['id']}/frame/a/").json()["meta"] == {"x": 2}  # not written again
    reused = _post_json(client, url, {"frames": [frame("b")]}, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert reused.status_code == 409 and "another request" in error_of(reused)["message"]
    patched = client.patch(url, orjson.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert patched.status_code == 409  # another method
    bad = _post_json(client, url, body, HTTP_IDEMPOTENCY_KEY="has space")
    assert bad.status_code == 400 and list(error_of(bad)["details"]) == ["Idempotency-Key"]
    theirs = _post_json(clients["admin"], url, {"frames": [frame("c")]}, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert theirs.status_code == 200 and not theirs.has_header("Idempotent-Replayed")  # keys are per user
    assert client.get(url + "count/").json() == {"count": 2}
