from __future__ import annotations

from abc import ABC, abstractmethod

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage


class StorageProvider(ABC):
    """One kind of storage: the URI scheme of its objects and what can be done with them."""

    scheme: str
    #: Objects may be deleted by a deletion job (local files never are).
    can_delete_sources: bool = False

    @abstractmethod
    def handles_storage(self, storage: Storage) -> bool:
        """Whether this provider serves a django-storages backend instance."""

    @abstractmethod
    def uri_for(self, storage: Storage, name: str) -> str:
        """The URI to put in a frame for a file saved under ``name``."""

    def handles_uri(self, uri: str) -> bool:
        return uri.startswith(self.scheme + "://")

    def browser_url(self, uri: str) -> str | None:
        """A URL a browser may load for this object for a short time, or None when it cannot be shown."""
        return None

    #: Keys per batch delete request (the provider's limit).
    batch_size: int = 0

    def deleter(self, bucket: str, account: str = ""):
        """A callable ``(keys) -> {key: KeyResult}`` deleting keys of one bucket in one batch request."""
        raise NotImplementedError(f"{self.scheme}:// objects are never deleted")


def _providers() -> list[StorageProvider]:
    from hyperdatasets.storage.azure import AzureProvider
    from hyperdatasets.storage.gcs import GCSProvider
    from hyperdatasets.storage.local import LocalProvider
    from hyperdatasets.storage.s3 import S3Provider

    return [LocalProvider(), S3Provider(), GCSProvider(), AzureProvider()]


def provider_for_storage(storage: Storage) -> StorageProvider:
    for provider in _providers():
        if provider.handles_storage(storage):
            return provider
    raise ImproperlyConfigured(f"no storage provider serves {type(storage).__module__}.{type(storage).__name__}")


def provider_for_uri(uri: str) -> StorageProvider | None:
    return next((p for p in _providers() if p.handles_uri(uri)), None)


def provider_for_scheme(scheme: str) -> StorageProvider:
    """The provider of ``scheme://`` URIs (``s3``, ``gs``, ``azure``, ``file``)."""
    provider = next((p for p in _providers() if p.scheme == scheme), None)
    if provider is None:
        raise ImproperlyConfigured(f"no storage provider serves {scheme}:// URIs")
    return provider
