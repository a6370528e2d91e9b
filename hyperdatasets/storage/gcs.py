"""Google Cloud Storage objects (``gs://bucket/key``): batch deletes and signed links.

Credentials: a ``StorageCredential`` row (endpoint for an emulator or private endpoint, project in
``access_key``, a service-account JSON key as the secret), else the environment (``STORAGE_EMULATOR_HOST``,
``GOOGLE_APPLICATION_CREDENTIALS``).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from functools import partial

from django.core.files.storage import Storage
from storages.utils import clean_name

from hyperdatasets.storage.base import StorageProvider
from hyperdatasets.storage.credentials import Credentials, credentials_for
from hyperdatasets.storage.deleting import KeyResult, all_keys, http_outcome


def gcs_client(credentials: Credentials):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    project = credentials.access_key or os.environ.get("GOOGLE_CLOUD_PROJECT") or None
    options = {"api_endpoint": credentials.endpoint_url} if credentials.endpoint_url else None
    if credentials.secret:
        from google.oauth2 import service_account

        info = json.loads(credentials.secret)
        signer = service_account.Credentials.from_service_account_info(info)
        return storage.Client(project=project or info.get("project_id"), credentials=signer, client_options=options)
    if credentials.endpoint_url or os.environ.get("STORAGE_EMULATOR_HOST"):
        # An emulator or an endpoint that takes no credentials.
        return storage.Client(project=project or "hyperdatasets", credentials=AnonymousCredentials(),
                              client_options=options)
    return storage.Client(project=project, client_options=options)


def _delete_batch(client, bucket_name: str, keys: list[str]) -> dict[str, KeyResult]:
    from google.api_core import exceptions as gexc
    from requests import RequestException

    bucket = client.bucket(bucket_name)
    batch = client.batch(raise_exception=False)
    try:
        with batch:
            for key in keys:
                bucket.blob(key).delete()
    except gexc.GoogleAPICallError as exc:  # the whole batch request was refused
        return all_keys(keys, http_outcome(int(exc.code or 0), f"GCS {exc.code}: {exc.message}"))
    except (RequestException, OSError) as exc:
        return all_keys(keys, KeyResult("retry", f"GCS: {exc}"))
    # With raise_exception=False the batch keeps one response per call, in call order.
    responses = batch._responses
    results = {}
    for key, response in zip(keys, responses, strict=False):
        status = int(response.status_code)
        results[key] = http_outcome(status, f"GCS {status}: {str(getattr(response, 'content', ''))[:200]}")
    for key in keys[len(responses):]:
        results[key] = KeyResult("retry", "GCS: no answer for this object in the batch")
    return results


class GCSProvider(StorageProvider):
    scheme = "gs"
    can_delete_sources = True
    batch_size = 100  # a JSON API batch takes at most 100 calls

    def handles_storage(self, storage: Storage) -> bool:
        return type(storage).__module__.startswith("storages.backends.gcloud")

    def uri_for(self, storage: Storage, name: str) -> str:
        key = storage._normalize_name(clean_name(name))  # with the storage's GS_LOCATION prefix
        return f"gs://{storage.bucket_name}/{key}"

    def browser_url(self, uri: str) -> str | None:
        from urllib.parse import quote

        from django.conf import settings

        bucket, _, key = uri[len("gs://"):].partition("/")
        if not bucket or not key:
            return None
        credentials = credentials_for("gs", bucket)
        if credentials.secret:
            blob = gcs_client(credentials).bucket(bucket).blob(key)
            return blob.generate_signed_url(version="v4", method="GET",
                                            expiration=timedelta(seconds=settings.HYPERDATASETS_SIGNED_URL_SECONDS))
        endpoint = credentials.endpoint_url or os.environ.get("STORAGE_EMULATOR_HOST", "")
        if endpoint:  # an emulator serves objects without signatures
            return f"{endpoint.rstrip('/')}/download/storage/v1/b/{bucket}/o/{quote(key, safe='')}?alt=media"
        return None

    def deleter(self, bucket: str, account: str = ""):
        return partial(_delete_batch, gcs_client(credentials_for("gs", bucket)), bucket)
