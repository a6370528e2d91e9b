"""get_local_source() and its kin: local copies through the cache, from every place a frame's files live."""

import hashlib
import io
import threading
import uuid
from pathlib import Path

import pytest
import requests
from PIL import Image

from hyperdatasets.models import StorageLocation
from hyperdatasets.sdk import DatasetVersion, FrameGroup, SingleFrame
from hyperdatasets.sdk import cache as sdk_cache
from hyperdatasets.sdk.cache import DownloadError, cached_path
from hyperdatasets.sdk.client import _Client


def _png(colour=(1, 2, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 4), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("HYPERDATASETS_CACHE_DIR", str(folder))
    return folder


def test_uploaded_files_come_through_the_servers_links_once(api, cache, tmp_path, settings, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.png").write_bytes(_png())
    (folder / "a-preview.png").write_bytes(_png((9, 9, 9)))
    (folder / "a-mask.png").write_bytes(_png((0, 0, 0)))
    version = DatasetVersion.create_new_dataset(dataset_name="local-copies")
    frame = SingleFrame(id="a", source=str(folder / "a.png"), preview_uri=str(folder / "a-preview.png"),
                        masks_source=[str(folder / "a-mask.png")])
    assert version.add_frames([frame], auto_upload_destination="raw", local_dataset_root_path=str(folder)) == []
    for name in ("a.png", "a-preview.png", "a-mask.png"):
        (folder / name).unlink()  # only the server has them now
    read = version.get_single_frame("a")
    assert read.source.startswith("file://") and not Path(read.source[len("file://"):]).is_relative_to(folder)
    monkeypatch.setattr(sdk_cache, "local_file", lambda uri: None)  # as on a machine other than the server's
    session = _Client.get().session
    sent = []
    monkeypatch.setattr(session, "request", lambda *a, **kw: sent.append(a[1]) or requests.Session.request(
        session, *a, **kw))
    path = read.get_local_source(raise_on_error=True)
    assert Path(path).read_bytes() == _png() and Path(path).is_relative_to(cache)
    assert path == str(cached_path(read.source, read.source_meta["hash"]))
    assert Path(read.get_local_preview_source()).read_bytes() == _png((9, 9, 9))
    assert Path(read.get_local_mask_source()).read_bytes() == _png((0, 0, 0))
    assert sum("/frame-links/" in url for url in sent) == 1 and sum("/files/" in url for url in sent) == 3
    # Another frame object (another process would do the same): the copy is reused, nothing is fetched.
    sent.clear()
    assert version.get_single_frame("a").get_local_source() == path
    assert not any("/files/" in url for url in sent)


def test_a_copy_that_does_not_match_its_hash_is_refused(api, cache, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "b.png").write_bytes(_png())
    version = DatasetVersion.create_new_dataset(dataset_name="bad-hash")
    assert version.add_frames([SingleFrame(id="b", source=str(tmp_path / "b.png"))],
                              auto_upload_destination="raw", local_dataset_root_path=str(tmp_path)) == []
    read = version.get_single_frame("b")
    read.source_meta["hash"] = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(DownloadError, match="SHA-256"):
        read.get_local_source(raise_on_error=True)
    with pytest.warns(UserWarning, match="could not fetch"):
        assert read.get_local_source() is None
    assert not list(cache.rglob("*.png")) and not list(cache.rglob(".part-*"))  # nothing half-written kept


def test_object_stores_presigned_by_the_server_or_read_with_the_environments_credentials(
        api, cache, s3_server, s3_bucket, settings, monkeypatch):
    s3, bucket = s3_bucket
    s3.put_object(Bucket=bucket, Key="served.png", Body=_png())
    s3.put_object(Bucket=bucket, Key="direct.png", Body=_png((5, 5, 5)))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings.AWS_S3_ENDPOINT_URL = s3_server
    version = DatasetVersion.create_new_dataset(dataset_name="stores")
    group = FrameGroup(id="g", served=SingleFrame(source=f"s3://{bucket}/served.png"),
                       direct=SingleFrame(source=f"s3://{bucket}/direct.png"))
    assert version.add_frames([group]) == []
    read = version.get_single_frame("g")
    foreign = []
    real_get = requests.get
    monkeypatch.setattr(requests, "get", lambda url, **kw: foreign.append((url, kw.get("headers"))) or
                        real_get(url, **kw))
    # Not registered: the server serves neither; the SDK reads them itself with the environment's credentials.
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    assert Path(read["direct"].get_local_source(raise_on_error=True)).read_bytes() == _png((5, 5, 5))
    assert foreign == []
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    StorageLocation.objects.create(provider="s3", location=bucket)
    served = version.get_single_frame("g").get_local_sources(raise_on_error=True)
    assert Path(served["served"]).read_bytes() == _png()
    [(url, headers)] = [f for f in foreign if "served.png" in f[0]]
    assert url.startswith(s3_server) and "Signature" in url and not headers  # presigned; no API token sent


def test_gcs_and_azure_objects_are_read_with_the_environments_credentials(api, cache, gcs_server, azure_server,
                                                                          monkeypatch):
    from azure.storage.blob import BlobServiceClient
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as gcs

    from tests.deletion.servers import azurite_connection_string

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "test")
    client = gcs.Client(project="test", credentials=AnonymousCredentials())
    bucket = client.create_bucket(f"copies-{uuid.uuid4().hex[:8]}")
    bucket.blob("g.png").upload_from_string(_png((7, 7, 7)))
    connection = azurite_connection_string(azure_server)
    container = BlobServiceClient.from_connection_string(connection).create_container(f"c{uuid.uuid4().hex[:8]}")
    container.upload_blob("z.png", _png((8, 8, 8)))
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection)
    version = DatasetVersion.create_new_dataset(dataset_name="other-stores")
    group = FrameGroup(id="g", gcs=SingleFrame(source=f"gs://{bucket.name}/g.png"),
                       azure=SingleFrame(source=f"azure://{container.container_name}/z.png"))
    assert version.add_frames([group]) == []
    copies = version.get_single_frame("g").get_local_sources(raise_on_error=True)
    assert Path(copies["gcs"]).read_bytes() == _png((7, 7, 7))
    assert Path(copies["azure"]).read_bytes() == _png((8, 8, 8))


