"""Every API endpoint x every role, from one table. Fails when an endpoint is missing from the table."""

import io
import json
from enum import Enum

import pytest
from django.urls import URLPattern
from PIL import Image

from dataviews.exports import export_create, export_run
from dataviews.services import dataview_create, iteration_start
from formats.jobs import annotation_job_run, export_job_create
from hyperdatasets.api import urls as api_urls
from hyperdatasets.models import ProjectAccessRule
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create, dataset_delete
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.versions import version_create, version_publish
from tests.api.conftest import ROLES
from tests.factories import frame

pytestmark = pytest.mark.django_db


class Need(Enum):
    PUBLIC = "public"        # no sign-in needed
    SIGNED_IN = "signed in"  # any signed-in user (results are scoped)
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "x.png"
    return {"file": buffer, "kind": "source"}


def _coco():
    buffer = io.BytesIO(json.dumps({"images": [{"id": 1, "file_name": "c.jpg"}], "annotations": [],
                                    "categories": []}).encode())
    buffer.name = "instances.json"
    return {"file": buffer, "format": "coco", "images_prefix": "s3://bucket/coco/"}


# (url name, method): (least role, path suffix/query, body)
MATRIX = {
    ("api-schema", "GET"): (Need.PUBLIC, "", None),
    ("api-docs", "GET"): (Need.PUBLIC, "", None),
    ("api-token", "POST"): (Need.PUBLIC, "", {"username": "reader", "password": "pw-reader-123"}),
    ("api-me", "GET"): (Need.SIGNED_IN, "", None),
    ("api-projects", "GET"): (Need.SIGNED_IN, "", None),
    ("api-projects", "POST"): (Need.SIGNED_IN, "", {"name": "new-project"}),
    ("api-project", "GET"): (Need.READ, "", None),
    ("api-project-rules", "GET"): (Need.READ, "", None),
    ("api-project-rules", "POST"): (Need.ADMIN, "", {"user": "outsider", "role": "read"}),
    ("api-project-rule", "DELETE"): (Need.ADMIN, "", None),
    ("api-datasets", "GET"): (Need.SIGNED_IN, "", None),
    ("api-datasets", "POST"): (Need.WRITE, "", {"dataset_name": "new", "dataset_project": "vision"}),
    ("api-datasets-create-new", "POST"): (Need.WRITE, "", {"dataset_name": "new", "dataset_project": "vision"}),
    ("api-datasets-lookup", "GET"): (Need.READ, "?dataset_name=cars", None),
    ("api-datasets-lookup-head", "GET"): (Need.READ, "?dataset_name=cars&dataset_project=vision", None),
    ("api-datasets-lookup-snapshot", "POST"): (Need.WRITE, "", {"dataset_name": "cars", "dataset_project": "vision",
                                                              "publish_name": "by-name"}),
    ("api-dataset", "GET"): (Need.READ, "", None),
    ("api-dataset", "PATCH"): (Need.WRITE, "", {"description": "changed"}),
    ("api-dataset", "DELETE"): (Need.ADMIN, "?delete_all_versions=true&force=true", None),
    ("api-dataset-tags-add", "POST"): (Need.WRITE, "", {"tags": ["x"]}),
    ("api-dataset-tags-remove", "POST"): (Need.WRITE, "", {"tags": ["t1"]}),
    ("api-dataset-uploads", "POST"): (Need.WRITE, "", "upload"),
    ("api-dataset-schema", "GET"): (Need.READ, "", None),
    ("api-versions", "GET"): (Need.READ, "", None),
    ("api-versions", "POST"): (Need.WRITE, "", {"version_name": "child", "parent_version_names": ["pub"]}),
    ("api-versions-lookup", "GET"): (Need.READ, "?version_name=pub", None),
    ("api-dataset-head", "GET"): (Need.READ, "", None),
    ("api-dataset-current", "GET"): (Need.READ, "", None),
    ("api-dataset-snapshot", "POST"): (Need.WRITE, "", {"publish_name": "snap"}),
    ("api-version", "GET"): (Need.READ, "", None),
    ("api-version", "PATCH"): (Need.WRITE, "", {"comment": "c"}),
    ("api-version", "DELETE"): (Need.WRITE, "", None),
    ("api-version-publish", "POST"): (Need.WRITE, "", None),
    ("api-version-metadata", "GET"): (Need.READ, "", None),
    ("api-version-metadata", "PUT"): (Need.WRITE, "", {"metadata": {"a": 1}}),
    ("api-version-mask-labels", "GET"): (Need.READ, "", None),
    ("api-version-mask-labels", "PUT"): (Need.WRITE, "", {"mask_labels": [{"value": [1, 1, 1], "labels": ["x"]}]}),
    ("api-frames", "GET"): (Need.READ, "", None),
    ("api-frames", "POST"): (Need.WRITE, "", {"frames": [frame("new")]}),
    ("api-frames", "PATCH"): (Need.WRITE, "", {"frames": [{"id": "a", "meta": {"k": 1}}]}),
    ("api-frames-delete", "POST"): (Need.WRITE, "", {"frame_ids": ["a"]}),
    ("api-frames-lookup", "POST"): (Need.READ, "", {"frame_ids": ["a"]}),
    ("api-frames-count", "GET"): (Need.READ, "", None),
    ("api-frame", "GET"): (Need.READ, "", None),
    ("api-frame", "PUT"): (Need.WRITE, "", frame("a", labels=[["edited"]])),
    ("api-frame-history", "GET"): (Need.READ, "", None),
    ("api-version-tags-add", "POST"): (Need.WRITE, "", {"tags": ["t"]}),
    ("api-version-tags-remove", "POST"): (Need.WRITE, "", {"tags": ["t"]}),
    ("api-frame-links", "GET"): (Need.READ, "", None),
    ("api-version-stats", "GET"): (Need.READ, "", None),
    ("api-version-diff", "GET"): (Need.READ, "?other={published}", None),
    ("api-deletion-jobs", "GET"): (Need.SIGNED_IN, "", None),
    ("api-deletion-job", "GET"): (Need.READ, "", None),
    ("api-deletion-job-retry", "POST"): (Need.ADMIN, "", None),
    ("api-dataviews", "GET"): (Need.SIGNED_IN, "", None),
    ("api-dataviews", "POST"): (Need.WRITE, "", {"name": "new-view", "project_name": "vision", "versions": [
        {"dataset_name": "cars", "dataset_project": "vision", "version_name": "pub"}]}),
    ("api-dataview", "GET"): (Need.READ, "", None),
    ("api-dataview", "PATCH"): (Need.WRITE, "", {"description": "changed"}),
    ("api-dataview", "DELETE"): (Need.WRITE, "", None),
    ("api-dataview-publish", "POST"): (Need.WRITE, "", None),
    ("api-dataview-archive", "POST"): (Need.WRITE, "", None),
    ("api-dataview-restore", "POST"): (Need.WRITE, "", None),
    ("api-dataview-clone", "POST"): (Need.WRITE, "", {"name": "copy"}),
    ("api-dataview-move", "POST"): (Need.WRITE, "", {"project_name": "vision"}),
    ("api-dataview-count", "GET"): (Need.READ, "", None),
    ("api-dataview-iterations", "POST"): (Need.READ, "", {"iteration": {"order": "random"}}),
    ("api-dataview-iteration", "GET"): (Need.READ, "", None),
    ("api-dataview-iteration-next", "POST"): (Need.READ, "", {"batch_size": 10}),
    ("api-dataviews-lookup", "GET"): (Need.READ, "?name=training&project_name=vision", None),
    ("api-dataview-exports", "GET"): (Need.READ, "", None),
    ("api-dataview-exports", "POST"): (Need.READ, "", {"format": "json", "projection": ["id"]}),
    ("api-dataview-export", "GET"): (Need.READ, "", None),
    ("api-dataview-export", "DELETE"): (Need.WRITE, "", None),  # or its creator
    ("api-dataview-export-download", "GET"): (Need.READ, "", None),
    ("api-annotation-imports", "POST"): (Need.WRITE, "", "annotations"),
    ("api-annotation-exports", "POST"): (Need.READ, "", {"format": "coco"}),
    ("api-dataview-annotation-exports", "POST"): (Need.READ, "", {"format": "yolo"}),
    ("api-annotation-job", "GET"): (Need.READ, "", None),
    ("api-annotation-job-download", "GET"): (Need.READ, "", None),
}

