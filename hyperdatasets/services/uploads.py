"""Uploads of source files, previews and masks into the configured media storage.

Files land under ``datasets/<dataset id>/<kind>s/`` of Django's default storage (local folder by default; S3
and others through django-storages settings): at the relative ``path`` given, else at
``<sha-256 of the content>/<file name>``. An upload never changes a stored file: the same content at the same
place answers the stored file's URI without writing it again (so a re-run registers nothing twice), and other
content for a taken path goes to ``<path's folder>/<sha-256>/<file name>``. The result carries the URI to put
in a frame, the content's SHA-256 and, for images, the size read with Pillow.
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import storages
from PIL import Image, UnidentifiedImageError

from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.models import Dataset
from hyperdatasets.storage import provider_for_storage
from hyperdatasets.upload_paths import MAX_PART_LENGTH, MAX_UPLOAD_PATH_LENGTH, is_upload_path, safe_part

UPLOAD_KINDS = ("source", "preview", "mask")


@dataclass
class StoredUpload:
    uri: str
    content_type: str | None
    size: int
    width: int | None
    height: int | None
    hash: str  # SHA-256 of the content, hex
    name: str = ""  # its name in media storage
    created: bool = False  # stored by this call (False: the same content was there already)

    def as_dict(self) -> dict:
        return {"uri": self.uri, "content_type": self.content_type, "size": self.size, "width": self.width,
                "height": self.height, "hash": self.hash}


def content_hash(fileobj: IO[bytes]) -> str:
    """The SHA-256 (hex) of a file's content, read in chunks; the file is left at its start."""
    fileobj.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def _stored_hash(storage, name: str) -> str | None:
    if not storage.exists(name):
        return None
    with storage.open(name, "rb") as stored:
        return content_hash(stored)


def _safe_name(filename: str) -> str:
    return safe_part(filename.replace("\\", "/").rsplit("/", 1)[-1])


def _image_size(fileobj: IO[bytes]) -> tuple[int | None, int | None]:
    fileobj.seek(0)
    try:
        with Image.open(fileobj) as image:
            size = image.size
    except (UnidentifiedImageError, OSError):
        size = (None, None)
    fileobj.seek(0)
    return size


def _relative_path(path: str) -> str:
    """A relative path kept under the dataset's folder, as given: ``upload_paths``' rule, or a refusal."""
    if not is_upload_path(path):
        raise InvalidInput.for_field(
            "path", f"must be a relative path of at most {MAX_UPLOAD_PATH_LENGTH} characters whose '/'-separated "
                    f"parts are 1-{MAX_PART_LENGTH} ASCII letters, digits, '.', '_' and '-' (not '.' or '..')")
    return path


def upload_store(dataset: Dataset, *, kind: str, filename: str, fileobj: IO[bytes], size: int,
                 content_type: str | None = None, path: str | None = None) -> StoredUpload:
    """Store a file; ``path`` (relative, e.g. ``raw/cam1/a.jpg``) keeps the layout of the user's folder."""
    if kind not in UPLOAD_KINDS:
        raise InvalidInput.for_field("kind", f"must be one of {', '.join(UPLOAD_KINDS)}")
    if not isinstance(filename, str) or not filename:
        raise InvalidInput.for_field("file", "needs a file name")
    if size > settings.HYPERDATASETS_UPLOAD_MAX_BYTES:
        raise InvalidInput.for_field("file", f"must be at most {settings.HYPERDATASETS_UPLOAD_MAX_BYTES} bytes")
    content_type = content_type or mimetypes.guess_type(filename)[0]
    width, height = _image_size(fileobj)
    if kind == "mask" and width is None:
        raise InvalidInput.for_field("file", "a mask must be an image Pillow can read (e.g. PNG)")
    digest = content_hash(fileobj)
    base = f"datasets/{dataset.pk}/{kind}s"
    storage = storages["default"]
    if path is not None:
        name = f"{base}/{_relative_path(path)}"
        held = _stored_hash(storage, name)
        if held is not None and held != digest:  # taken by other content: never overwrite a stored file
            folder, file_name = posixpath.split(name)
            name = f"{folder}/{digest}/{file_name}"
            held = _stored_hash(storage, name)
    else:
        name = f"{base}/{digest}/{_safe_name(filename)}"
        held = _stored_hash(storage, name)
    created = held != digest
    if created:
        name = storage.save(name, File(fileobj, name=_safe_name(filename)))
    uri = provider_for_storage(storage).uri_for(storage, name)
    return StoredUpload(uri, content_type, size, width, height, digest, name, created)
