"""COCO imports and exports through the REST API, run by a real Celery worker on Redis: the import lands all
or nothing, the exported archive loads in pycocotools and holds what was imported, a bad file fails its job
with the JSON path, and the rights are the version's dataset's."""

import io
import json
import time
import zipfile

import pytest
from django.core.files.storage import default_storage
from pycocotools.coco import COCO

from formats.jobs import annotation_job_run, annotation_jobs_sweep
from formats.models import AnnotationJob
from hyperdatasets.selectors.frames import frames_count
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.jobs import job_claim
from hyperdatasets.services.versions import version_publish
from tests.deletion.conftest import start_worker  # noqa: F401
from tests.formats.test_coco import PREFIX, coco_file

pytestmark = pytest.mark.django_db(transaction=True)


def _upload(data: dict | bytes, name: str = "instances.json") -> io.BytesIO:
    buffer = io.BytesIO(data if isinstance(data, bytes) else json.dumps(data).encode())
    buffer.name = name
    return buffer


def _wait(client, job_id, timeout=90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/annotation-jobs/{job_id}/").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_a_coco_file_is_imported_and_exported_by_a_worker(clients, people, dataset, start_worker,  # noqa: F811
                                                          tmp_path):
    start_worker()
    writer, reader = clients["write"], clients["read"]
    head = version_head(dataset)
    path = f"/api/versions/{head.pk}/annotation-imports/"
    body = {"file": _upload(coco_file()), "format": "coco", "images_prefix": PREFIX}
    assert reader.post(path, body, format="multipart").status_code == 403
    queued = writer.post(path, {**body, "file": _upload(coco_file())}, format="multipart")
    assert queued.status_code == 202, queued.content
    job = _wait(writer, queued.json()["id"])
    assert job["status"] == "succeeded", job
    assert (job["total"], job["done"], job["annotations"]) == (6, 6, 18) and job["download_url"] is None
    head.refresh_from_db()
    assert frames_count(head) == 6
    assert AnnotationJob.objects.get(pk=job["id"]).source == ""  # the uploaded file is not kept

    exported = reader.post(f"/api/versions/{head.pk}/annotation-exports/", {"format": "coco"}, format="json")
    assert exported.status_code == 202
    done = _wait(reader, exported.json()["id"])
    assert done["status"] == "succeeded" and done["report"] == {} and done["annotations"] == 18
    archive = reader.get(done["download_url"])
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"
    assert archive["Content-Disposition"].startswith("attachment")
    with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as unpacked:
        (tmp_path / "instances.json").write_bytes(unpacked.read("annotations/instances_default.json"))
    loaded = COCO(str(tmp_path / "instances.json"))
    assert len(loaded.getImgIds()) == 6 and len(loaded.getAnnIds()) == 18
    assert clients["outsider"].get(done["download_url"]).status_code == 404


def test_a_bad_file_fails_its_job_with_the_json_path_and_writes_nothing(clients, dataset, start_worker):  # noqa: F811
    start_worker()
    writer = clients["write"]
    head = version_head(dataset)
    data = coco_file()
    data["annotations"][4]["category_id"] = 99
    path = f"/api/versions/{head.pk}/annotation-imports/"
    job = _wait(writer, writer.post(path, {"file": _upload(data), "format": "coco", "images_prefix": PREFIX},
                                    format="multipart").json()["id"])
    assert job["status"] == "failed"
    assert job["error"] == "instances.json: $.annotations[4].category_id: no category has id 99"
    head.refresh_from_db()
    assert frames_count(head) == 0
    broken = _wait(writer, writer.post(path, {"file": _upload(b'{"images": [', "broken.json"), "format": "coco",
                                              "images_prefix": PREFIX}, format="multipart").json()["id"])
    assert broken["status"] == "failed" and broken["error"].startswith("broken.json: line 1, column")


