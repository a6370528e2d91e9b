"""The deletion engine run in-process against the real stores: failures end visible and bounded, 404 counts
as deleted, leases keep one runner, frames written after the deletion protect their objects, failed objects
can be retried, secrets never show. Plus the API's scoping and the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from hyperdatasets.models import DeletionJob, SourceDeletion, StorageCredential
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create, dataset_delete
from hyperdatasets.services.deletion import deletion_job_retry_failed, deletion_job_run, deletion_jobs_sweep
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.storage.credentials import encrypt_secret
from tests.servers import free_port

pytestmark = pytest.mark.django_db

FAST = {"HYPERDATASETS_DELETE_RETRY_BASE_SECONDS": 0.01, "HYPERDATASETS_DELETE_RETRY_MAX_SECONDS": 0.02,
        "HYPERDATASETS_DELETE_MAX_ATTEMPTS": 3}


def _doomed(stores, user, keys: dict[str, list[str]], name="doomed"):
    dataset = dataset_create(dataset_name=name, dataset_project="vision", user=user)
    frames = []
    for provider, names in keys.items():
        frames += [{"id": f"{provider}-{k}", "sources": [{"uri": stores.uri(provider, k)}]} for k in names]
    frames_upsert(version_head(dataset), frames)
    return dataset


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(username="owner", password="pw-owner-123")


def test_missing_objects_count_as_deleted(stores, owner):
    stores.put("s3", ["here.jpg"])
    dataset = _doomed(stores, owner, {"s3": ["here.jpg", "never-existed.jpg"], "gs": ["gone.jpg"],
                                      "azure": ["gone.jpg"]})
    job = dataset_delete(dataset, delete_all_versions=True, delete_sources=True, user=owner)
    done = deletion_job_run(job.pk)
    assert done.status == "succeeded" and done.deleted == 4 and done.failed == 0
    assert stores.existing("s3") == set()


@override_settings(**FAST)
def test_unreachable_store_fails_visibly_after_bounded_attempts_without_leaking_the_secret(stores, owner):
    stores.put("gs", ["ok.jpg"])
    dataset = _doomed(stores, owner, {"s3": ["a.jpg", "b.jpg"], "gs": ["ok.jpg"]})
    secret = "SUPER-SECRET-VALUE-123"
    StorageCredential.objects.filter(provider="s3").update(
        endpoint_url=f"http://127.0.0.1:{free_port()}", secret_encrypted=encrypt_secret(secret))
    job = dataset_delete(dataset, delete_all_versions=True, delete_sources=True, user=owner)
    done = deletion_job_run(job.pk)
    assert done.status == "partly_failed" and done.failed == 2 and done.deleted == 1
    rows = SourceDeletion.objects.filter(job=done, provider="s3")
    assert {r.attempts for r in rows} == {3} and all("S3" in r.last_error for r in rows)
    client = APIClient()
    client.force_authenticate(owner)
    body = client.get(f"/api/deletion-jobs/{done.pk}/").content.decode()
    assert '"status":"partly_failed"' in body and '"errors":[{"provider":"s3"' in body
    assert secret not in body and "testing" not in body
    assert stores.existing("gs") == set()

    # Fixed credentials, then a retry of the failed objects finishes the job.
    stores.put("s3", ["a.jpg"])
    stores.point_at(s3=stores.endpoints["s3"])
    assert deletion_job_retry_failed(done) == 2
    again = deletion_job_run(done.pk)
    assert again.status == "succeeded" and again.deleted == 3 and again.failed == 0
    assert stores.existing("s3") == set()


def test_all_objects_failing_is_a_failed_job(stores, owner, settings):
    for key, value in FAST.items():
        setattr(settings, key, value)
    StorageCredential.objects.filter(provider="azure").update(secret_encrypted=encrypt_secret(
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=AAAA;"
        f"BlobEndpoint=http://127.0.0.1:{free_port()}/devstoreaccount1;"))
    dataset = _doomed(stores, owner, {"azure": ["x.jpg"]})
    job = dataset_delete(dataset, delete_all_versions=True, delete_sources=True, user=owner)
    done = deletion_job_run(job.pk)
    assert done.status == "failed" and done.failed == 1 and done.finished is not None


def test_frames_written_after_the_deletion_keep_their_objects(stores, owner):
    stores.put("s3", ["keep.jpg", "drop.jpg"])
    dataset = _doomed(stores, owner, {"s3": ["keep.jpg", "drop.jpg"]})
    job = dataset_delete(dataset, delete_all_versions=True, delete_sources=True, user=owner)
    late = dataset_create(dataset_name="late", user=owner)
    frames_upsert(version_head(late), [{"sources": [{"uri": stores.uri("s3", "keep.jpg")}]}])
    done = deletion_job_run(job.pk)
    assert done.skipped_reasons == {"referenced": 1} and done.deleted == 1
    assert stores.existing("s3") == {"keep.jpg"}


def test_a_leased_job_is_not_run_twice_and_runs_are_bounded(stores, owner, settings):
    dataset = _doomed(stores, owner, {"s3": ["a.jpg"]})
    job = dataset_delete(dataset, delete_all_versions=True, delete_sources=True, user=owner)
    DeletionJob.objects.filter(pk=job.pk).update(lease_owner="other:1", status="running",
                                                 lease_until=timezone.now() + timedelta(minutes=5))
    assert deletion_job_run(job.pk) is None  # another worker holds it
    assert deletion_jobs_sweep() == []
    DeletionJob.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert deletion_jobs_sweep() == [str(job.pk)]  # its worker died: queued again
    # A queued job whose message was lost (a Redis restart, say) is queued again once it is older than a lease.
    DeletionJob.objects.filter(pk=job.pk).update(status="queued", lease_owner="", lease_until=None)
    assert deletion_jobs_sweep() == []
    DeletionJob.objects.filter(pk=job.pk).update(updated=timezone.now() - timedelta(hours=1))
    assert deletion_jobs_sweep() == [str(job.pk)]
    settings.HYPERDATASETS_DELETE_MAX_RUNS = 2
    DeletionJob.objects.filter(pk=job.pk).update(runs=2)
    assert deletion_job_run(job.pk) is None
    failed = DeletionJob.objects.get(pk=job.pk)
    assert failed.status == "failed" and "gave up" in failed.error and failed.failed == 1


def test_jobs_are_scoped_by_the_project_rules(stores, owner, django_user_model):
    from hyperdatasets.models import AccessRole
    from hyperdatasets.services.projects import project_rule_set

    dataset = _doomed(stores, owner, {"s3": ["a.jpg"]})
    reader = django_user_model.objects.create_user(username="reader", password="pw-reader-123")
    stranger = django_user_model.objects.create_user(username="stranger", password="pw-stranger-123")
    project_rule_set(dataset.project, role=AccessRole.READ, user=reader)
    job = dataset_delete(dataset, delete_all_versions=True, delete_sources=True, user=owner)
    clients = {}
    for user in (owner, reader, stranger):
        clients[user.username] = APIClient()
        clients[user.username].force_authenticate(user)
    assert clients["reader"].get(f"/api/deletion-jobs/{job.pk}/").status_code == 200
    assert clients["reader"].post(f"/api/deletion-jobs/{job.pk}/retry/").status_code == 403
    assert clients["stranger"].get(f"/api/deletion-jobs/{job.pk}/").status_code == 404
    assert clients["stranger"].get("/api/deletion-jobs/").json()["results"] == []
    assert [j["id"] for j in clients["owner"].get("/api/deletion-jobs/").json()["results"]] == [str(job.pk)]
    assert clients["stranger"].get(f"/deletions/{job.pk}/").status_code == 302  # not signed in to pages
    from django.test import Client

    page = Client()
    page.force_login(stranger)
    assert page.get(f"/deletions/{job.pk}/").status_code == 404
    page.force_login(reader)
    html = page.get(f"/deletions/{job.pk}/").content.decode()
    assert 'data-testid="job-progress"' in html and "doomed" in html


def test_admin_shows_jobs_and_never_the_secret(stores, owner, django_user_model):
    from django.test import Client

    root = django_user_model.objects.create_superuser(username="root", password="pw-root-123")
    dataset = _doomed(stores, owner, {"s3": ["a.jpg"]})
    job = dataset_delete(dataset, delete_all_versions=True, delete_sources=True, user=owner)
    client = Client()
    client.force_login(root)
    listing = client.get("/admin/hyperdatasets/deletionjob/").content.decode()
    assert "doomed" in listing and "<progress" in listing
    assert client.get(f"/admin/hyperdatasets/deletionjob/{job.pk}/change/").status_code == 200
    credential = StorageCredential.objects.get(provider="s3")
    form = client.get(f"/admin/hyperdatasets/storagecredential/{credential.pk}/change/").content.decode()
    assert 'name="secret"' in form and "testing" not in form.replace('value="testing"', "")
    assert encrypt_secret("x") not in form and credential.secret_encrypted not in form
    # Saving with an empty secret keeps the saved one; a new one replaces it, encrypted.
    data = {"provider": "s3", "bucket": credential.bucket, "endpoint_url": credential.endpoint_url,
            "region": "us-east-1", "access_key": "testing", "secret": ""}
    assert client.post(f"/admin/hyperdatasets/storagecredential/{credential.pk}/change/", data).status_code == 302
    from hyperdatasets.storage.credentials import credentials_for

    assert credentials_for("s3", credential.bucket).secret == "testing"
    client.post(f"/admin/hyperdatasets/storagecredential/{credential.pk}/change/", {**data, "secret": "n3w"})
    assert credentials_for("s3", credential.bucket).secret == "n3w"
    assert "n3w" not in StorageCredential.objects.get(pk=credential.pk).secret_encrypted
    staff = django_user_model.objects.create_user(username="staff", password="pw-staff-123", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/hyperdatasets/storagecredential/").status_code == 403
