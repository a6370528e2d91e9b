"""Which files of a dataset the server shows to a user, and the links it gives for them.

A frame may name any URI, but the server lends its credentials and its origin only to objects it was told
to serve:

- uploads made into the frame's own dataset (the media storage's ``datasets/<dataset id>/`` folder);
- objects in a storage location an administrator registered (``StorageLocation``) for the dataset's
  project, or for every project: a bucket, a container, or a local folder (and the folders of the
  ``HYPERDATASETS_LOCAL_ROOTS`` setting, for every project);
- ``https://`` URLs, which the browser loads from their own origin with no credentials of ours;
- files ClearML's client uploaded to this server's files host for the dataset (``clearml_api.files``).

Everything else is "not served". Local files are served by ``/files/<token>/`` with an opaque token: the
user, dataset and path encrypted and authenticated (Fernet, keyed from SECRET_KEY), valid for
HYPERDATASETS_SIGNED_URL_SECONDS, and good only for the user it was made for. Cloud objects get the
provider's presigned URL.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.files.storage import storages
from django.db.models import Q
from django.urls import reverse

from hyperdatasets.models import Dataset, StorageLocation
from hyperdatasets.storage.base import provider_for_scheme, provider_for_storage
from hyperdatasets.storage.deleting import parse_object_uri

logger = logging.getLogger(__name__)

# Served with their own type (inline); anything else is a download (application/octet-stream, attachment).
INLINE_TYPES = frozenset({
    "image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp", "image/tiff",
    "video/mp4", "video/webm", "video/ogg", "video/quicktime", "video/x-matroska", "video/x-msvideo",
})
FILE_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"hyperdatasets.file-link:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@dataclass(frozen=True)
class FileLink:
    user_id: int
    dataset_id: str
    path: str


def link_open(token: str) -> FileLink | None:
    """The link a token was made for, or None when it is forged, altered or expired."""
    try:
        raw = _fernet().decrypt(token.encode("ascii"), ttl=settings.HYPERDATASETS_SIGNED_URL_SECONDS)
        data = orjson.loads(raw)
        return FileLink(int(data["u"]), str(data["d"]), str(data["p"]))
    except (InvalidToken, UnicodeEncodeError, ValueError, KeyError, TypeError):
        return None


def served_content_type(path: Path) -> tuple[str, bool]:
    """The Content-Type to send and whether the file may be shown inline."""
    guessed = mimetypes.guess_type(path.name)[0]
    if guessed in INLINE_TYPES:
        return guessed, True
    return "application/octet-stream", False


def _own_upload_prefix(dataset_id) -> str:
    """The URI prefix of the uploads made into a dataset, in the media storage."""
    storage = storages["default"]
    return provider_for_storage(storage).uri_for(storage, f"datasets/{dataset_id}/_")[:-1]


def own_upload_name(dataset_id, uri: str) -> str | None:
    """The media storage name of one of the dataset's own uploads, from its URI; None for any other URI."""
    prefix = _own_upload_prefix(dataset_id)
    if not isinstance(uri, str) or not uri.startswith(prefix):
        return None
    rest = uri[len(prefix):]
    if not rest or rest.startswith("/") or ".." in rest.split("/"):
        return None
    return f"datasets/{dataset_id}/{rest}"


def local_root_file(uri: str) -> Path | None:
    """A ``file://`` URI's file when it lies in one of the ``HYPERDATASETS_LOCAL_ROOTS`` folders, else None."""
    return _local_file(uri, [Path(p).resolve() for p in settings.HYPERDATASETS_LOCAL_ROOTS])


def _local_file(uri: str, roots: list[Path]) -> Path | None:
    if not uri.startswith("file://"):
        return None
    try:
        path = Path(uri[len("file://"):]).resolve()
        if any(path.is_relative_to(root) for root in roots) and path.is_file():
            return path
    except (OSError, ValueError):  # a NUL byte, a loop of links, a name too long
        pass
    return None


class FileLinks:
    """The links one user gets for one dataset's files; built once per page (one query), then asked per URI."""

    def __init__(self, user, dataset: Dataset) -> None:
        self.user = user
        self.dataset = dataset
        rows = StorageLocation.objects.filter(Q(project__isnull=True) | Q(project_id=dataset.project_id))
        locations = list(rows.values_list("provider", "location"))
        self._buckets = {(provider, location) for provider, location in locations if provider != "file"}
        own = _own_upload_prefix(dataset.pk)
        self._own_prefix = own
        self._roots = [Path(location).resolve() for provider, location in locations if provider == "file"]
        self._roots += [Path(p).resolve() for p in settings.HYPERDATASETS_LOCAL_ROOTS]
        if own.startswith("file://"):
            self._roots.append(Path(own[len("file://"):]).resolve())
        self._known: dict[str, str | None] = {}

    def url(self, uri: str | None) -> str | None:
        """What a page may load for a source, preview or mask URI; None when it is not served."""
        if not uri:
            return None
        if uri not in self._known:
            try:
                self._known[uri] = self._url(uri)
            except Exception:  # a frame's content never breaks a page: the object is just not served
                logger.warning("no link for an object of dataset %s", self.dataset.pk, exc_info=True)
                self._known[uri] = None
        return self._known[uri]

    def object_url(self, uri: str) -> str | None:
        """A presigned URL of a cloud object this dataset may serve (its uploads, a registered bucket or
        container), for the server itself to read (an export copying images); never an arbitrary URL."""
        try:
            ref = parse_object_uri(uri)
            if ref is None:
                return None
            if (ref.provider, ref.bucket) not in self._buckets and not uri.startswith(self._own_prefix):
                return None
            return provider_for_scheme(ref.provider).browser_url(uri)
        except Exception:  # a malformed URI or a store without credentials: not readable
            logger.warning("no URL for an object of dataset %s", self.dataset.pk, exc_info=True)
            return None

    def local_file(self, path: str) -> Path | None:
        """The file at ``path`` if this dataset may still serve it (the locations may have changed)."""
        return _local_file("file://" + path, self._roots)

    def _url(self, uri: str) -> str | None:
        if uri.startswith(("http://", "https://")):
            from clearml_api.files import clearml_file_url  # the ClearML files host's uploads, by their path

            own = clearml_file_url(uri, self.dataset.pk)
            if own is not None:
                return own
        if uri.startswith("https://"):
            return uri
        if uri.startswith("file://"):
            path = _local_file(uri, self._roots)
            return self._local_link(path) if path is not None else None
        ref = parse_object_uri(uri)
        if ref is None:
            return None
        registered = (ref.provider, ref.bucket) in self._buckets
        if not registered and not uri.startswith(self._own_prefix):
            return None
        return provider_for_scheme(ref.provider).browser_url(uri)

    def _local_link(self, path: Path) -> str:
        payload = orjson.dumps({"u": self.user.pk, "d": str(self.dataset.pk), "p": str(path)})
        return reverse("webui:file", args=[_fernet().encrypt(payload).decode("ascii")])
