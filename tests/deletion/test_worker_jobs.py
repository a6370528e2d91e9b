"""Deletion jobs run by real Celery workers on Redis against moto (S3), gcp-storage-emulator (GCS) and Azurite:
every object goes, referenced ones stay, progress only rises, a SIGKILLed worker's job is finished by
another, and throttling is retried."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from hyperdatasets.models import DeletionJob, ObjectStatus, SourceDeletion
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create, dataset_delete
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.versions import version_publish
from tests.deletion.conftest import wait_for_job
from tests.deletion.servers import ThrottleProxy

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDERS = ("s3", "gs", "azure")


def _group(stores, i: int, shared: bool = False) -> dict:
    """A frame group with one source in each store; its S3 source has a preview and a mask."""
    prefix = "shared" if shared else "only"
    return {
        "id": f"{prefix}-{i}",
        "sources": [
            {"id": "left", "uri": stores.uri("s3", f"{prefix}/{i}.jpg"),
             "preview": {"uri": stores.uri("s3", f"{prefix}/{i}.preview.jpg")},
             "masks": [{"uri": stores.uri("s3", f"{prefix}/{i}.mask.png")}]},
            {"id": "right", "uri": stores.uri("gs", f"{prefix}/{i}.jpg")},
            {"id": "back", "uri": stores.uri("azure", f"{prefix}/{i}.jpg")},
        ],
    }


def _keys(prefix: str, n: int) -> dict[str, list[str]]:
    return {
        "s3": [k for i in range(n)
               for k in (f"{prefix}/{i}.jpg", f"{prefix}/{i}.preview.jpg", f"{prefix}/{i}.mask.png")],
        "gs": [f"{prefix}/{i}.jpg" for i in range(n)],
        "azure": [f"{prefix}/{i}.jpg" for i in range(n)],
    }


def _make_datasets(stores, user, only: int, shared: int):
    """Dataset 'doomed' (its own objects and shared ones, plus a local file and an https URL) and dataset
    'keeper', whose Published version points to the shared objects."""
    own, common = _keys("only", only), _keys("shared", shared)
    for provider in PROVIDERS:
        stores.put(provider, own[provider] + common[provider])
    doomed = dataset_create(dataset_name="doomed", dataset_project="vision", user=user)
    frames_upsert(version_head(doomed), [_group(stores, i) for i in range(only)]
                  + [_group(stores, i, shared=True) for i in range(shared)]
                  + [{"id": "local", "sources": [{"uri": "file:///data/local.png",
                                                  "preview": {"uri": "https://example.com/p.png"}}]}])
    keeper = dataset_create(dataset_name="keeper", dataset_project="vision", user=user)
    frames_upsert(version_head(keeper), [_group(stores, i, shared=True) for i in range(shared)])
    version_publish(version_head(keeper))
    return doomed, own, common


def _assert_consistent(job: DeletionJob) -> None:
    """The counters add up and agree with the ledger, per provider too."""
    assert job.deleted + job.skipped + job.failed == job.total
    ledger = SourceDeletion.objects.filter(job=job)
    for status in (ObjectStatus.DELETED, ObjectStatus.SKIPPED, ObjectStatus.FAILED):
        assert ledger.filter(status=status).count() == getattr(job, status)
    assert not ledger.filter(status=ObjectStatus.PENDING).exists()
    for provider, counts in job.providers.items():
        rows = ledger.filter(provider=provider)
        assert counts["total"] == rows.count()
        assert counts["deleted"] == rows.filter(status=ObjectStatus.DELETED).count()


def test_three_stores_deleted_referenced_kept_progress_rises(stores, start_worker, django_user_model):
    user = django_user_model.objects.create_user(username="owner", password="pw-owner-123")
    doomed, own, common = _make_datasets(stores, user, only=40, shared=5)
    # Rounds of one batch: progress is committed after every batch.
    worker = start_worker(HYPERDATASETS_DELETE_BATCH_LIMIT=7, HYPERDATASETS_DELETE_IN_FLIGHT=2,
                          HYPERDATASETS_DELETE_ROUND_SECONDS=0)

    client = APIClient()
    client.force_authenticate(user)
    response = client.delete(f"/api/datasets/{doomed.pk}/?delete_all_versions=true&delete_sources=true")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["job"]["status"] in ("queued", "running")
    assert response["Location"] == f"/api/deletion-jobs/{body['job']['id']}/"
    # The dataset is gone from every list at once.
    assert client.get("/api/datasets/").json()["results"] == [
        d for d in client.get("/api/datasets/").json()["results"] if d["name"] == "keeper"]

    seen = []
    job = wait_for_job(body["job"]["id"], worker=worker,
                       on_poll=lambda j: seen.append((j.deleted, j.skipped, j.failed)))
    assert job.status == "succeeded", (job.status, job.error)
    for provider in PROVIDERS:
        remaining = stores.existing(provider)
        assert not remaining & set(own[provider]), provider
        assert set(common[provider]) <= remaining, provider
    expected_total = sum(len(v) for v in own.values()) + sum(len(v) for v in common.values()) + 2
    assert job.total == expected_total
    assert job.deleted == sum(len(v) for v in own.values())
    assert job.skipped_reasons == {"referenced": sum(len(v) for v in common.values()), "local": 1, "unsupported": 1}
    assert job.providers["s3"]["deleted"] == 120 and job.providers["gs"]["deleted"] == 40
    assert job.providers["azure"]["deleted"] == 40
    _assert_consistent(job)

    # Progress only goes up, was seen between the ends, and ends at the totals.
    for before, after in zip(seen, seen[1:], strict=False):
        assert all(a >= b for a, b in zip(after, before, strict=True)), (before, after)
    assert any(0 < d < job.deleted for d, _, _ in seen), "no intermediate progress was observed"
    assert seen[-1] == (job.deleted, job.skipped, job.failed)
    api_job = client.get(f"/api/deletion-jobs/{job.pk}/").json()
    assert api_job["deleted"] + api_job["skipped"] + api_job["failed"] == api_job["total"] == job.total


def test_worker_killed_mid_job_another_worker_finishes_it(stores, start_worker, django_user_model):
    user = django_user_model.objects.create_user(username="owner", password="pw-owner-123")
    slow = ThrottleProxy(stores.endpoints["s3"], latency=0.2)
    try:
        stores.point_at(s3=slow.url)
        doomed, own, common = _make_datasets(stores, user, only=100, shared=5)
        first = start_worker(HYPERDATASETS_DELETE_BATCH_LIMIT=10, HYPERDATASETS_DELETE_IN_FLIGHT=1,
                             HYPERDATASETS_DELETE_ROUND_SECONDS=0.3)
        job = dataset_delete(doomed, delete_all_versions=True, delete_sources=True, user=user)

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            before_kill = DeletionJob.objects.get(pk=job.pk)
            if before_kill.deleted >= 60 or before_kill.is_finished:
                break
            time.sleep(0.02)
        assert not before_kill.is_finished, "the job ended before the kill"
        assert before_kill.deleted >= 60
        first.kill()
        killed_at = DeletionJob.objects.get(pk=job.pk)
        assert killed_at.status == "running" and killed_at.deleted < killed_at.total - killed_at.skipped

        second = start_worker(HYPERDATASETS_DELETE_BATCH_LIMIT=50, HYPERDATASETS_DELETE_IN_FLIGHT=2)
        finished = wait_for_job(job.pk, worker=second)
    finally:
        slow.close()
    assert finished.status == "succeeded", (finished.status, finished.error)
    assert finished.runs >= 2
    for provider in PROVIDERS:
        remaining = stores.existing(provider)
        assert not remaining & set(own[provider]), provider
        assert set(common[provider]) <= remaining, provider
    assert finished.deleted == sum(len(v) for v in own.values())
    assert finished.skipped_reasons["referenced"] == sum(len(v) for v in common.values())
    _assert_consistent(finished)


S3_SLOWDOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
               b"<Message>Please reduce your request rate.</Message></Error>")
AZURE_BUSY = (b'<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code>'
              b"<Message>The server is busy.</Message></Error>")
GCS_429 = b'{"error": {"code": 429, "message": "The rate of change requests to the bucket is too high"}}'


def test_throttling_is_retried_and_the_job_succeeds(stores, start_worker, django_user_model):
    user = django_user_model.objects.create_user(username="owner", password="pw-owner-123")
    throttles = {"s3": 5, "gs": 3, "azure": 5}
    proxies = {
        "s3": ThrottleProxy(stores.endpoints["s3"], throttles=throttles["s3"], status=503, body=S3_SLOWDOWN,
                            match=lambda method, path: method == "POST" and "delete" in path),
        "gs": ThrottleProxy(stores.endpoints["gs"], throttles=throttles["gs"], status=429, body=GCS_429,
                            content_type="application/json", match=lambda method, path: "/batch/" in path),
        "azure": ThrottleProxy(stores.endpoints["azure"], throttles=throttles["azure"], status=503, body=AZURE_BUSY,
                               match=lambda method, path: method == "POST" and "comp=batch" in path),
    }
    try:
        stores.point_at(s3=proxies["s3"].url, gs=proxies["gs"].url, azure=proxies["azure"].url)
        doomed, own, common = _make_datasets(stores, user, only=30, shared=2)
        worker = start_worker(HYPERDATASETS_DELETE_MAX_ATTEMPTS=8)
        job = dataset_delete(doomed, delete_all_versions=True, delete_sources=True, user=user)
        finished = wait_for_job(job.pk, worker=worker)
    finally:
        for proxy in proxies.values():
            proxy.close()
    assert finished.status == "succeeded", (finished.status, finished.error, list(
        SourceDeletion.objects.filter(job=finished).exclude(last_error="").values_list("last_error", flat=True)[:3]))
    for provider, proxy in proxies.items():
        assert proxy.throttled == throttles[provider] and proxy.remaining == 0, provider  # every throttle served
        remaining = stores.existing(provider)
        assert not remaining & set(own[provider]), provider
        assert set(common[provider]) <= remaining, provider
    # The job itself retried: objects needed more than one attempt.
    assert SourceDeletion.objects.filter(job=finished, attempts__gt=0).exists()
    _assert_consistent(finished)
