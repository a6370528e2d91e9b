"""A dataview export through the REST API, run by a real Celery worker on Redis: progress only rises, the
downloaded file holds exactly the frames of a run with the same parameters, and every call is checked against
the caller's rights (the dataview's project, and read on each dataset it takes frames from)."""

import time

import orjson
import pytest
from django.core.files.storage import default_storage

from dataviews.services import dataview_create
from hyperdatasets.models import AccessRole
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.projects import project_create, project_rule_set
from tests.api.conftest import error_of
from tests.api.test_dataviews_api import RECIPE, _drain
from tests.deletion.conftest import start_worker  # noqa: F401
from tests.factories import frame

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cars(dataset):
    head = version_head(dataset)
    frames = [frame(f"f{i:03d}", labels=[["car"]] if i % 3 else [["person"]]) for i in range(240)]
    for i, f in enumerate(frames):
        f["meta"] = {"time": "night" if i % 5 == 0 else "day"}
    assert frames_upsert(head, frames).failures == []
    return dataset, head


def _wait(client, export_id, seen: list[dict], timeout=90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/api/dataview-exports/{export_id}/")
        assert response.status_code == 200, response.content
        seen.append(response.json())
        if seen[-1]["status"] in ("succeeded", "failed"):
            return seen[-1]
        time.sleep(0.05)
    raise AssertionError(f"export {export_id} did not finish: {seen[-1]}")


def test_an_export_runs_on_a_worker_and_downloads_under_the_callers_rights(clients, people, cars,
                                                                           start_worker):  # noqa: F811
    worker = start_worker()
    writer, reader = clients["write"], clients["read"]
    view = writer.post("/api/dataviews/", RECIPE, format="json").json()
    expected = _drain(writer, writer.post(f"/api/dataviews/{view['id']}/iterations/", {}, format="json").json()["id"])

    bad = writer.post(f"/api/dataviews/{view['id']}/exports/", {"format": "xml"}, format="json")
    assert bad.status_code == 400 and "format" in error_of(bad)["details"]
    bad = writer.post(f"/api/dataviews/{view['id']}/exports/", {"projection": ["id", ""]}, format="json")
    assert bad.status_code == 400 and "1" in error_of(bad)["details"]["projection"]

    queued = writer.post(f"/api/dataviews/{view['id']}/exports/", {"format": "jsonl"}, format="json")
    assert queued.status_code == 202, queued.content
    job = queued.json()
    assert job["status"] == "queued" and job["download_url"] is None and job["total"] is None
    seen: list[dict] = []
    done = _wait(writer, job["id"], seen)
    assert done["status"] == "succeeded", (done, worker.log()[-3000:])
    progress = [s["done"] for s in seen]
    assert progress == sorted(progress) and done["done"] == done["total"] == done["written"] == len(expected)

    response = reader.get(done["download_url"])  # a reader of the project may read it
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert [orjson.loads(line) for line in body.splitlines()] == expected
    assert len(body) == done["size"]
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].startswith("attachment;") and response["X-Content-Type-Options"] == "nosniff"
    listed = writer.get(f"/api/dataviews/{view['id']}/exports/").json()["results"]
    assert [e["id"] for e in listed] == [job["id"]]

    # A projection, as JSON.
    projected = writer.post(f"/api/dataviews/{view['id']}/exports/",
                            {"format": "json", "projection": ["id", "dataset.version"]}, format="json").json()
    done_json = _wait(writer, projected["id"], [])
    rows = orjson.loads(b"".join(writer.get(done_json["download_url"]).streaming_content))
    assert rows == [{"id": f["id"], "dataset": {"version": f["dataset"]["version"]}} for f in expected]

    # Outsiders do not find it; a reader may not delete the writer's export; the writer may, with its file.
    assert clients["outsider"].get(f"/api/dataview-exports/{job['id']}/").status_code == 404
    assert clients["outsider"].get(done["download_url"]).status_code == 404
    assert clients["anonymous"].get(done["download_url"]).status_code == 401
    assert reader.delete(f"/api/dataview-exports/{job['id']}/").status_code == 403
    file_name = default_storage.listdir(f"exports/dataviews/{job['id']}")[1]
    assert file_name == ["training.jsonl"]
    assert writer.delete(f"/api/dataview-exports/{job['id']}/").status_code == 204
    assert writer.get(done["download_url"]).status_code == 404
    assert not default_storage.exists(f"exports/dataviews/{job['id']}/training.jsonl")


def test_an_export_of_a_dataset_the_caller_may_not_read_is_refused(clients, people, cars,
                                                                   start_worker):  # noqa: F811
    start_worker()
    secret = dataset_create(dataset_name="secret", dataset_project="hidden", user=people["owner"])
    assert frames_upsert(version_head(secret), [frame("s1")]).failures == []
    mixed = dataview_create(name="mixed", project_name="vision", user=people["owner"],
                            versions=[{"dataset_id": str(secret.pk), "version_id": str(version_head(secret).pk)}],
                            filters=[{"dataset": str(secret.pk)}])
    writer = clients["write"]
    assert writer.post(f"/api/dataviews/{mixed.pk}/exports/", {}, format="json").status_code == 403
    made = clients["superuser"].post(f"/api/dataviews/{mixed.pk}/exports/", {}, format="json").json()
    done = _wait(clients["superuser"], made["id"], [])
    assert done["status"] == "succeeded" and done["written"] == 1
    for path in (f"/api/dataview-exports/{made['id']}/", done["download_url"]):
        response = writer.get(path)
        assert response.status_code == 403 and "s1" not in response.content.decode()
    # A dataview in a project the caller cannot see: its exports are not found.
    project_create(name="elsewhere", user=people["owner"])
    hidden = dataview_create(name="hidden-view", project_name="elsewhere", user=people["owner"],
                             versions=[{"dataset_id": str(cars[0].pk), "version_id": str(cars[1].pk)}],
                             filters=[{"dataset": str(cars[0].pk)}])
    assert writer.get(f"/api/dataviews/{hidden.pk}/exports/").status_code == 404
    assert writer.post(f"/api/dataviews/{hidden.pk}/exports/", {}, format="json").status_code == 404
    project_rule_set(people["project"], role=AccessRole.READ, user=people["outsider"])
    assert clients["outsider"].get(f"/api/dataview-exports/{made['id']}/").status_code == 403