def test_processes_sharing_the_cache_never_see_half_a_file(cache, tmp_path):
    """Six processes copy the same 10 MB file into one cache folder at once, each forcing its own download:
    every one answers the same path, which holds the whole file, and no temporary file is left."""
    import subprocess
    import sys

    source = tmp_path / "big.bin"
    source.write_bytes(bytes(range(256)) * 40_000)
    script = ("import sys; from hyperdatasets.sdk.cache import local_copy; "
              "print(local_copy(sys.argv[1], force_download=True))")
    runs = [subprocess.Popen([sys.executable, "-c", script, f"file://{source}"], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2]) for _ in range(6)]
    paths = {run.communicate(timeout=120)[0].strip() for run in runs}
    assert all(run.returncode == 0 for run in runs) and len(paths) == 1
    assert Path(paths.pop()).read_bytes() == source.read_bytes()
    assert not list(cache.rglob(".part-*"))


def test_a_file_nobody_can_fetch_is_none_with_a_warning(api, cache):
    version = DatasetVersion.create_new_dataset(dataset_name="unreachable")
    assert version.add_frames([SingleFrame(id="x", source="file:///nonexistent/x.png")]) == []
    read = version.get_single_frame("x")
    with pytest.warns(UserWarning, match="could not fetch"):
        assert read.get_local_source() is None
    with pytest.raises(DownloadError, match="not served"):
        read.get_local_source(raise_on_error=True)


def test_https_files_are_fetched_directly_without_our_token(api, cache, tmp_path, monkeypatch):
    """A TLS server with its own test CA (trustme): the copy comes from the URL itself, verified, and the
    request carries no Authorization header."""
    import http.server
    import ssl

    import trustme

    authority = trustme.CA()
    certificate = authority.issue_cert("localhost")
    seen_headers = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            seen_headers.append(dict(self.headers))
            body = _png((3, 3, 3))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    try:
        uri = f"https://localhost:{server.server_address[1]}/images/h.png"
        version = DatasetVersion.create_new_dataset(dataset_name="https-copies")
        assert version.add_frames([SingleFrame(id="h", source=uri)]) == []
        path = version.get_single_frame("h").get_local_source(raise_on_error=True)
        assert Path(path).read_bytes() == _png((3, 3, 3)) and Path(path).name == "h.png"
        assert len(seen_headers) == 1 and "Authorization" not in seen_headers[0]
    finally:
        server.shutdown()
