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

    def browser_url(self, uri: str) -> str | None:
        """A presigned GET URL valid for HYPERDATASETS_SIGNED_URL_SECONDS (credentials never leave the server)."""
        import boto3
        from django.conf import settings

        bucket, _, key = uri[len("s3://"):].partition("/")
        if not bucket or not key:
            return None
        client = boto3.client("s3", endpoint_url=settings.AWS_S3_ENDPOINT_URL or None)
        return client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                             ExpiresIn=settings.HYPERDATASETS_SIGNED_URL_SECONDS)
