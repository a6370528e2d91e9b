from __future__ import annotations

from django.core.files.storage import Storage
from storages.utils import clean_name

from hyperdatasets.storage.base import StorageProvider


class S3Provider(StorageProvider):
    scheme = "s3"
    can_delete_sources = True

    def handles_storage(self, storage: Storage) -> bool:
        return type(storage).__module__.startswith("storages.backends.s3")

    def uri_for(self, storage: Storage, name: str) -> str:
        key = storage._normalize_name(clean_name(name))
        return f"s3://{storage.bucket_name}/{key}"
