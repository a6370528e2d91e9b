"""The rules the OpenAPI contract states (issue 16), each read back through the API."""

import orjson
import pytest

from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


def _put_json(client, url, body, **extra):
    return client.put(url, orjson.dumps(body), content_type="application/json", **extra)


def test_nul_in_any_query_parameter_is_400_naming_it(clients, dataset):
    for url in ("/api/datasets/lookup/head/?dataset_name=cars&dataset_project=vi%00sion",
                "/api/datasets/?tag=a%00", f"/api/datasets/{dataset.pk}/versions/lookup/?version_name=%00"):
        response = clients["write"].get(url)
        assert response.status_code == 400, url
        assert error_of(response)["message"].endswith("must not contain NUL characters")
    assert clients["write"].get("/api/datasets/?name=%2500").status_code == 200  # the text "%00" is no NUL


def test_query_booleans_are_true_or_false_only(clients, dataset):
    url = f"/api/datasets/{dataset.pk}/versions/"
    assert clients["write"].get(url + "?only_draft=true").status_code == 200
    for bad in ("", "1", "yes", "True"):
        response = clients["write"].get(url + f"?only_draft={bad}")
        assert response.status_code == 400 and "only_draft" in error_of(response)["details"]
    both = clients["write"].get(url + "?only_draft=true&only_published=true")
    assert both.status_code == 200 and both.json()["results"] == []  # each filter is a condition


def test_an_id_and_a_name_are_both_conditions(clients, dataset):
    client = clients["write"]
    found = client.post("/api/datasets/lookup/snapshot/",
                        {"dataset_id": str(dataset.pk), "dataset_name": dataset.name, "publish_name": "p1"},
                        format="json")
    assert found.status_code == 201
    other = client.post("/api/datasets/lookup/snapshot/",
                        {"dataset_id": str(dataset.pk), "dataset_name": "not-its-name"}, format="json")
    assert other.status_code == 404 and "named 'not-its-name'" in error_of(other)["message"]
    neither = client.post("/api/datasets/lookup/snapshot/", {}, format="json")
    assert neither.status_code == 400
    current = client.get(f"/api/datasets/{dataset.pk}/current/").json()
    assert current["dataset"]["id"] == str(dataset.pk) and current["version"]["status"] == "draft"


def test_parents_by_name_or_by_id_not_both(clients, dataset):
    client = clients["write"]
    body = {"version_name": "x", "parent_version_names": [], "parent_version_ids": []}
    response = client.post(f"/api/datasets/{dataset.pk}/versions/", body, format="json")
    assert response.status_code == 400 and "parent_version_ids" in error_of(response)["details"]
    # A false is no UUID (DRF's own field would read it as UUID(int=0)).
    response = client.post(f"/api/datasets/{dataset.pk}/versions/",
                           {"version_name": "x", "parent_version_ids": [False]}, format="json")
    assert response.status_code == 400


def test_bad_parents_are_refused_even_when_the_name_exists(clients, dataset):
    response = clients["write"].post(f"/api/datasets/{dataset.pk}/versions/",
                                     {"version_name": "Current", "parent_version_names": ["a\x0fb"]}, format="json")
    assert response.status_code == 400 and "parent_version_names" in error_of(response)["details"]


def test_a_bad_cursor_is_404_and_an_unknown_group_too(clients, dataset, people):
    head = clients["write"].get(f"/api/datasets/{dataset.pk}/head/").json()
    response = clients["write"].get(f"/api/versions/{head['id']}/frames/?cursor=garbage")
    assert response.status_code == 404 and error_of(response)["code"] == "invalid_cursor"
    rule = clients["admin"].post(f"/api/projects/{people['project'].pk}/rules/", {"group": "nobody", "role": "read"},
                                 format="json")
    assert rule.status_code == 404 and "group" in error_of(rule)["details"]


def test_meta_key_alone_finds_frames_having_it(clients, dataset):
    client = clients["write"]
    head = client.get(f"/api/datasets/{dataset.pk}/head/").json()
    frames = [{"id": "a", "sources": [{"uri": "s3://b/a.jpg"}], "meta": {"cam": {"side": None}}},
              {"id": "b", "sources": [{"uri": "s3://b/b.jpg"}], "meta": {"cam": {"front": 1}}},
              {"id": "c", "sources": [{"uri": "s3://b/c.jpg"}]}]
    assert client.post(f"/api/versions/{head['id']}/frames/", {"frames": frames}, format="json").status_code == 200
    page = client.get(f"/api/versions/{head['id']}/frames/?meta_key=cam.side").json()
    assert [f["id"] for f in page["frames"]] == ["a"]  # a JSON null is a value: the key is there
    page = client.get(f"/api/versions/{head['id']}/frames/?meta_key=cam.front&meta_value=1").json()
    assert [f["id"] for f in page["frames"]] == ["b"]


def test_if_match_is_an_entity_tag(clients, dataset):
    client = clients["write"]
    head = client.get(f"/api/datasets/{dataset.pk}/head/").json()
    url = f"/api/versions/{head['id']}/frame/f1/"
    frame = {"id": "f1", "sources": [{"uri": "s3://b/f1.jpg"}]}
    etag = _put_json(client, url, frame)["ETag"]
    for bad in ('"²"', '"1', "abc", '"1" "2"', '"' + "9" * 19 + '"'):
        response = _put_json(client, url, frame, HTTP_IF_MATCH=bad)
        assert response.status_code == 400 and "If-Match" in error_of(response)["details"], bad
    assert _put_json(client, url, frame, HTTP_IF_MATCH=etag.strip('"')).status_code == 200  # a bare number


def test_a_mask_value_given_twice_maps_to_both_label_lists(clients, dataset):
    client = clients["write"]
    head = client.get(f"/api/datasets/{dataset.pk}/head/").json()
    body = {"mask_labels": [{"value": [1, 2, 3], "labels": ["road"]}, {"value": [9, 9, 9], "labels": ["sky"]},
                            {"value": [1, 2, 3], "labels": ["lane"]}]}
    response = _put_json(client, f"/api/versions/{head['id']}/mask-labels/", body)
    assert response.status_code == 200
    assert response.json()["mask_labels"] == [{"value": [1, 2, 3], "labels": ["road", "lane"]},
                                              {"value": [9, 9, 9], "labels": ["sky"]}]
    bad = _put_json(client, f"/api/versions/{head['id']}/mask-labels/",
                    {"mask_labels": [{"value": [1, 2, 3], "labels": ["\x85"]}]})
    assert bad.status_code == 400  # only whitespace (U+0085 is whitespace to Python, not to ECMAScript's \s)


def test_a_nul_in_a_frame_id_to_look_up_or_delete_is_400_on_both_databases(clients, dataset):
    head = clients["write"].get(f"/api/datasets/{dataset.pk}/head/").json()
    for action in ("lookup", "delete"):
        response = clients["write"].post(f"/api/versions/{head['id']}/frames/{action}/",
                                         {"frame_ids": ["a", "b\x00c"]}, format="json")
        assert response.status_code == 400 and "frame_ids" in error_of(response)["details"], action
