"""The ClearML face under attack and under bad input: every id taken from a request is checked against the
caller's project rights (another user's dataset, version, scroll or file is "not found"; a reader cannot
write), the files host never leaves its dataset's paths nor serves active content, and bad bodies are 4xx
answers in the full envelope, never a 500."""

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clearml_api.credentials import credential_create, token_issue
from hyperdatasets.models import AccessRole, DatasetVersion, ProjectAccessRule
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.projects import project_rule_delete, project_rule_set
from hyperdatasets.services.versions import version_publish
from tests.factories import frame

pytestmark = pytest.mark.django_db


def _bearer(user) -> str:
    credential, _ = credential_create(user, "tests")
    return f"Bearer {token_issue(credential)}"


def _call(client, auth, endpoint, body):
    response = client.post(f"/clearml/v2.23/{endpoint}", orjson.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=auth)
    meta = response.json()["meta"]
    assert meta["result_code"] == response.status_code and meta["endpoint"]["name"] == endpoint
    assert response.status_code < 500, meta
    return response.status_code, meta, response.json()["data"]


@pytest.fixture
def setting(django_user_model):
    owner = django_user_model.objects.create_user(username="owner", password="x")
    reader = django_user_model.objects.create_user(username="reader", password="x")
    stranger = django_user_model.objects.create_user(username="stranger", password="x")
    dataset = dataset_create(dataset_name="private", dataset_project="Lab", user=owner)
    project_rule_set(dataset.project, role=AccessRole.READ, user=reader)
    draft = version_head(dataset)
    assert frames_upsert(draft, [frame(f"f{i}", labels=[["cat"]]) for i in range(3)]).failures == []
    return {"owner": _bearer(owner), "reader": _bearer(reader), "stranger": _bearer(stranger),
            "dataset": dataset.pk.hex, "version": draft.pk.hex, "draft": draft}


def _inline(setting) -> dict:
    return {"versions": [{"dataset": setting["dataset"], "version": setting["version"]}],
            "filters": [{"dataset": setting["dataset"], "version": setting["version"], "weight": 1}],
            "iteration": {"order": "sequential", "infinite": False}}


def test_another_users_dataset_is_not_found_and_a_reader_cannot_write(client, setting):
    stranger, reader = setting["stranger"], setting["reader"]
    for endpoint, body in [
        ("datasets.get_by_id", {"dataset": setting["dataset"]}),
        ("datasets.get_versions", {"dataset": setting["dataset"]}),
        ("datasets.save_frames", {"version": setting["version"], "frames": [frame("x")]}),
        ("datasets.delete_frames", {"version": setting["version"], "frames": ["f0"]}),
        ("datasets.delete", {"dataset": setting["dataset"], "delete_all_versions": True, "force": True}),
        ("datasets.create_version", {"dataset": setting["dataset"], "name": "mine"}),
        ("datasets.commit_version", {"version": setting["version"], "publish": True}),
        ("frames.get_next_for_dataview", {"dataview": _inline(setting)}),
        ("frames.get_count_for_dataview", {"dataview": _inline(setting)}),
    ]:
        status, meta, _ = _call(client, stranger, endpoint, body)
        assert status == 400 and meta["result_subcode"] in (101, 112), (endpoint, meta)
        assert "does not exist" in meta["result_msg"] or "Invalid" in meta["result_msg"], (endpoint, meta)
    assert _call(client, stranger, "datasets.get_all", {})[2] == {"datasets": []}

    status, meta, _ = _call(client, reader, "datasets.save_frames",
                            {"version": setting["version"], "frames": [frame("x")]})
    assert status == 403 and "write role" in meta["result_msg"]
    status, _, data = _call(client, reader, "frames.get_count_for_dataview", {"dataview": _inline(setting)})
    assert status == 200 and data["total"] == 3


def test_a_scroll_is_its_creators_alone(client, setting, django_user_model):
    owner = setting["owner"]
    status, _, first = _call(client, owner, "frames.get_next_for_dataview",
                             {"dataview": _inline(setting), "batch_size": 2})
    assert status == 200 and [f["id"] for f in first["frames"]] == ["f0", "f1"] and not first["eof"]
    # The reader may read the dataset, but not the owner's scroll.
    status, meta, _ = _call(client, setting["reader"], "frames.get_next_for_dataview",
                            {"dataview": _inline(setting), "scroll_id": first["scroll_id"]})
    assert status == 400 and "no such scroll" in meta["result_msg"]
    status, _, second = _call(client, owner, "frames.get_next_for_dataview",
                              {"dataview": _inline(setting), "scroll_id": first["scroll_id"], "batch_size": 2})
    assert [f["id"] for f in second["frames"]] == ["f2"] and second["eof"]
    status, _, again = _call(client, owner, "frames.get_next_for_dataview",
                             {"dataview": _inline(setting), "scroll_id": second["scroll_id"], "batch_size": 2,
                              "reset_scroll": True, "force_scroll_id": True})
    assert [f["id"] for f in again["frames"]] == ["f0", "f1"]
    for forged in ("not-a-scroll", "eyJ4IjoxfQ", 17):
        status, meta, _ = _call(client, owner, "frames.get_next_for_dataview",
                                {"dataview": _inline(setting), "scroll_id": forged})
        assert status == 400, meta
    # Losing read on the dataset ends the scroll.
    reader_user = django_user_model.objects.get(username="reader")
    status, _, mine = _call(client, setting["reader"], "frames.get_next_for_dataview",
                            {"dataview": _inline(setting), "batch_size": 1})
    project_rule_delete(ProjectAccessRule.objects.get(user=reader_user))
    status, meta, _ = _call(client, setting["reader"], "frames.get_next_for_dataview",
                            {"dataview": _inline(setting), "scroll_id": mine["scroll_id"]})
    assert status == 403, meta


