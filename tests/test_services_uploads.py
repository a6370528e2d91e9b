import hashlib
import io

import pytest
from django.test import override_settings
from PIL import Image

from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.uploads import upload_store

pytestmark = pytest.mark.django_db


def _png(width=32, height=16, colour=(1, 1, 1)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def test_local_upload_returns_file_uri_with_size(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    dataset = dataset_create(dataset_name="up")
    image = _png()
    stored = upload_store(dataset, kind="source", filename="../../etc/cam 1.png", fileobj=image,
                          size=len(image.getvalue()))
    assert stored.uri.startswith(f"file://{tmp_path}/datasets/{dataset.pk}/sources/")
    assert stored.uri.endswith("/cam_1.png")
    assert (stored.width, stored.height, stored.content_type) == (32, 16, "image/png")
    path = stored.uri[len("file://"):]
    assert open(path, "rb").read() == image.getvalue()
    result = frames_upsert(version_head(dataset), [{"sources": [{"uri": stored.uri, "width": stored.width,
                                                                 "height": stored.height}]}])
    assert result.failures == []


def test_upload_refusals(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    dataset = dataset_create(dataset_name="up")
    with pytest.raises(InvalidInput, match="kind"):
        upload_store(dataset, kind="thumbnail", filename="a.png", fileobj=_png(), size=10)
    with pytest.raises(InvalidInput, match="mask must be an image"):
        upload_store(dataset, kind="mask", filename="m.png", fileobj=io.BytesIO(b"not an image"), size=12)
    settings.HYPERDATASETS_UPLOAD_MAX_BYTES = 10
    with pytest.raises(InvalidInput, match="at most 10 bytes"):
        upload_store(dataset, kind="source", filename="a.png", fileobj=_png(), size=11)
    assert not list(tmp_path.rglob("*.png"))


def _s3_media(s3_server: str, bucket: str):
    """HYPERDATASETS_MEDIA_STORAGE=s3 against the moto server, under AWS_LOCATION 'media'."""
    return override_settings(STORAGES=_storages("storages.backends.s3.S3Storage"), AWS_STORAGE_BUCKET_NAME=bucket,
                             AWS_S3_ENDPOINT_URL=s3_server, AWS_S3_ACCESS_KEY_ID="testing",
                             AWS_S3_SECRET_ACCESS_KEY="testing", AWS_S3_REGION_NAME="us-east-1",
                             AWS_LOCATION="media")


def test_s3_upload_through_django_storages(s3_server, s3_bucket):
    client, bucket = s3_bucket
    dataset = dataset_create(dataset_name="up-s3")
    with _s3_media(s3_server, bucket):
        image = _png(8, 4)
        stored = upload_store(dataset, kind="mask", filename="mask.png", fileobj=image, size=len(image.getvalue()))
    assert stored.uri.startswith(f"s3://{bucket}/media/datasets/{dataset.pk}/masks/")
    key = stored.uri[len(f"s3://{bucket}/"):]
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == image.getvalue()
    assert (stored.width, stored.height) == (8, 4)


def test_relative_path_kept_and_checked(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    dataset = dataset_create(dataset_name="up-path")
    image = _png()
    stored = upload_store(dataset, kind="source", filename="a.png", fileobj=image, size=10, path="raw/cam_1/a.png")
    assert stored.uri == f"file://{tmp_path}/datasets/{dataset.pk}/sources/raw/cam_1/a.png"
    # Kept exactly as given, or refused: never rewritten on the way in.
    for bad in ("/etc/passwd", "raw/../../x.png", "raw//x.png", "./x.png", "raw/cam 1/a.png", "a\\b.png",
                "raw/" + "x" * 201, '{"a": 1}', "raw/é.png", "raw/"):
        with pytest.raises(InvalidInput, match="path"):
            upload_store(dataset, kind="source", filename="a.png", fileobj=_png(), size=10, path=bad)


def _storages(backend: str) -> dict:
    return {"default": {"BACKEND": backend},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def test_gcs_upload_through_django_storages(gcs_server, monkeypatch):
    """HYPERDATASETS_MEDIA_STORAGE=gcs: the file lands in the bucket (gcp-storage-emulator), under GS_LOCATION."""
    import uuid

    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs

    from hyperdatasets.settings import _MEDIA_BACKENDS

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
    client = gcs.Client(project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": gcs_server})
    bucket = client.create_bucket(f"up-{uuid.uuid4().hex[:10]}").name
    dataset = dataset_create(dataset_name="up-gcs")
    with override_settings(STORAGES=_storages(_MEDIA_BACKENDS["gcs"]), GS_BUCKET_NAME=bucket, GS_LOCATION="media",
                           GS_CREDENTIALS=AnonymousCredentials(), GS_PROJECT_ID="test"):
        image = _png(8, 4)
        stored = upload_store(dataset, kind="preview", filename="p.png", fileobj=image, size=len(image.getvalue()),
                              path="cam1/p.png")
    assert stored.uri == f"gs://{bucket}/media/datasets/{dataset.pk}/previews/cam1/p.png"
    assert client.bucket(bucket).blob(stored.uri[len(f"gs://{bucket}/"):]).download_as_bytes() == image.getvalue()
    assert (stored.width, stored.height, stored.content_type) == (8, 4, "image/png")


def test_azure_upload_through_django_storages(azure_server):
    """HYPERDATASETS_MEDIA_STORAGE=azure: the file lands in the container (Azurite), under AZURE_LOCATION."""
    import uuid

    from azure.storage.blob import BlobServiceClient

    from hyperdatasets.settings import _MEDIA_BACKENDS
    from tests.deletion.servers import azurite_connection_string

    connection_string = azurite_connection_string(azure_server)
    container = BlobServiceClient.from_connection_string(connection_string).create_container(
        f"up-{uuid.uuid4().hex[:10]}")
    dataset = dataset_create(dataset_name="up-azure")
    with override_settings(STORAGES=_storages(_MEDIA_BACKENDS["azure"]), AZURE_CONTAINER=container.container_name,
                           AZURE_CONNECTION_STRING=connection_string, AZURE_LOCATION="media"):
        image = _png(6, 2)
        stored = upload_store(dataset, kind="source", filename="s.png", fileobj=image, size=len(image.getvalue()),
                              path="raw/s.png")
    assert stored.uri == f"azure://{container.container_name}/media/datasets/{dataset.pk}/sources/raw/s.png"
    key = stored.uri[len(f"azure://{container.container_name}/"):]
    assert container.download_blob(key).readall() == image.getvalue()
    result = frames_upsert(version_head(dataset), [{"sources": [{"uri": stored.uri}]}])
    assert result.failures == []


def test_uploads_never_change_a_stored_file_and_the_same_content_is_stored_once(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    dataset = dataset_create(dataset_name="idempotent")
    first_image, other_image = _png(), _png(4, 4)
    first = upload_store(dataset, kind="source", filename="a.png", fileobj=first_image, size=70, path="raw/a.png")
    again = upload_store(dataset, kind="source", filename="a.png", fileobj=_png(), size=70, path="raw/a.png")
    assert again.uri == first.uri and again.hash == first.hash == hashlib.sha256(first_image.getvalue()).hexdigest()
    other = upload_store(dataset, kind="source", filename="a.png", fileobj=other_image, size=70, path="raw/a.png")
    assert other.uri == f"file://{tmp_path}/datasets/{dataset.pk}/sources/raw/{other.hash}/a.png"
    assert open(first.uri[len("file://"):], "rb").read() == first_image.getvalue()  # untouched
    assert upload_store(dataset, kind="source", filename="a.png", fileobj=_png(4, 4), size=70,
                        path="raw/a.png").uri == other.uri
    unnamed = upload_store(dataset, kind="preview", filename="p.png", fileobj=_png(), size=70)
    assert unnamed.uri.endswith(f"/previews/{first.hash}/p.png")
    assert upload_store(dataset, kind="preview", filename="p.png", fileobj=_png(), size=70).uri == unnamed.uri
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png"))
    assert len(files) == 3, files


def test_s3_uploads_are_stored_once_and_never_overwritten(s3_server, s3_bucket):
    client, bucket = s3_bucket
    dataset = dataset_create(dataset_name="idempotent-s3")
    with _s3_media(s3_server, bucket):
        first = upload_store(dataset, kind="source", filename="a.png", fileobj=_png(), size=70, path="a.png")
        again = upload_store(dataset, kind="source", filename="a.png", fileobj=_png(), size=70, path="a.png")
        other = upload_store(dataset, kind="source", filename="a.png", fileobj=_png(3, 3), size=70, path="a.png")
    assert again.uri == first.uri == f"s3://{bucket}/media/datasets/{dataset.pk}/sources/a.png"
    assert other.uri == f"s3://{bucket}/media/datasets/{dataset.pk}/sources/{other.hash}/a.png"
    listed = client.list_objects_v2(Bucket=bucket, Prefix=f"media/datasets/{dataset.pk}/")["Contents"]
    assert sorted(o["Key"] for o in listed) == [f"media/datasets/{dataset.pk}/sources/{other.hash}/a.png",
                                               f"media/datasets/{dataset.pk}/sources/a.png"]
    assert client.get_object(Bucket=bucket, Key=first.uri.split("/", 3)[3])["Body"].read() == _png().getvalue()
