"""The attacks once more over a real socket, against the live server: what a browser or script would see."""

import gzip
import io
import re

import pytest
import requests
from PIL import Image
from rest_framework.authtoken.models import Token

from hyperdatasets.models import Dataset, DatasetVersion
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.projects import project_create
from tests.factories import frame

pytestmark = pytest.mark.django_db(transaction=True)


def _api(user) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"
    return session


def _browser(live_server, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{live_server.url}/accounts/login/", timeout=10)
    response = session.post(f"{live_server.url}/accounts/login/", timeout=10, data={
        "username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]})
    assert response.status_code == 200 and "/accounts/login/" not in response.url
    return session


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_over_http(live_server, people, dataset, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    writer = _api(people["writer"])
    base = live_server.url
    head = version_head(dataset)
    uploads = {}
    for name, data, kind in [("evil.html", b"<script>alert(1)</script>", "text/html"), ("a.png", _png(), "image/png")]:
        answer = writer.post(f"{base}/api/datasets/{dataset.pk}/uploads/", files={"file": (name, data, kind)},
                             data={"kind": "source"}, timeout=10)
        assert answer.status_code == 201, answer.text
        uploads[name] = answer.json()["uri"]
    added = writer.post(f"{base}/api/versions/{head.pk}/frames/", timeout=10,
                        json={"frames": [frame(n, uri=u) for n, u in uploads.items()]})
    assert added.json()["saved"] == 2
    # Stored XSS: the page links the upload, the link answers a download, never HTML from this origin.
    page = _browser(live_server, "writer", "pw-writer-123")
    html = page.get(f"{base}/versions/{head.pk}/frames/evil.html/", timeout=10)
    assert html.headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self'")
    [link] = re.findall(r'src="(/files/[^"]+)"', html.text)
    served = page.get(base + link, timeout=10)
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert served.headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in served.headers[
        "Content-Security-Policy"]
    # The link is the writer's: the reader, who may see the frame, gets nothing from it.
    assert _browser(live_server, "reader", "pw-reader-123").get(base + link, timeout=10).status_code == 404
    # Deep nesting, plain and gzip: 400 with the limit, nothing written.
    deep = b'{"frames":[{"sources":[{"uri":"s3://b/k"}],"meta":' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}]}"
    for body, headers in [(deep, {}), (gzip.compress(deep), {"Content-Encoding": "gzip"})]:
        refused = writer.post(f"{base}/api/versions/{head.pk}/frames/", data=body, timeout=10,
                              headers={"Content-Type": "application/json", **headers})
        assert refused.status_code == 400 and "128 levels" in refused.json()["error"]["message"]
    # A body over the limit is refused from its declared length, before the server reads it.
    big = b'{"frames":[' + b" " * (settings.HYPERDATASETS_FRAMES_MAX_BYTES + 1) + b"]}"
    too_big = writer.post(f"{base}/api/versions/{head.pk}/frames/", data=big, timeout=30,
                          headers={"Content-Type": "application/json"})
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "too_large"
    assert DatasetVersion.objects.get(pk=head.pk).frame_count == 2
    # Escalation by moving: the writer owns a project, and still may not move the dataset into it.
    mine = project_create(name="writers-own", user=people["writer"])
    moved = writer.patch(f"{base}/api/datasets/{dataset.pk}/", json={"project_id": str(mine.pk)}, timeout=10)
    assert moved.status_code == 403
    assert writer.patch(f"{base}/api/datasets/{dataset.pk}/", json={"project_id": None}, timeout=10
                        ).status_code == 403
    assert Dataset.objects.get(pk=dataset.pk).project == people["project"]