def _upload(client, auth, path, content=b"\x89PNG\r\n", name="x.png"):
    return client.post("/clearml/files/", {path: SimpleUploadedFile(name, content)}, HTTP_AUTHORIZATION=auth)


def test_the_files_host_keeps_to_its_datasets_paths(client, setting):
    path = f"/hyperdatasets/{setting['dataset']}/{setting['version']}/img.png"
    assert _upload(client, setting["stranger"], path).status_code == 403
    assert _upload(client, setting["reader"], path).status_code == 403
    assert _upload(client, setting["owner"], "/anywhere/img.png").status_code == 403
    for traversal in (f"/hyperdatasets/{setting['dataset']}/{setting['version']}/../../../etc/passwd",
                      "/../secret.png", "/a//b.png", "/a/./b.png"):
        assert _upload(client, setting["owner"], traversal).status_code == 400, traversal
    assert client.post("/clearml/files/", {path: SimpleUploadedFile("x.png", b"x")}).status_code == 401
    assert client.post("/clearml/files/", {path: SimpleUploadedFile("x.png", b"x")},
                       HTTP_AUTHORIZATION="Bearer forged").status_code == 401

    stored = _upload(client, setting["owner"], path, b"\x89PNG-image-bytes")
    assert stored.status_code == 200 and stored.json()["saved"][0]["bytes"] == 16
    url = f"/clearml/files{path}"
    image = client.get(url, HTTP_AUTHORIZATION=setting["reader"])
    assert image.status_code == 200 and b"".join(image.streaming_content) == b"\x89PNG-image-bytes"
    assert image["Content-Type"] == "image/png" and image["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in image["Content-Security-Policy"]
    assert client.get(url, HTTP_AUTHORIZATION=setting["stranger"]).status_code == 404
    assert client.get(url).status_code == 401

    page = f"/hyperdatasets/{setting['dataset']}/{setting['version']}/page.html"
    assert _upload(client, setting["owner"], page, b"<script>alert(1)</script>", "page.html").status_code == 200
    html = client.get(f"/clearml/files{page}", HTTP_AUTHORIZATION=setting["owner"])
    assert html["Content-Type"] == "application/octet-stream" and html["Content-Disposition"].startswith("attachment")

    version_publish(DatasetVersion.objects.get(pk=setting["draft"].pk))
    replaced = _upload(client, setting["owner"], path, b"changed")
    assert replaced.status_code == 403 and "Published" in replaced.json()["error"]
    assert b"".join(client.get(url, HTTP_AUTHORIZATION=setting["owner"]).streaming_content) == b"\x89PNG-image-bytes"


@pytest.mark.parametrize("endpoint, body", [
    ("datasets.save_frames", {"version": "{version}", "frames": "not a list"}),
    ("datasets.save_frames", {"version": "not-an-id", "frames": []}),
    ("datasets.delete_frames", {"version": "{version}", "frames": [1, 2]}),
    ("datasets.create", {"name": ["x"]}),
    ("datasets.create", {"name": "vectors", "field_mappings": {"meta.v": {"type": "dense_vector", "dims": 4}}}),
    ("datasets.create_version", {"dataset": "{dataset}", "name": "child", "parent": "{version}"}),
    ("datasets.update_version", {"version": "{version}", "metadata": "not an object"}),
    ("frames.get_next_for_dataview", {"dataview": "not an object"}),
    ("frames.get_next_for_dataview", {"dataview": {"versions": [{"dataset": "{dataset}", "version": "{version}"}],
                                                   "iteration": {"order": "backwards"}}}),
    ("frames.get_next_for_dataview", {"dataview": {"versions": [{"dataset": "{dataset}", "version": "{version}"}],
                                                   "filters": [{"dataset": "{dataset}", "frame_query": "meta.x:("}]}}),
    ("frames.get_next_for_dataview", {"dataview": {"versions": [{"dataset": "{dataset}", "version": "{version}"}]},
                                      "batch_size": -1}),
    ("frames.get_count_for_dataview", {"dataview": {"versions": "all"}}),
    ("dataviews.create", {"name": "v", "versions": [{"dataset": "{dataset}", "version": "{version}"}],
                          "mapping": ["not", "an", "object"]}),
    ("dataviews.update", {"dataview": "0" * 32, "filters": []}),
])
def test_bad_input_is_refused_with_the_field_and_the_rule(client, setting, endpoint, body):
    raw = orjson.dumps(body).decode().replace("{version}", setting["version"]).replace("{dataset}", setting["dataset"])
    status, meta, _ = _call(client, setting["owner"], endpoint, orjson.loads(raw))
    assert 400 <= status < 500 and meta["result_msg"] and meta["result_msg"] != "OK", meta


def test_per_frame_errors_are_listed_and_the_valid_frames_saved(client, setting):
    frames = [frame("good"), {"id": "bad", "sources": [{"uri": "s3://b/x.jpg"}], "rois": [{"poly": [1, 2, 3]}]},
              {"id": "video", "sources": [{"uri": "s3://b/v.mp4"}], "video_gop": 2.0}, 17]
    status, _, data = _call(client, setting["owner"], "datasets.save_frames",
                            {"version": setting["version"], "frames": frames})
    assert status == 200 and data["saved"] == 1 and data["failed"] == 3 and data["ids"] == ["good"]
    errors = [(error["_id"].partition("/")[2], error["error"]) for error in data["errors"]]
    assert [frame_id for frame_id, _ in errors] == ["bad", "video", ""]
    assert "rois[0].poly" in errors[0][1] and "video_gop" in errors[1][1] and errors[2][1]
    assert all(error["_id"].startswith(setting["version"] + "/") for error in data["errors"])


def test_the_scroll_honours_limit_infinite_output_rois_and_projection(client, setting):
    owner, inline = setting["owner"], _inline(setting)

    def scroll(dataview, **extra):
        frames, body = [], {"dataview": dataview, "batch_size": 2, **extra}
        for _ in range(10):
            status, meta, data = _call(client, owner, "frames.get_next_for_dataview", body)
            assert status == 200, meta
            frames += data["frames"]
            if data["eof"]:
                return frames, True
            body = {**body, "scroll_id": data["scroll_id"]}
        return frames, False

    limited, eof = scroll({**inline, "iteration": {"order": "random", "random_seed": 7, "limit": 2}})
    assert eof and len(limited) == 2
    endless, eof = scroll({**inline, "iteration": {"order": "sequential", "infinite": True}})
    assert not eof and [f["id"] for f in endless[:6]] == ["f0", "f1", "f2", "f0", "f1", "f2"]
    per_roi, _ = scroll({**inline, "output_rois": "frame_per_roi",
                         "filters": [{**inline["filters"][0], "label_rules": [{"label": "cat"}]}]})
    assert [len(f["rois"]) for f in per_roi] == [1, 1, 1]
    projected, _ = scroll(inline, projection=["id", "dataset.version"])
    assert projected[0] == {"id": "f0", "dataset": {"version": setting["version"]}}
    whole, _ = scroll(inline)
    assert whole[0]["dataset"] == {"id": setting["dataset"], "version": setting["version"]}
    assert whole[0]["saved"] == whole[0]["updated"] and type(whole[0]["saved"]) is int
    assert whole[0]["saved_in_version"] == whole[0]["updated_in_version"] == setting["version"]
    assert whole[0]["rule_name"] == "rule_0"


def test_the_web_app_shows_files_host_uploads_of_the_frames_own_dataset_only(setting, django_user_model):
    """A frame naming another dataset's (or a made-up, or climbing) files-host path gets no link."""
    from hyperdatasets.models import Dataset
    from hyperdatasets.storage.serving import FileLinks

    owner = django_user_model.objects.get(username="owner")
    other = dataset_create(dataset_name="other", dataset_project="Elsewhere", user=owner)
    other_version = version_head(other)
    links = FileLinks(owner, Dataset.objects.get(pk=setting["draft"].dataset_id))
    own = f"http://h/clearml/files/hyperdatasets/{setting['dataset']}/{setting['version']}/a.png"
    assert links.url(own) == f"/clearml/files/hyperdatasets/{setting['dataset']}/{setting['version']}/a.png"
    for hostile in (f"http://h/clearml/files/hyperdatasets/{other.pk.hex}/{other_version.pk.hex}/a.png",
                    f"http://h/clearml/files/x/{setting['dataset']}/{other_version.pk.hex}/a.png",
                    f"http://h/clearml/files/{setting['dataset']}/{setting['version']}/../../etc/passwd",
                    "http://h/clearml/files/"):
        assert links.url(hostile) is None, hostile
