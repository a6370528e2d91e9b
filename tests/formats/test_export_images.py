"""Exports with their images: the dataset's uploads, files under the local roots and objects of buckets
registered for the project (read through their presigned URLs, from moto's S3 server) are copied into the
archive; an unregistered bucket's object and an https URL are counted, never fetched."""

import io
import zipfile

import pytest
from django.core.files.storage import default_storage

from formats.jobs import annotation_job_run, export_job_create
from formats.models import AnnotationJob
from hyperdatasets.models import StorageLocation
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert

pytestmark = pytest.mark.django_db


def test_export_copies_the_images_the_server_may_read(s3_bucket, s3_server, monkeypatch, settings, tmp_path):
    s3, bucket = s3_bucket
    s3.put_object(Bucket=bucket, Key="cam/a.jpg", Body=b"jpeg-bytes-of-a")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AWS_S3_ENDPOINT_URL = s3_server
    local = tmp_path / "roots"
    local.mkdir()
    (local / "b.jpg").write_bytes(b"jpeg-bytes-of-b")
    settings.HYPERDATASETS_LOCAL_ROOTS = [str(local)]
    dataset = dataset_create(dataset_name="copy", dataset_project="formats")
    StorageLocation.objects.create(project=dataset.project, provider="s3", location=bucket)
    head = version_head(dataset)
    box = {"label": ["car"], "poly": [0, 0, 2, 0, 2, 2, 0, 2], "meta": {"_type": "b2d"}}
    frames = [{"id": name, "sources": [{"uri": uri, "width": 4, "height": 4}], "rois": [box]} for name, uri in [
        ("a.jpg", f"s3://{bucket}/cam/a.jpg"), ("b.jpg", f"file://{local}/b.jpg"),
        ("c.jpg", "s3://some-other-bucket/c.jpg"), ("d.jpg", "https://example.invalid/d.jpg")]]
    assert frames_upsert(head, frames).failures == []
    from hyperdatasets.storage import s3 as s3_provider

    s3_provider._session_client.cache_clear()
    job = annotation_job_run(export_job_create(head, format="voc", include_images=True).pk, owner="here")
    assert job.status == "succeeded", job.error
    job = AnnotationJob.objects.get(pk=job.pk)
    assert job.report == {"images not copied (not in this server's storage)": 2}
    with default_storage.open(job.file, "rb") as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as archive:
        assert archive.read("JPEGImages/a.jpg") == b"jpeg-bytes-of-a"
        assert archive.read("JPEGImages/b.jpg") == b"jpeg-bytes-of-b"
        assert "JPEGImages/c.jpg" not in archive.namelist() and "JPEGImages/d.jpg" not in archive.namelist()


def test_an_export_never_copies_files_outside_what_the_dataset_may_serve(settings, tmp_path):
    """Hostile frames: a local file outside the roots, a path climbing out of them, another dataset's upload."""
    local = tmp_path / "roots"
    local.mkdir()
    (tmp_path / "secret.txt").write_bytes(b"not yours")
    settings.HYPERDATASETS_LOCAL_ROOTS = [str(local)]
    other = dataset_create(dataset_name="other", dataset_project="elsewhere")
    other_upload = default_storage.save(f"datasets/{other.pk}/sources/s.jpg", io.BytesIO(b"other's image"))
    from django.core.files.storage import storages

    from hyperdatasets.storage.base import provider_for_storage

    storage = storages["default"]
    dataset = dataset_create(dataset_name="mine", dataset_project="formats")
    box = {"label": ["car"], "poly": [0, 0, 2, 0, 2, 2, 0, 2], "meta": {"_type": "b2d"}}
    uri_for = provider_for_storage(storage).uri_for
    uris = ["file:///etc/passwd", f"file://{local}/../secret.txt", uri_for(storage, other_upload),
            uri_for(storage, f"datasets/{dataset.pk}/../{other_upload}")]
    assert frames_upsert(version_head(dataset), [
        {"id": f"f{i}.jpg", "sources": [{"uri": uri, "width": 4, "height": 4}], "rois": [box]}
        for i, uri in enumerate(uris)]).failures == []
    job = annotation_job_run(export_job_create(version_head(dataset), format="yolo", include_images=True).pk,
                             owner="here")
    assert job.status == "succeeded", job.error
    job = AnnotationJob.objects.get(pk=job.pk)
    assert job.report == {"images not copied (not in this server's storage)": 4}
    with default_storage.open(job.file, "rb") as stored, zipfile.ZipFile(io.BytesIO(stored.read())) as archive:
        assert not [name for name in archive.namelist() if name.startswith("images/") and not name.endswith("/")]