def test_refusals_before_a_job_is_queued(clients, dataset):
    writer = clients["write"]
    head = version_head(dataset)
    path = f"/api/versions/{head.pk}/annotation-imports/"
    bad_format = writer.post(path, {"file": _upload(coco_file()), "format": "yolo9", "images_prefix": PREFIX},
                             format="multipart")
    assert bad_format.status_code == 400 and "format" in bad_format.json()["error"]["details"]
    missing = writer.post(path, {"format": "coco", "images_prefix": PREFIX}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["error"]["details"]
    as_json = writer.post(path, {"format": "coco", "images_prefix": PREFIX}, format="json")
    assert as_json.status_code == 415
    version_publish(head)
    published = writer.post(path, {"file": _upload(coco_file()), "format": "coco", "images_prefix": PREFIX},
                            format="multipart")
    assert published.status_code == 409 and "Published" in published.json()["error"]["message"]
    assert not AnnotationJob.objects.exists()


def test_a_job_whose_worker_died_is_queued_again_and_finished(clients, dataset, settings):
    settings.HYPERDATASETS_EXPORT_LEASE_SECONDS = 0
    reader = clients["read"]
    job_id = reader.post(f"/api/versions/{version_head(dataset).pk}/annotation-exports/", {"format": "coco"},
                         format="json").json()["id"]
    assert job_claim(AnnotationJob, job_id, "dead-worker", lease_seconds=0, max_runs=3) is not None
    from hyperdatasets.celery import app

    try:
        assert job_id in annotation_jobs_sweep()
    finally:
        app.control.purge()  # the messages name jobs of this test's database
    finished = annotation_job_run(job_id, owner="live-worker")
    assert finished.status == "succeeded" and finished.runs == 2 and default_storage.exists(finished.file)


def test_a_yolo_archive_is_imported_and_exported_by_a_worker(clients, dataset, start_worker):  # noqa: F811
    from tests.formats.test_yolo import yolo_archive

    start_worker()
    writer = clients["write"]
    head = version_head(dataset)
    archive = io.BytesIO(yolo_archive())
    archive.name = "dataset.zip"
    queued = writer.post(f"/api/versions/{head.pk}/annotation-imports/",
                         {"file": archive, "format": "yolo", "images_prefix": "s3://bucket/yolo/images/"},
                         format="multipart")
    job = _wait(writer, queued.json()["id"])
    assert job["status"] == "succeeded" and (job["done"], job["annotations"]) == (3, 3), job
    done = _wait(writer, writer.post(f"/api/versions/{head.pk}/annotation-exports/", {"format": "yolo"},
                                     format="json").json()["id"])
    with zipfile.ZipFile(io.BytesIO(b"".join(writer.get(done["download_url"]).streaming_content))) as unpacked:
        names = set(unpacked.namelist())
        assert {"data.yaml", "labels/train/a.txt", "labels/val/b.txt", "labels/train/c.txt"} <= names
        assert unpacked.read("labels/val/b.txt") == b"1 0.25 0.75 0.5 0.5\n"


def test_a_dataview_is_exported_with_its_mapping_and_order(clients, people, dataset, start_worker,  # noqa: F811
                                                           tmp_path):
    from dataviews.services import dataview_create
    from hyperdatasets.services.frames import frames_upsert
    from tests.factories import frame

    start_worker()
    reader = clients["read"]
    head = version_head(dataset)
    assert frames_upsert(head, [frame(f"f{i}", labels=[["car"]] if i % 2 else [["person"]], meta={"n": i})
                                for i in range(6)]).failures == []
    view = dataview_create(name="cars-only", project_name="vision", user=people["owner"],
                           versions=[{"dataset_id": str(dataset.pk), "version_id": str(head.pk)}],
                           filters=[{"dataset": str(dataset.pk), "version": "*", "label_rules": [{"label": "car"}]}],
                           mapping=[{"source": {"labels": ["car"]}, "target": "vehicle"}])
    assert clients["outsider"].post(f"/api/dataviews/{view.pk}/annotation-exports/", {"format": "coco"},
                                    format="json").status_code == 404
    queued = reader.post(f"/api/dataviews/{view.pk}/annotation-exports/", {"format": "coco"}, format="json")
    assert queued.status_code == 202 and queued.json()["dataview_id"] == str(view.pk)
    done = _wait(reader, queued.json()["id"])
    assert done["status"] == "succeeded" and (done["done"], done["annotations"]) == (3, 3), done
    assert clients["outsider"].get(f"/api/annotation-jobs/{done['id']}/").status_code == 404
    archive = reader.get(done["download_url"])
    with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as unpacked:
        (tmp_path / "view.json").write_bytes(unpacked.read("annotations/instances_default.json"))
    loaded = COCO(str(tmp_path / "view.json"))
    assert [c["name"] for c in loaded.loadCats(loaded.getCatIds())] == ["vehicle"]
    assert sorted(i["file_name"] for i in loaded.loadImgs(loaded.getImgIds())) == ["f1", "f3", "f5"]
