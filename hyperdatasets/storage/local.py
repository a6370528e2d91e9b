from __future__ import annotations

from django.core.files.storage import FileSystemStorage, Storage

from hyperdatasets.storage.base import StorageProvider


class LocalProvider(StorageProvider):
    """Local files (``file://``): never deleted by a deletion job; served by ``storage.serving``'s links."""

    scheme = "file"
    can_delete_sources = False

    def handles_storage(self, storage: Storage) -> bool:
        return isinstance(storage, FileSystemStorage)

    def uri_for(self, storage: Storage, name: str) -> str:
        return "file://" + storage.path(name)
