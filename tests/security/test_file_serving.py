"""What the pages serve of a frame's files, tried as an attacker would: stored XSS through uploads, frames
pointing at other datasets' files or at any bucket, links replayed by another user, and pages that broke on
a frame's URI."""

import base64
import io
import re
import socket
import time

import pytest
from PIL import Image

from hyperdatasets.content_security import PAGE_CSP
from hyperdatasets.models import StorageLocation
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.storage.serving import FILE_CSP
from tests.factories import frame

pytestmark = pytest.mark.django_db

EVIL_HTML = b"<html><script>fetch('/api/auth/me/').then(r => r.text()).then(alert)</script></html>"
EVIL_SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def _upload(client, dataset, name: str, data: bytes) -> str:
    response = client.post(f"/api/datasets/{dataset.pk}/uploads/",
                           {"file": _named(name, data), "kind": "source"},
                           format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["uri"]


def _named(name: str, data: bytes):
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


def _add(client, version, frames):
    response = client.post(f"/api/versions/{version.pk}/frames/", {"frames": frames}, format="json")
    assert response.status_code == 200 and not response.json()["failed"], response.content


def _frame_page_links(client, version, frame_id) -> list[str]:
    page = client.get(f"/versions/{version.pk}/frames/{frame_id}/")
    assert page.status_code == 200
    return re.findall(r'src="(/files/[^"]+)"', page.content.decode())


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.HYPERDATASETS_LOCAL_ROOTS = []
    return settings.MEDIA_ROOT


@pytest.fixture
def writer_page(client, people):
    client.force_login(people["writer"])
    return client


def test_uploaded_html_and_svg_are_downloads_never_pages(clients, writer_page, dataset):
    head = version_head(dataset)
    uris = {name: _upload(clients["write"], dataset, name, data)
            for name, data in [("evil.html", EVIL_HTML), ("evil.svg", EVIL_SVG), ("ok.png", _png())]}
    _add(clients["write"], head, [frame(name, uri=uri) for name, uri in uris.items()])
    for name in ("evil.html", "evil.svg"):
        [link] = _frame_page_links(writer_page, head, name)
        response = writer_page.get(link)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == FILE_CSP
    [link] = _frame_page_links(writer_page, head, "ok.png")
    image = writer_page.get(link)
    assert image["Content-Type"] == "image/png" and "attachment" not in image.get("Content-Disposition", "")
    assert image["X-Content-Type-Options"] == "nosniff" and image["Content-Security-Policy"] == FILE_CSP
    assert b"".join(image.streaming_content) == _png()


def test_pages_carry_a_policy_without_inline_scripts(writer_page, dataset):
    for url in ["/", f"/datasets/{dataset.pk}/", f"/versions/{version_head(dataset).pk}/", "/api/docs/"]:
        response = writer_page.get(url)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        assert policy == PAGE_CSP and "script-src 'self'" in policy and "unsafe-inline" not in \
            policy.split("script-src")[1].split(";")[0]
        body = response.content.decode()
        inline = [m for m in re.findall(r"<script([^>]*)>(.*?)</script>", body, re.S)
                  if "src=" not in m[0] and 'type="application/json"' not in m[0]]
        assert inline == [], (url, inline[:1])


def test_a_frame_cannot_point_at_another_datasets_uploads_or_any_local_file(clients, writer_page, people, dataset,
                                                                             media, tmp_path):
    secret_set = dataset_create(dataset_name="secret", dataset_project="private", user=people["owner"])
    other_upload = _upload(clients["superuser"], secret_set, "theirs.png", _png())
    assert other_upload.startswith(f"file://{media}")
    stray = tmp_path / "stray.png"
    stray.write_bytes(_png())
    head = version_head(dataset)
    _add(clients["write"], head, [frame("theirs", uri=other_upload), frame("passwd", uri="file:///etc/passwd"),
                                  frame("stray", uri=f"file://{stray}"),
                                  frame("climb", uri=other_upload.replace(f"/datasets/{secret_set.pk}/",
                                                                          f"/datasets/{dataset.pk}/../{secret_set.pk}/"))])
    for frame_id in ("theirs", "passwd", "stray", "climb"):
        assert _frame_page_links(writer_page, head, frame_id) == [], frame_id
        assert "Not served: " in writer_page.get(f"/versions/{head.pk}/frames/{frame_id}/").content.decode()
    # A folder registered for another project serves nothing here; one for this project (or all) does.
    StorageLocation.objects.create(project=secret_set.project, provider="file", location=str(tmp_path))
    assert _frame_page_links(writer_page, head, "stray") == []
    StorageLocation.objects.create(project=dataset.project, provider="file", location=str(tmp_path))
    [link] = _frame_page_links(writer_page, head, "stray")
    assert writer_page.get(link).status_code == 200
    StorageLocation.objects.filter(project=dataset.project).delete()
    assert writer_page.get(link).status_code == 404  # the link dies with the registration
    StorageLocation.objects.create(project=None, provider="file", location=str(tmp_path))
    assert len(_frame_page_links(writer_page, head, "stray")) == 1


def test_links_are_bound_to_their_user_and_opaque(clients, client, writer_page, people, dataset, media, settings):
    head = version_head(dataset)
    uri = _upload(clients["write"], dataset, "a.png", _png())
    _add(clients["write"], head, [frame("a", uri=uri)])
    [link] = _frame_page_links(writer_page, head, "a")
    token = link.split("/")[2]
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert str(media).encode() not in decoded and b"a.png" not in decoded and str(media) not in token
    assert writer_page.get(link).status_code == 200
    client.force_login(people["reader"])  # may see the frame, but the link was made for the writer
    assert client.get(link).status_code == 404
    assert client.get(link.replace(token, token[:-4] + "AAAA")).status_code == 404
    settings.HYPERDATASETS_SIGNED_URL_SECONDS = 1
    time.sleep(2.1)
    assert writer_page.get(link).status_code == 404  # expired


def test_only_registered_buckets_are_presigned(clients, writer_page, people, dataset, s3_bucket, s3_server,
                                               monkeypatch, settings):
    s3, bucket = s3_bucket
    s3.put_object(Bucket=bucket, Key="a.png", Body=_png())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings.AWS_S3_ENDPOINT_URL = s3_server
    head = version_head(dataset)
    _add(clients["write"], head, [frame("cloud", uri=f"s3://{bucket}/a.png")])
    page = writer_page.get(f"/versions/{head.pk}/frames/cloud/").content.decode()
    assert s3_server not in page and "Not served: " in page
    other = dataset_create(dataset_name="x", dataset_project="elsewhere", user=people["owner"])
    StorageLocation.objects.create(project=other.project, provider="s3", location=bucket)
    assert s3_server not in writer_page.get(f"/versions/{head.pk}/frames/cloud/").content.decode()
    StorageLocation.objects.create(project=dataset.project, provider="s3", location=bucket)
    page = writer_page.get(f"/versions/{head.pk}/frames/cloud/").content.decode()
    [url] = re.findall(rf'src="({re.escape(s3_server)}[^"]+)"', page)
    assert "Signature" in url


def test_s3_frames_without_credentials_or_with_bad_buckets_never_break_pages(clients, writer_page, dataset,
                                                                             monkeypatch):
    from hyperdatasets.storage import s3

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    asked = []
    real_getaddrinfo = socket.getaddrinfo

    def recording_getaddrinfo(host, *args, **kwargs):
        asked.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    head = version_head(dataset)
    uris = ["s3://examples/street/000.png", "s3://127.0.0.1:9999/x", "s3://", "s3://b", "gs://b/k", "azure://c/k",
            "azure://acct.blob.core.windows.net/c/k", "https://example.invalid/a.png"]
    _add(clients["write"], head, [frame(f"f{i}", uri=uri) for i, uri in enumerate(uris) if uri != "s3://"])
    for bucket in ("examples", "127.0.0.1:9999", "b"):
        StorageLocation.objects.create(project=dataset.project, provider="s3", location=bucket)
    StorageLocation.objects.create(project=dataset.project, provider="azure", location="c")
    StorageLocation.objects.create(project=dataset.project, provider="gs", location="b")
    s3._session_client.cache_clear()
    assert writer_page.get(f"/versions/{head.pk}/").status_code == 200
    for i, uri in enumerate(uris):
        if uri == "s3://":
            continue
        response = writer_page.get(f"/versions/{head.pk}/frames/f{i}/")
        assert response.status_code == 200, uri
    assert writer_page.get(f"/versions/{head.pk}/").status_code == 200
    assert "169.254.169.254" not in asked and "169.254.170.2" not in asked
    assert s3._session_client.cache_info().currsize <= 2  # one client per store and credentials, not per image


def test_frame_links_for_api_tokens_are_bound_to_their_user(clients, people, dataset, make_client):
    from django.test import Client
    from rest_framework.authtoken.models import Token

    head = version_head(dataset)
    uri = _upload(clients["write"], dataset, "a.png", _png())
    _add(clients["write"], head, [frame("a", uri=uri), frame("b", uri="file:///etc/passwd"),
                                  frame("c", uri="s3://unregistered/x.png")])
    links = clients["read"].get(f"/api/versions/{head.pk}/frame-links/a/").json()["links"]
    [link] = links.values()
    assert link.startswith("http://testserver/files/")
    for frame_id, unserved in (("b", "file:///etc/passwd"), ("c", "s3://unregistered/x.png")):
        assert clients["read"].get(f"/api/versions/{head.pk}/frame-links/{frame_id}/").json()["links"] == {
            unserved: None}
    assert clients["outsider"].get(f"/api/versions/{head.pk}/frame-links/a/").status_code == 404
    path = link[len("http://testserver"):]

    def fetch(token_of=None, key=None):
        key = key or Token.objects.get_or_create(user=people[token_of])[0].key
        return Client().get(path, HTTP_AUTHORIZATION=f"Token {key}")

    answer = fetch("reader")
    assert answer.status_code == 200 and b"".join(answer.streaming_content) == _png()
    assert answer["Content-Security-Policy"] == FILE_CSP
    assert fetch("writer").status_code == 404  # a link made for the reader
    assert fetch(key="0" * 40).status_code == 404  # a bad token: no sign-in page to follow
    assert Client().get(path).status_code == 302  # no credentials at all: to the sign-in page
