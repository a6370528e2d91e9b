from __future__ import annotations

from functools import lru_cache, partial

from django.core.files.storage import Storage
from storages.utils import clean_name

from hyperdatasets.storage.base import StorageProvider
from hyperdatasets.storage.credentials import Credentials, credentials_for
from hyperdatasets.storage.deleting import DELETED, KeyResult, all_keys, http_outcome

_RETRY_CODES = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttling",
                "ThrottlingException", "RequestLimitExceeded", "TooManyRequests", "503", "500", "429"}
_GONE_CODES = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "404"}


_ENVIRONMENT_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


def _session_and_client(credentials: Credentials, max_pool_connections: int):
    import os

    from django.conf import settings

    endpoint = credentials.endpoint_url or settings.AWS_S3_ENDPOINT_URL or ""
    environment = () if credentials.access_key else tuple(os.environ.get(k) for k in _ENVIRONMENT_KEYS)
    return _session_client(credentials, endpoint, max_pool_connections, environment)


@lru_cache(maxsize=64)
def _session_client(credentials: Credentials, endpoint: str, max_pool_connections: int, environment: tuple):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id=credentials.access_key or None,
                                    aws_secret_access_key=credentials.secret or None)
    # botocore retries a throttled call once; the deletion job's own backoff takes over after that.
    config = Config(retries={"mode": "standard", "max_attempts": 2}, max_pool_connections=max_pool_connections,
                    region_name=credentials.region or None)
    client = session.client("s3", config=config, endpoint_url=endpoint or None)
    return session, client


def s3_client(credentials: Credentials, *, max_pool_connections: int = 10):
    """One client per credentials and endpoint, kept for the process (boto3 clients are thread-safe and
    costly to build). Without credentials of its own it takes the environment's; the instance metadata
    endpoint is asked only where AWS_EC2_METADATA_DISABLED is set to false (settings)."""
    return _session_and_client(credentials, max_pool_connections)[1]


def has_s3_credentials(credentials: Credentials) -> bool:
    return _session_and_client(credentials, 10)[0].get_credentials() is not None


def _delete_objects(client, bucket: str, keys: list[str]) -> dict[str, KeyResult]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys],
                                                                "Quiet": True})
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        message = f"S3 {code or status}: {error.get('Message', '')}".strip()
        if code in _GONE_CODES:
            return all_keys(keys, DELETED)
        if code in _RETRY_CODES:
            return all_keys(keys, KeyResult("retry", message))
        return all_keys(keys, http_outcome(int(status), message) if status else KeyResult("error", message))
    except BotoCoreError as exc:  # connection refused, timeouts, ...
        return all_keys(keys, KeyResult("retry", f"S3: {exc}"))
    results = all_keys(keys, DELETED)
    for error in response.get("Errors", []):
        code = error.get("Code", "")
        if code in _GONE_CODES:
            continue
        outcome = "retry" if code in _RETRY_CODES else "error"
        results[error["Key"]] = KeyResult(outcome, f"S3 {code}: {error.get('Message', '')}".strip())
    return results


class S3Provider(StorageProvider):
    scheme = "s3"
    can_delete_sources = True
    batch_size = 1000  # DeleteObjects takes at most 1,000 keys

    def handles_storage(self, storage: Storage) -> bool:
        return type(storage).__module__.startswith("storages.backends.s3")

    def uri_for(self, storage: Storage, name: str) -> str:
        key = storage._normalize_name(clean_name(name))
        return f"s3://{storage.bucket_name}/{key}"

    def browser_url(self, uri: str) -> str | None:
        """A presigned GET URL valid for HYPERDATASETS_SIGNED_URL_SECONDS (credentials never leave the server)."""
        from django.conf import settings

        bucket, _, key = uri[len("s3://"):].partition("/")
        if not bucket or not key:
            return None
        credentials = credentials_for("s3", bucket)
        if not has_s3_credentials(credentials):
            return None
        client = s3_client(credentials)
        return client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                             ExpiresIn=settings.HYPERDATASETS_SIGNED_URL_SECONDS)

    def deleter(self, bucket: str, account: str = ""):
        client = s3_client(credentials_for("s3", bucket), max_pool_connections=32)
        return partial(_delete_objects, client, bucket)
