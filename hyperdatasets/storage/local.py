from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, Storage
from django.urls import reverse

from hyperdatasets.storage.base import StorageProvider


class LocalProvider(StorageProvider):
    scheme = "file"
    can_delete_sources = False

    def handles_storage(self, storage: Storage) -> bool:
        return isinstance(storage, FileSystemStorage)

    def uri_for(self, storage: Storage, name: str) -> str:
        return "file://" + storage.path(name)

    def browser_url(self, uri: str) -> str | None:
        """A signed link to the file view, only for files inside the configured folders."""
        path = local_path(uri)
        if path is None:
            return None
        token = signing.dumps(str(path), salt=FILE_SIGNING_SALT)
        return reverse("webui:file", args=[token])


FILE_SIGNING_SALT = "hyperdatasets.local-file"


def allowed_roots() -> list[Path]:
    return [Path(settings.MEDIA_ROOT).resolve(), *(Path(p).resolve() for p in settings.HYPERDATASETS_LOCAL_ROOTS)]


def local_path(uri: str) -> Path | None:
    """The file of a ``file://`` URI if it lies inside one of the configured folders, else None."""
    if not uri.startswith("file://"):
        return None
    path = Path(uri[len("file://"):]).resolve()
    if any(path.is_relative_to(root) for root in allowed_roots()) and path.is_file():
        return path
    return None
