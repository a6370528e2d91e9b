"""Azure Blob objects (``azure://container/key`` or ``azure://account.blob.core.windows.net/container/key``):
blob batch deletes and SAS links.

Credentials: a ``StorageCredential`` row for the container (a connection string as the secret, or the
account URL in ``endpoint_url``, the account name in ``access_key`` and the account key as the secret), else
``AZURE_STORAGE_CONNECTION_STRING``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from functools import partial

from django.core.files.storage import Storage

from hyperdatasets.storage.base import StorageProvider
from hyperdatasets.storage.credentials import Credentials, credentials_for
from hyperdatasets.storage.deleting import DELETED, KeyResult, all_keys, http_outcome


def blob_service(credentials: Credentials, account: str = ""):
    from azure.storage.blob import BlobServiceClient

    # No retries in the SDK (its storage policy waits 15 s and more): the deletion job backs off itself.
    options = {"retry_total": 0}
    secret = credentials.secret
    if secret and ("AccountName=" in secret or "BlobEndpoint=" in secret):
        return BlobServiceClient.from_connection_string(secret, **options)
    if credentials.endpoint_url:
        key = {"account_name": credentials.access_key, "account_key": secret} if secret else None
        return BlobServiceClient(account_url=credentials.endpoint_url, credential=key, **options)
    connection = os.environ.get("AZURE_STORAGE_CONNECTION_STRING", "")
    if connection:
        return BlobServiceClient.from_connection_string(connection, **options)
    if account:
        from azure.identity import DefaultAzureCredential  # optional: only for accounts without keys

        return BlobServiceClient(account_url=f"https://{account}.blob.core.windows.net",
                                 credential=DefaultAzureCredential(), **options)
    raise ValueError("no Azure credentials: set AZURE_STORAGE_CONNECTION_STRING or add a storage credential")


def _delete_batch(container, keys: list[str]) -> dict[str, KeyResult]:
    from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError

    try:
        responses = list(container.delete_blobs(*keys, raise_on_any_failure=False))
    except ResourceNotFoundError:  # the container is gone, and its blobs with it
        return all_keys(keys, DELETED)
    except HttpResponseError as exc:
        status = int(exc.status_code or 0)
        return all_keys(keys, http_outcome(status, f"Azure {status}: {exc.reason or exc.message}"))
    except AzureError as exc:
        return all_keys(keys, KeyResult("retry", f"Azure: {exc.message}"))
    results = {}
    for key, response in zip(keys, responses, strict=False):
        status = int(response.status_code)
        results[key] = http_outcome(status, f"Azure {status}: {response.reason or ''}".strip())
    for key in keys[len(responses):]:
        results[key] = KeyResult("retry", "Azure: no answer for this blob in the batch")
    return results


def _parts(uri: str) -> tuple[str, str, str] | None:
    from hyperdatasets.storage.deleting import parse_object_uri

    ref = parse_object_uri(uri)
    return (ref.account, ref.bucket, ref.key) if ref else None


class AzureProvider(StorageProvider):
    scheme = "azure"
    can_delete_sources = True
    batch_size = 256  # a blob batch takes at most 256 subrequests

    def handles_storage(self, storage: Storage) -> bool:
        return type(storage).__module__.startswith("storages.backends.azure")

    def uri_for(self, storage: Storage, name: str) -> str:
        return f"azure://{storage.azure_container}/{storage._get_valid_path(name)}"  # with AZURE_LOCATION

    def browser_url(self, uri: str) -> str | None:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas
        from django.conf import settings

        parts = _parts(uri)
        if parts is None:
            return None
        account, container, key = parts
        try:
            service = blob_service(credentials_for("azure", container), account)
        except (ValueError, ImportError):
            return None
        account_key = getattr(service.credential, "account_key", None)
        if not account_key:
            return None
        sas = generate_blob_sas(service.account_name, container, key, account_key=account_key,
                                permission=BlobSasPermissions(read=True),
                                expiry=datetime.now(UTC)
                                + timedelta(seconds=settings.HYPERDATASETS_SIGNED_URL_SECONDS))
        return f"{service.get_blob_client(container, key).url}?{sas}"

    def deleter(self, bucket: str, account: str = ""):
        service = blob_service(credentials_for("azure", bucket), account)
        return partial(_delete_batch, service.get_container_client(bucket))
