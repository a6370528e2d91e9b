import pytest

from hyperdatasets.models import Dataset, DatasetVersion
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


def test_create_dataset_gets_current_version_and_project_access(clients, people):
    response = clients["write"].post("/api/datasets/", {"dataset_name": "bikes", "dataset_project": "vision",
                                                        "tags": ["a", "b", "a"], "description": "d"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "bikes" and body["project"]["name"] == "vision" and body["tags"] == ["a", "b"]
    assert body["version_count"] == 1 and body["current_frame_count"] == 0
    head = DatasetVersion.objects.get(pk=body["current_version_id"])
    assert head.name == "Current" and head.status == "draft"


def test_create_existing_returns_it_or_409(clients, dataset):
    again = clients["write"].post("/api/datasets/", {"dataset_name": "cars", "dataset_project": "vision",
                                                     "tags": ["t2"]}, format="json")
    assert again.status_code == 201 and again.json()["id"] == str(dataset.pk)
    assert again.json()["tags"] == ["t1", "t2"]
    refused = clients["write"].post("/api/datasets/", {"dataset_name": "cars", "dataset_project": "vision",
                                                       "raise_if_exists": True}, format="json")
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "already_exists" and "already exists" in error_of(refused)["message"]


def test_create_new_dataset_variant_returns_version(clients):
    response = clients["write"].post("/api/datasets/create-new-dataset/", {"dataset_name": "two"}, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "Current" and response.json()["status"] == "draft"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "dataset_name"),
    ({"dataset_name": ""}, "dataset_name"),
    ({"dataset_name": 5}, "dataset_name"),
    ({"dataset_name": "x", "tags": "a"}, "tags"),
    ({"dataset_name": "x", "metadata": [1]}, "metadata"),
    ({"dataset_name": " padded"}, "dataset_name"),
    ({"dataset_name": "x" * 300}, "dataset_name"),
])
def test_create_dataset_bad_input_is_400_naming_the_field(clients, body, field):
    response = clients["write"].post("/api/datasets/", body, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["details"]
    assert not Dataset.objects.exists()


def test_malformed_json_and_wrong_body_type(clients):
    response = clients["write"].post("/api/datasets/", "{nope", content_type="application/json")
    assert response.status_code == 400 and error_of(response)["code"] == "parse_error"
    response = clients["write"].post("/api/datasets/", [1, 2], format="json")
    assert response.status_code == 400


def test_list_filters_and_visibility(clients, people, dataset):
    clients["outsider"].post("/api/datasets/", {"dataset_name": "open", "tags": ["t1"]}, format="json")
    names = lambda client, q="": [d["name"] for d in client.get("/api/datasets/" + q).json()["results"]]  # noqa: E731
    assert names(clients["read"]) == ["cars", "open"]
    assert names(clients["outsider"]) == ["open"]  # outside any project: every signed-in user
    assert names(clients["read"], f"?project={people['project'].pk}") == ["cars"]
    assert names(clients["read"], "?tag=t1") == ["cars", "open"]
    assert names(clients["read"], "?name=CAR") == ["cars"]
    assert clients["anonymous"].get("/api/datasets/").status_code == 401


def test_list_pages_with_cursor(clients):
    for i in range(5):
        clients["write"].post("/api/datasets/", {"dataset_name": f"d{i}"}, format="json")
    first = clients["write"].get("/api/datasets/?page_size=2").json()
    assert [d["name"] for d in first["results"]] == ["d0", "d1"] and first["next"]
    second = clients["write"].get(first["next"]).json()
    assert [d["name"] for d in second["results"]] == ["d2", "d3"]


def test_lookup_by_name_rules(clients, people, dataset):
    clients["write"].post("/api/datasets/", {"dataset_name": "cars", "dataset_project": "other"}, format="json")
    ambiguous = clients["superuser"].get("/api/datasets/lookup/?dataset_name=cars")
    assert ambiguous.status_code == 409 and error_of(ambiguous)["code"] == "ambiguous_name"
    assert "'vision'" in error_of(ambiguous)["message"]
    # The reader cannot see project 'other': for them the name is unique.
    assert clients["read"].get("/api/datasets/lookup/?dataset_name=cars").json()["id"] == str(dataset.pk)
    scoped = clients["superuser"].get("/api/datasets/lookup/?dataset_name=cars&dataset_project=vision")
    assert scoped.json()["id"] == str(dataset.pk)
    assert clients["read"].get("/api/datasets/lookup/?dataset_name=zzz").status_code == 404


def test_patch_rename_describe_move(clients, people, dataset):
    other = clients["admin"].post("/api/projects/", {"name": "other"}, format="json").json()
    response = clients["write"].patch(f"/api/datasets/{dataset.pk}/", {"name": "autos", "description": "new",
                                                                     "metadata": {"k": 1}}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "autos"
    moved = clients["admin"].patch(f"/api/datasets/{dataset.pk}/", {"project_id": other["id"]}, format="json")
    assert moved.status_code == 200 and moved.json()["project"]["name"] == "other"
    # No longer in the reader's project: invisible to them.
    assert clients["read"].patch(f"/api/datasets/{dataset.pk}/", {"name": "x"}, format="json").status_code == 404
    out = clients["admin"].patch(f"/api/datasets/{dataset.pk}/", {"project_id": None}, format="json")
    assert out.json()["project"] is None
    # Outside any project every signed-in user may write.
    assert clients["read"].patch(f"/api/datasets/{dataset.pk}/", {"name": "x"}, format="json").status_code == 200


def test_tags_add_remove(clients, dataset):
    url = f"/api/datasets/{dataset.pk}/tags/"
    assert clients["write"].post(url + "add/", {"tags": ["coco", "dogs"]}, format="json").json()["tags"] == [
        "t1", "coco", "dogs"]
    assert clients["write"].post(url + "remove/", {"tags": ["dogs"]}, format="json").json()["tags"] == ["t1", "coco"]
    assert clients["write"].post(url + "add/", {"tags": [""]}, format="json").status_code == 400
    assert clients["read"].post(url + "add/", {"tags": ["x"]}, format="json").status_code == 403


def test_delete_dataset_rules(clients, dataset):
    url = f"/api/datasets/{dataset.pk}/"
    assert clients["write"].delete(url + "?delete_all_versions=true").status_code == 403
    refused = clients["admin"].delete(url)
    assert refused.status_code == 409 and "delete_all_versions" in error_of(refused)["message"]
    clients["admin"].post(f"/api/datasets/{dataset.pk}/snapshot/", {}, format="json")
    refused = clients["admin"].delete(url + "?delete_all_versions=true")
    assert refused.status_code == 409 and "force" in error_of(refused)["message"]
    assert clients["admin"].delete(url + "?delete_all_versions=yes-please").status_code == 400
    done = clients["admin"].delete(url + "?delete_all_versions=true&force=true&delete_sources=true")
    assert done.status_code == 202 and done.json()["delete_sources"] is True
    job = done.json()["job"]
    assert done["Location"] == f"/api/deletion-jobs/{job['id']}/"
    assert job["status"] == "queued" and job["dataset_name"] == dataset.name and job["finished"] is False
    assert job["total"] == 0 and job["providers"] == {}  # its frames pointed to no object
    assert not Dataset.objects.filter(pk=dataset.pk).exists()


def test_unknown_ids_are_404_not_500(clients):
    # Ids are UUIDs in the paths: anything else matches no route, answered with the JSON error shape.
    for path in ("/api/datasets/not-a-uuid/", "/api/versions/12/frames/", "/api/no-such-endpoint/",
                 "/api/projects/7f0b5b2c-97a5-4a5e-9d9c-1c1c1c1c1c1c/rules/x/"):
        missing = clients["write"].get(path)
        assert missing.status_code == 404 and error_of(missing)["code"] == "not_found", path
    response = clients["write"].get("/api/datasets/7f0b5b2c-97a5-4a5e-9d9c-1c1c1c1c1c1c/")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_get_is_refused_on_changing_endpoints(clients, dataset):
    for path in (f"/api/datasets/{dataset.pk}/tags/add/", f"/api/datasets/{dataset.pk}/snapshot/",
                 "/api/datasets/create-new-dataset/"):
        assert clients["write"].get(path).status_code == 405


def test_nul_characters_are_400_not_500(clients, dataset):
    lookup = clients["write"].get("/api/datasets/lookup/?dataset_name=a%00b&dataset_project=p%00")
    assert lookup.status_code in (400, 404)
    created = clients["write"].post("/api/datasets/", {"dataset_name": "x", "description": "a\x00b"}, format="json")
    assert created.status_code == 400 and "description" in error_of(created)["details"]
    meta = clients["write"].post("/api/datasets/", {"dataset_name": "y", "metadata": {"k": "\x00"}}, format="json")
    assert meta.status_code == 400 and "metadata" in error_of(meta)["details"]


def test_numbers_in_metadata_are_bounded_as_the_schema_says(clients):
    # JSON Schema cannot tell 1e191 from an integer, so the one bound (the schema's) holds for every number.
    for value in (-1.1785e+191, 2**63, -(2**64), 1e19):
        response = clients["write"].post("/api/datasets/", {"dataset_name": "big", "metadata": {"x": [value]}},
                                         format="json")
        assert response.status_code == 400, value
        assert "within ±9223372036854775807" in error_of(response)["details"]["metadata"][0]
    kept = {"max": 2**63 - 1, "min": -(2**63 - 1), "float": 1.5e18, "text": "-1.1785e+191"}
    response = clients["write"].post("/api/datasets/", {"dataset_name": "big", "metadata": kept}, format="json")
    assert response.status_code == 201 and response.json()["metadata"] == kept
