from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from hyperdatasets.models import DeletionJob, StorageCredential
from hyperdatasets.storage.credentials import encrypt_secret
from tests.deletion import servers


class Stores:
    """One fresh bucket in each store, with a credential row pointing at it (as an admin would add)."""

    def __init__(self, s3_endpoint: str, gcs_endpoint: str, azure_endpoint: str) -> None:
        import boto3
        from azure.storage.blob import BlobServiceClient
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        suffix = uuid.uuid4().hex[:10]
        self.buckets = {"s3": f"s3-{suffix}", "gs": f"gs-{suffix}", "azure": f"az-{suffix}"}
        self.endpoints = {"s3": s3_endpoint, "gs": gcs_endpoint, "azure": azure_endpoint}
        self.s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        self.s3.create_bucket(Bucket=self.buckets["s3"])
        self.gcs = storage.Client(project="test", credentials=AnonymousCredentials(),
                                  client_options={"api_endpoint": gcs_endpoint})
        self.gcs_bucket = self.gcs.create_bucket(self.buckets["gs"])
        self.azure = BlobServiceClient.from_connection_string(servers.azurite_connection_string(azure_endpoint))
        self.container = self.azure.create_container(self.buckets["azure"])
        self.point_at(s3_endpoint, gcs_endpoint, azure_endpoint)

    def point_at(self, s3: str | None = None, gs: str | None = None, azure: str | None = None) -> None:
        """(Re)write the credential rows; a test may route a store through a proxy."""
        if s3:
            StorageCredential.objects.update_or_create(provider="s3", bucket=self.buckets["s3"], defaults={
                "endpoint_url": s3, "region": "us-east-1", "access_key": "testing",
                "secret_encrypted": encrypt_secret("testing")})
        if gs:
            StorageCredential.objects.update_or_create(provider="gs", bucket=self.buckets["gs"], defaults={
                "endpoint_url": gs, "access_key": "test", "secret_encrypted": ""})
        if azure:
            StorageCredential.objects.update_or_create(provider="azure", bucket=self.buckets["azure"], defaults={
                "secret_encrypted": encrypt_secret(servers.azurite_connection_string(azure))})

    def uri(self, provider: str, key: str) -> str:
        return f"{provider}://{self.buckets[provider]}/{key}"

    def put(self, provider: str, keys) -> None:
        from concurrent.futures import ThreadPoolExecutor

        def one(key):
            if provider == "s3":
                self.s3.put_object(Bucket=self.buckets["s3"], Key=key, Body=b"x")
            elif provider == "gs":
                self.gcs_bucket.blob(key).upload_from_string(b"x")
            else:
                self.container.upload_blob(key, b"x", overwrite=True)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, keys))

    def existing(self, provider: str) -> set[str]:
        if provider == "s3":
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.buckets["s3"])
            return {o["Key"] for page in pages for o in page.get("Contents", [])}
        if provider == "gs":
            return {b.name for b in self.gcs.list_blobs(self.buckets["gs"])}
        return {b.name for b in self.container.list_blobs()}


@pytest.fixture
def stores(db, s3_server, gcs_server, azure_server):
    return Stores(s3_server, gcs_server, azure_server)


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def start_worker(transactional_db):
    """Start Celery workers on Redis against the test database; all are stopped after the test."""
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.fail("the worker tests need Redis as the Celery broker: run scripts/test.sh, or set "
                    "CELERY_BROKER_URL=redis://127.0.0.1:6379/0 and HYPERDATASETS_CELERY_QUEUE=<a queue name>")
    from hyperdatasets.celery import app

    app.control.purge()  # messages of earlier tests name jobs that no longer exist
    workers: list[servers.Worker] = []

    def start(**overrides) -> servers.Worker:
        env = {
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "HYPERDATASETS_CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            "HYPERDATASETS_VAR_DIR": str(settings.VAR_DIR),
            "HYPERDATASETS_DELETE_LEASE_SECONDS": "3",
            "HYPERDATASETS_DELETE_SWEEP_SECONDS": "1",
            "HYPERDATASETS_DELETE_RETRY_BASE_SECONDS": "0.05",
            "HYPERDATASETS_DELETE_RETRY_MAX_SECONDS": "0.5",
            "HYPERDATASETS_CELERY_VISIBILITY_TIMEOUT": "5",
            **{k: str(v) for k, v in overrides.items()},
        }
        env.pop("PYTEST_CURRENT_TEST", None)
        worker = servers.Worker(env, f"w{len(workers)}-{uuid.uuid4().hex[:6]}")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for_job(job_id, timeout: float = 90, on_poll=None, worker=None) -> DeletionJob:
    """Poll the job in the database until it finishes; ``on_poll(job)`` sees every state read."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = DeletionJob.objects.get(pk=job_id)
        if on_poll is not None:
            on_poll(job)
        if job.is_finished:
            return job
        time.sleep(0.05)
    log = worker.log()[-4000:] if worker is not None else ""
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {DeletionJob.objects.get(pk=job_id).status}"
                         f"\n--- worker log ---\n{log}")
