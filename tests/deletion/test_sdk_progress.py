"""The SDK's Dataset.delete(..., delete_sources=True, show_progress=True) against a live server and a real
worker: a tqdm bar that ends at the total, and the job's outcome returned; the CLI prints the outcome."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from hyperdatasets import sdk
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert

pytestmark = pytest.mark.django_db(transaction=True)


def test_sdk_delete_shows_progress_until_the_job_ends(stores, start_worker, live_server, django_user_model, capsys):
    user = django_user_model.objects.create_user(username="scripter", password="pw-scripter-123")
    keys = [f"img/{i}.jpg" for i in range(30)]
    stores.put("s3", keys)
    stores.put("gs", keys[:5])
    dataset = dataset_create(dataset_name="MyDataset", user=user)
    frames_upsert(version_head(dataset), [{"id": k, "sources": [{"uri": stores.uri("s3", k)}]} for k in keys]
                  + [{"id": f"g{k}", "sources": [{"uri": stores.uri("gs", k)}]} for k in keys[:5]])
    start_worker(HYPERDATASETS_DELETE_BATCH_LIMIT=5, HYPERDATASETS_DELETE_IN_FLIGHT=1)
    sdk.configure(url=live_server.url, token=Token.objects.create(user=user).key)
    try:
        job = sdk.Dataset.delete(dataset_name="MyDataset", delete_all_versions=True, delete_sources=True,
                                 show_progress=True)
        assert isinstance(job, sdk.DeletionJob)
        assert job.status == "succeeded" and job.deleted == 35 and job.total == 35 and job.failed == 0
        assert job.providers["s3"]["deleted"] == 30 and job.providers["gs"]["deleted"] == 5
        err = capsys.readouterr().err
        assert "deleting sources of MyDataset" in err and "35/35" in err
        assert stores.existing("s3") == set() and stores.existing("gs") == set()
        assert [j.id for j in sdk.DeletionJob.list()] == [job.id]
        assert sdk.DeletionJob.get(job.id).status == "succeeded"
    finally:
        sdk.configure(url=None, token=None)
