"""The dataviews' REST face: a recipe by names read back by ids, the Draft/Published rule, counts, an
iteration drained in shards from returned cursors, and the attacks: inputs the caller may not read, by name
or by id, at creation and after it; iterations of dataviews the caller cannot see."""

import pytest

from dataviews.services import dataview_create
from hyperdatasets.models import AccessRole
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.projects import project_create, project_rule_set
from tests.api.conftest import error_of
from tests.factories import frame

pytestmark = pytest.mark.django_db


@pytest.fixture
def cars(dataset):
    head = version_head(dataset)
    frames = [frame(f"f{i:02d}", labels=[["car"]] if i % 3 else [["person"]]) for i in range(30)]
    for i, f in enumerate(frames):
        f["meta"] = {"time": "night" if i % 5 == 0 else "day"}
    assert frames_upsert(head, frames).failures == []
    head.refresh_from_db()
    return dataset, head


RECIPE = {"name": "training", "project_name": "vision",
          "versions": [{"dataset_name": "cars", "dataset_project": "vision", "version_name": "Current"}],
          "filters": [{"dataset": "cars", "version": "*", "frame_query": "meta.time:day", "weight": 1},
                      {"dataset": "cars", "version": "*", "label_rules": [{"label": "person"}], "weight": 2}],
          "labels_enumeration": {"car": 1, "person": 2}, "iteration": {"order": "random", "random_seed": 7}}


def _drain(client, iteration_id, workers=1, worker=0, batch_size=4):
    frames, cursor = [], None
    while True:
        body = {"batch_size": batch_size, "worker_index": worker, "num_workers": workers}
        if cursor:
            body = {"cursor": cursor, "batch_size": batch_size}
        response = client.post(f"/api/dataview-iterations/{iteration_id}/next/", body, format="json")
        assert response.status_code == 200, response.content
        data = response.json()
        assert data["frames_returned"] == len(data["frames"]) and data["random_seed"] == 7
        frames += data["frames"]
        cursor = data["cursor"]
        if data["eof"]:
            return frames


def test_a_recipe_by_names_counts_and_iterates(clients, cars):
    dataset, head = cars
    writer = clients["write"]
    response = writer.post("/api/dataviews/", RECIPE, format="json")
    assert response.status_code == 201, response.content
    view = response.json()
    assert view["versions"] == [{"dataset": str(dataset.pk), "version": str(head.pk)}]
    assert [r["dataset"] for r in view["filters"]] == [str(dataset.pk)] * 2
    assert view["status"] == "draft" and view["project_name"] == "vision"
    assert writer.get(f"/api/dataviews/{view['id']}/").json() == view
    listed = clients["read"].get("/api/dataviews/").json()["results"]
    assert [v["id"] for v in listed] == [view["id"]]

    count = clients["read"].get(f"/api/dataviews/{view['id']}/count/").json()
    day = sum(1 for i in range(30) if i % 5)
    person_night = sum(1 for i in range(30) if i % 5 == 0 and i % 3 == 0)
    person = sum(1 for i in range(30) if i % 3 == 0)
    assert count == {"total": day + person_night, "rules": [
        {"rule_index": 0, "count": day, "share": day}, {"rule_index": 1, "count": person, "share": person_night}]}

    started = clients["read"].post(f"/api/dataviews/{view['id']}/iterations/", {}, format="json")
    assert started.status_code == 201, started.content
    run = started.json()
    assert (run["order"], run["random_seed"], run["total"], run["length"]) == ("random", 7, count["total"],
                                                                                count["total"])
    assert clients["read"].get(f"/api/dataview-iterations/{run['id']}/").json() == run
    parts = [_drain(clients["read"], run["id"], 2, w) for w in range(2)]
    ids = sorted(f["id"] for part in parts for f in part)
    assert ids == sorted(f"f{i:02d}" for i in range(30) if i % 5 or i % 3 == 0)
    assert all(roi["label_num"] == (1 if roi["label"] == ["car"] else 2) for part in parts for f in part
               for roi in f["rois"])
    assert {f["dataset"]["version"] for part in parts for f in part} == {str(head.pk)}

    # A key names a run: the first call starts it (201), later ones (any reader's) are answered it (200).
    keyed = clients["read"].post(f"/api/dataviews/{view['id']}/iterations/", {"key": "epoch-3"}, format="json")
    assert keyed.status_code == 201 and keyed.json()["key"] == "epoch-3"
    same = writer.post(f"/api/dataviews/{view['id']}/iterations/", {"key": "epoch-3"}, format="json")
    assert same.status_code == 200 and same.json() == keyed.json()
    for bad_key in ("k" * 65, "a\nb", 5):
        bad = writer.post(f"/api/dataviews/{view['id']}/iterations/", {"key": bad_key}, format="json")
        assert bad.status_code == 400 and "key" in error_of(bad)["details"], bad.content


