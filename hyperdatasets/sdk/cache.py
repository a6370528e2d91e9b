"""Local copies of a frame's files, for ``get_local_source()`` and its kin.

Copies live in a cache folder (``HYPERDATASETS_CACHE_DIR``, else ``~/.cache/hyperdatasets``), one per URI and
content hash: ``<folder>/<sha-256 of the URI and hash>/<file name>``. A copy is written to a temporary file
beside its place and moved there atomically, so processes sharing the folder reuse each other's copies and
never read half a file. When the content hash is known (``source.meta.hash``, the SHA-256 an upload
answers), a download is checked against it.

Where a file comes from, first that applies:

- a ``file://`` path that exists on this machine is copied from there;
- ``https://`` URLs are fetched directly (no credentials of ours go with them);
- the link the server gives the caller for the frame's file (its own uploads, files of registered storage
  locations: signed or presigned, as pages get them);
- an object store the server does not serve is read with the store's own client and the credentials in this
  process's environment (boto3 for ``s3://``, google-cloud-storage for ``gs://``, azure-storage-blob for
  ``azure://``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO
from urllib.parse import unquote, urlsplit

import requests

_CHUNK = 1024 * 1024


class DownloadError(RuntimeError):
    """A file could not be fetched, or its content did not match its hash."""


def cache_dir() -> Path:
    return Path(os.environ.get("HYPERDATASETS_CACHE_DIR") or Path.home() / ".cache" / "hyperdatasets")


def cached_path(uri: str, content_hash: str | None) -> Path:
    key = hashlib.sha256(f"{uri}\0{content_hash or ''}".encode()).hexdigest()
    name = unquote(urlsplit(uri).path.rsplit("/", 1)[-1]) or "file"
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:200] or "file"
    return cache_dir() / key[:2] / key / name


def local_copy(uri: str, content_hash: str | None = None, *, link: Callable[[], str | None] | None = None,
               session: requests.Session | None = None, server_url: str | None = None,
               force_download: bool = False) -> Path:
    """The path of a local copy of ``uri``, fetched if the cache does not hold it yet. ``link`` asks the
    server for its download link (or None when it does not serve the file); ``session`` carries the API
    token and goes only to ``server_url``."""
    target = cached_path(uri, content_hash)
    if target.is_file() and not force_download:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=".part-", delete=False)
    try:
        with handle:
            digest = _fetch(uri, handle, link=link, session=session, server_url=server_url)
        if content_hash and digest != content_hash:
            raise DownloadError(f"{uri}: the content's SHA-256 is {digest}, the frame says {content_hash}")
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return target


def local_file(uri: str) -> Path | None:
    """The file a ``file://`` URI names, when it exists on this machine."""
    if not uri.startswith("file://"):
        return None
    path = Path(unquote(uri[len("file://"):]))
    return path if path.is_file() else None


class _Hashing:
    def __init__(self, out: IO[bytes]) -> None:
        self.out, self.digest = out, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.out.write(data)


def _fetch(uri: str, out: IO[bytes], *, link, session, server_url) -> str:
    sink = _Hashing(out)
    local = local_file(uri)
    if local is not None:
        with open(local, "rb") as source:
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                sink.write(chunk)
        return sink.digest.hexdigest()
    url = uri if uri.startswith("https://") else (link() if link is not None else None)
    if url is not None:
        ours = server_url is not None and session is not None and url.startswith(server_url.rstrip("/") + "/")
        getter = session.get if ours else requests.get  # the API token never goes to another host
        response = getter(url, stream=True, timeout=(10, 600), allow_redirects=not ours)
        if response.status_code != 200:
            raise DownloadError(f"{uri}: the download answered {response.status_code}")
        for chunk in response.iter_content(_CHUNK):
            sink.write(chunk)
        return sink.digest.hexdigest()
    _from_store(uri, sink)
    return sink.digest.hexdigest()


def _from_store(uri: str, sink: _Hashing) -> None:
    """Read an object with its store's client and this environment's credentials."""
    scheme, _, rest = uri.partition("://")
    if scheme == "s3":
        import boto3

        bucket, _, key = rest.partition("/")
        client = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
        client.download_fileobj(bucket, key, sink)
    elif scheme == "gs":
        from google.cloud import storage

        bucket, _, key = rest.partition("/")
        storage.Client().bucket(bucket).blob(key).download_to_file(sink)
    elif scheme == "azure":  # azure://<account host>/<container>/<blob> or azure://<container>/<blob>
        from azure.storage.blob import BlobClient

        first, _, path = rest.partition("/")
        account, (container, _, key) = (first, path.partition("/")) if "." in first else (None, (first, "/", path))
        connection = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
        if connection:
            blob = BlobClient.from_connection_string(connection, container, key)
        elif account:
            credential = os.environ.get("AZURE_STORAGE_KEY") or os.environ.get("AZURE_STORAGE_SAS_TOKEN")
            blob = BlobClient(f"https://{account}", container, key, credential=credential)
        else:
            raise DownloadError(f"{uri}: set AZURE_STORAGE_CONNECTION_STRING to read it")
        blob.download_blob().readinto(sink)
    else:
        raise DownloadError(f"{uri}: not served by the server, and not a store this SDK can read "
                            "(s3://, gs://, azure://, https://, or a file on this machine)")
