"""The version page's Annotations panel: a writer imports a COCO file and exports the version; a real worker
runs both jobs, and the page lists them with progress, the report and the download link; a reader may
export but not import."""

import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from formats.models import AnnotationJob
from hyperdatasets.models import AccessRole
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.projects import project_rule_set
from tests.deletion.conftest import start_worker  # noqa: F401
from tests.formats.test_coco import PREFIX, coco_file

pytestmark = pytest.mark.django_db(transaction=True)


def _finished(timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not AnnotationJob.objects.exclude(status__in=["succeeded", "failed"]).exists():
            return
        time.sleep(0.05)
    raise AssertionError("the jobs did not finish")


def test_import_and_export_from_the_version_page(client, django_user_model, start_worker):  # noqa: F811
    start_worker()
    writer = django_user_model.objects.create_user(username="writer", password="x")
    reader = django_user_model.objects.create_user(username="reader", password="x")
    dataset = dataset_create(dataset_name="coco-page", dataset_project="pages", user=writer)
    project_rule_set(dataset.project, role=AccessRole.READ, user=reader)
    head = version_head(dataset)
    page = f"/versions/{head.pk}/"

    client.force_login(reader)
    assert 'data-testid="annotation-import"' not in client.get(page).content.decode()
    refused = client.post(f"{page}annotations/import/", {"format": "coco", "images_prefix": PREFIX,
                                                          "file": SimpleUploadedFile("i.json", b"{}")}, follow=True)
    assert "needs the write role" in refused.content.decode() and not AnnotationJob.objects.exists()

    client.force_login(writer)
    assert 'data-testid="annotation-import"' in client.get(page).content.decode()
    upload = SimpleUploadedFile("instances.json", json.dumps(coco_file()).encode())
    answer = client.post(f"{page}annotations/import/", {"format": "coco", "images_prefix": PREFIX, "file": upload},
                         follow=True)
    assert "Importing instances.json" in answer.content.decode()
    _finished()
    missing = client.post(f"{page}annotations/import/", {"format": "coco", "images_prefix": PREFIX}, follow=True)
    assert "file: choose the annotation file" in missing.content.decode()

    client.force_login(reader)
    client.post(f"{page}annotations/export/", {"format": "coco"})
    _finished()
    shown = client.get(page).content.decode()
    assert shown.count('data-status="succeeded"') == 2 and "6 of 6 images, 18 annotations" in shown
    export = AnnotationJob.objects.get(kind="export")
    link = f"/api/annotation-jobs/{export.pk}/download/"
    assert link in shown
    archive = client.get(link)
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"
    assert len(b"".join(archive.streaming_content)) == export.size
