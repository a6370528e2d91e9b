import pytest

from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


def _head(client, dataset):
    return client.get(f"/api/datasets/{dataset.pk}/head/").json()


def test_snapshot_child_publish_and_lookups(clients, dataset):
    client = clients["write"]
    current = _head(client, dataset)
    child = client.post(f"/api/datasets/{dataset.pk}/snapshot/", {"publish_name": "v1", "child_name": "work",
                        "child_metadata": {"abc": "1234"}, "child_comment": "c"}, format="json")
    assert child.status_code == 201
    child = child.json()
    assert child["name"] == "work" and child["parent_ids"] == [current["id"]] and child["metadata"] == {"abc": "1234"}
    snap = client.get(f"/api/versions/{current['id']}/").json()
    assert snap["name"] == "v1" and snap["status"] == "published"
    branch = client.post(f"/api/datasets/{dataset.pk}/versions/", {"version_name": "branch",
                         "parent_version_names": ["v1"]}, format="json")
    assert branch.status_code == 201 and branch.json()["parent_ids"] == [current["id"]]
    again = client.post(f"/api/datasets/{dataset.pk}/versions/", {"version_name": "branch",
                        "parent_version_names": ["v1"], "raise_if_exists": True}, format="json")
    assert again.status_code == 409
    draft_parent = client.post(f"/api/datasets/{dataset.pk}/versions/", {"version_name": "x",
                               "parent_version_names": ["work"]}, format="json")
    assert draft_parent.status_code == 409 and error_of(draft_parent)["code"] == "state_conflict"
    root = client.post(f"/api/datasets/{dataset.pk}/versions/", {"version_name": "root2"}, format="json")
    assert root.json()["parent_ids"] == []
    names = [v["name"] for v in client.get(f"/api/datasets/{dataset.pk}/versions/").json()["results"]]
    assert names == ["v1", "work", "branch", "root2"]
    published = client.get(f"/api/datasets/{dataset.pk}/versions/?only_published=true").json()["results"]
    assert [v["name"] for v in published] == ["v1"]
    both = client.get(f"/api/datasets/{dataset.pk}/versions/?only_published=1&only_draft=1")
    assert both.status_code == 400
    lookup = client.get(f"/api/datasets/{dataset.pk}/versions/lookup/").json()
    assert lookup["version"]["name"] == "branch" and "4 versions" in lookup["warning"]  # depth 1, newest
    named = client.get(f"/api/datasets/{dataset.pk}/versions/lookup/?version_name=v1").json()
    assert named["version"]["id"] == current["id"] and named["warning"] is None
    assert client.get(f"/api/datasets/{dataset.pk}/versions/lookup/?version_name=nope").status_code == 404


def test_snapshot_outside_simple_structure_is_409(clients, dataset):
    client = clients["write"]
    client.post(f"/api/datasets/{dataset.pk}/versions/", {"version_name": "second"}, format="json")
    response = client.post(f"/api/datasets/{dataset.pk}/snapshot/", {}, format="json")
    assert response.status_code == 409 and "Draft" in error_of(response)["message"]


def test_publish_then_read_only(clients, dataset):
    client = clients["write"]
    head = _head(client, dataset)
    assert client.post(f"/api/versions/{head['id']}/publish/").json()["status"] == "published"
    again = client.post(f"/api/versions/{head['id']}/publish/")
    assert again.status_code == 409
    for response in (
        client.patch(f"/api/versions/{head['id']}/", {"name": "x"}, format="json"),
        client.put(f"/api/versions/{head['id']}/metadata/", {"metadata": {"a": 1}}, format="json"),
        client.put(f"/api/versions/{head['id']}/mask-labels/", {"mask_labels": [{"value": [0, 0, 0],
                                                                                 "labels": ["bg"]}]}, format="json"),
        client.post(f"/api/versions/{head['id']}/frames/", {"frames": []}, format="json"),
        client.delete(f"/api/versions/{head['id']}/"),
    ):
        assert response.status_code == 409, response.content
        assert "read-only" in error_of(response)["message"]


def test_metadata_and_mask_labels(clients, dataset):
    client = clients["write"]
    head = _head(client, dataset)
    url = f"/api/versions/{head['id']}/"
    assert client.put(url + "metadata/", {"metadata": {"k": "v"}}, format="json").json() == {"metadata": {"k": "v"}}
    entries = [{"value": [0, 0, 0], "labels": ["background"]}, {"value": [1, 1, 1], "labels": ["person", "sitting"]}]
    assert client.put(url + "mask-labels/", {"mask_labels": entries}, format="json").json()["mask_labels"] == entries
    assert client.get(url + "metadata/").json()["metadata"] == {"k": "v", "mask_labels": {"_all_": entries}}
    bad = client.put(url + "mask-labels/", {"mask_labels": [{"value": [0, 0, 300], "labels": ["x"]}]}, format="json")
    assert bad.status_code == 400 and "mask_labels" in error_of(bad)["details"]
    short = client.put(url + "mask-labels/", {"mask_labels": [{"value": [0, 0], "labels": ["x"]}]}, format="json")
    assert short.status_code == 400
    assert client.put(url + "metadata/", {"metadata": [1]}, format="json").status_code == 400


def test_rename_and_delete_draft(clients, dataset):
    client = clients["write"]
    version = client.post(f"/api/datasets/{dataset.pk}/versions/", {"version_name": "tmp"}, format="json").json()
    assert client.patch(f"/api/versions/{version['id']}/", {"name": "Current"}, format="json").status_code == 409
    assert client.patch(f"/api/versions/{version['id']}/", {"name": "tmp2", "comment": "c"},
                        format="json").json()["name"] == "tmp2"
    assert client.delete(f"/api/versions/{version['id']}/").status_code == 204
    assert client.get(f"/api/versions/{version['id']}/").status_code == 404


def test_version_tags_are_ordered_idempotent_and_frozen_when_published(clients, dataset):
    client = clients["write"]
    head = client.get(f"/api/datasets/{dataset.pk}/head/").json()
    assert head["tags"] == []
    url = f"/api/versions/{head['id']}/tags/"
    assert client.post(url + "add/", {"tags": ["train", "night"]}, format="json").json()["tags"] == ["train", "night"]
    again = client.post(url + "add/", {"tags": ["night", "v2"]}, format="json")
    assert again.json()["tags"] == ["train", "night", "v2"]
    assert client.post(url + "remove/", {"tags": ["night", "absent"]}, format="json").json()["tags"] == ["train", "v2"]
    assert client.post(url + "add/", {"tags": [""]}, format="json").status_code == 400
    assert clients["read"].post(url + "add/", {"tags": ["x"]}, format="json").status_code == 403
    assert client.post(f"/api/versions/{head['id']}/publish/", {}, format="json").status_code == 200
    refused = client.post(url + "add/", {"tags": ["later"]}, format="json")
    assert refused.status_code == 409 and "Published and read-only" in refused.json()["error"]["message"]
    assert client.get(f"/api/versions/{head['id']}/").json()["tags"] == ["train", "v2"]