def test_published_needs_force_and_errors_name_their_fields(clients, cars):
    writer = clients["write"]
    view = writer.post("/api/dataviews/", RECIPE, format="json").json()
    assert writer.post(f"/api/dataviews/{view['id']}/publish/").status_code == 200
    refused = writer.patch(f"/api/dataviews/{view['id']}/", {"description": "x"}, format="json")
    assert refused.status_code == 409 and "force" in error_of(refused)["message"]
    forced = writer.patch(f"/api/dataviews/{view['id']}/", {"description": "x", "force": True}, format="json")
    assert forced.status_code == 200 and forced.json()["description"] == "x"
    assert writer.delete(f"/api/dataviews/{view['id']}/").status_code == 409
    bad = writer.patch(f"/api/dataviews/{view['id']}/", {"filters": [{"dataset": "cars", "frame_query": "meta.time:("}],
                                                         "force": True}, format="json")
    assert bad.status_code == 400 and "filters[0].frame_query" in error_of(bad)["details"]
    run = writer.post(f"/api/dataviews/{view['id']}/iterations/", {}, format="json").json()
    bad = writer.post(f"/api/dataview-iterations/{run['id']}/next/", {"batch_size": 0}, format="json")
    assert bad.status_code == 400 and "batch_size" in error_of(bad)["details"]
    assert writer.delete(f"/api/dataviews/{view['id']}/?force=true").status_code == 204
    assert writer.get(f"/api/dataviews/{view['id']}/").status_code == 404


def test_inputs_the_caller_may_not_read(clients, people, cars):
    """A dataview never lends its inputs: a dataset of a project the caller has no rule on is not found when
    named, and a dataview that reads one (made by someone who may) is refused to count or iterate."""
    secret = dataset_create(dataset_name="secret", dataset_project="hidden", user=people["owner"])
    assert frames_upsert(version_head(secret), [frame("s1")]).failures == []
    writer = clients["write"]
    for entry in ({"dataset_name": "secret", "dataset_project": "hidden", "version_name": "Current"},
                  {"dataset_id": str(secret.pk), "version_id": str(version_head(secret).pk)}):
        response = writer.post("/api/dataviews/", {**RECIPE, "versions": [entry], "filters": []}, format="json")
        assert response.status_code == 404, response.content
        assert "secret" not in error_of(response)["message"] or "does not exist" in error_of(response)["message"]
    mixed = dataview_create(name="mixed", project_name="vision", user=people["owner"],
                            versions=[{"dataset_id": str(secret.pk), "version_id": str(version_head(secret).pk)}])
    assert writer.get(f"/api/dataviews/{mixed.pk}/").status_code == 200
    assert writer.get(f"/api/dataviews/{mixed.pk}/count/").status_code == 403
    assert writer.post(f"/api/dataviews/{mixed.pk}/iterations/", {}, format="json").status_code == 403
    owner_run = clients["superuser"].post(f"/api/dataviews/{mixed.pk}/iterations/", {}, format="json").json()
    response = writer.post(f"/api/dataview-iterations/{owner_run['id']}/next/", {}, format="json")
    assert response.status_code == 403 and "secret" not in response.content.decode()
    # An iteration of a dataview in a project the caller cannot see is not found.
    other = project_create(name="elsewhere", user=people["owner"])
    project_rule_set(other, role=AccessRole.READ, user=people["admin"])
    hidden_view = dataview_create(name="hidden-view", project_name="elsewhere", user=people["owner"],
                                  versions=[{"dataset_id": str(cars[0].pk), "version_id": str(cars[1].pk)}])
    run = clients["superuser"].post(f"/api/dataviews/{hidden_view.pk}/iterations/", {}, format="json").json()
    assert writer.get(f"/api/dataview-iterations/{run['id']}/").status_code == 404
    assert writer.post(f"/api/dataview-iterations/{run['id']}/next/", {}, format="json").status_code == 404
    assert clients["admin"].post(f"/api/dataview-iterations/{run['id']}/next/", {}, format="json").status_code == 200