# What each role may do in project "vision" (outsider: signed in, no rule there).
GRANTED = {
    "anonymous": {Need.PUBLIC},
    "outsider": {Need.PUBLIC, Need.SIGNED_IN},
    "read": {Need.PUBLIC, Need.SIGNED_IN, Need.READ},
    "write": {Need.PUBLIC, Need.SIGNED_IN, Need.READ, Need.WRITE},
    "admin": set(Need),
    "staff": {Need.PUBLIC, Need.SIGNED_IN},  # staff rights are the admin site's, not a project role
    "superuser": set(Need),
}


def _endpoints():
    for pattern in api_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        view = pattern.callback.cls
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                yield pattern.name, method.upper()


def test_every_endpoint_is_in_the_table():
    endpoints = set(_endpoints())
    assert endpoints - set(MATRIX) == set(), "endpoints missing from MATRIX"
    assert set(MATRIX) - endpoints == set(), "MATRIX names endpoints that do not exist"


def _path(name, ctx):
    from django.urls import reverse

    kwargs = {}
    pattern = next(p for p in api_urls.urlpatterns if p.name == name)
    for key in pattern.pattern.converters:
        kwargs[key] = ctx[key]
    return reverse(name, kwargs=kwargs)


@pytest.fixture
def ctx(people, dataset):
    head = version_head(dataset)
    frames_upsert(head, [frame("a")])
    published = version_publish(version_create(dataset, version_name="pub"))
    rule = ProjectAccessRule.objects.get(project=people["project"], user=people["reader"])
    gone = dataset_create(dataset_name="gone", dataset_project="vision", user=people["owner"])
    frames_upsert(version_head(gone), [frame("g", uri="s3://nowhere/g.jpg")])
    job = dataset_delete(gone, delete_all_versions=True, delete_sources=True, user=people["owner"])
    view = dataview_create(name="training", project_name="vision", user=people["owner"],
                           versions=[{"dataset_id": str(dataset.pk), "version_id": str(head.pk)}],
                           filters=[{"dataset": str(dataset.pk), "version": "*"}])
    run = iteration_start(view)
    export = export_run(export_create(view, user=people["owner"]).pk)
    annotations = annotation_job_run(export_job_create(head, format="coco", user=people["owner"]).pk)
    return {"project_id": people["project"].pk, "dataset_id": dataset.pk, "version_id": head.pk,
            "rule_id": rule.pk, "frame_id": "a", "published": published.pk, "job_id": job.pk,
            "dataview_id": view.pk, "iteration_id": run.pk, "export_id": export.pk,
            "annotation_job_id": annotations.pk}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(MATRIX), ids=lambda e: f"{e[1]} {e[0]}")
def test_permission(endpoint, role, clients, ctx):
    name, method = endpoint
    need, suffix, body = MATRIX[endpoint]
    path = _path(name, ctx) + suffix.format(**ctx)
    client = clients[role]
    if body in ("upload", "annotations"):
        response = client.post(path, _png() if body == "upload" else _coco(), format="multipart")
    else:
        response = getattr(client, method.lower())(path, body, format="json") if body is not None else \
            getattr(client, method.lower())(path)
    status = response.status_code
    if need in GRANTED[role]:
        assert status not in (401, 403, 404) and status < 500, (status, getattr(response, "content", b"")[:300])
    elif role == "anonymous":
        assert status == 401, status
    elif role in ("outsider", "staff") or need is Need.READ:
        assert status == 404, status  # cannot see it: not found, not forbidden
    else:
        assert status == 403, status
