"""List endpoints use a fixed number of queries however many rows a page holds (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hyperdatasets.models import AccessRole
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.projects import project_rule_set
from hyperdatasets.services.snapshots import snapshot_create
from tests.factories import frame

pytestmark = pytest.mark.django_db

# Baselines (as NetBox keeps them): a change that adds queries per row fails here.
EXPECTED = {"datasets": 3, "projects": 2, "versions": 5, "rules": 4, "frames": 4}


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


def _grow(people, n):
    for i in range(n):
        dataset = dataset_create(dataset_name=f"ds{i}", dataset_project="vision", tags=["a", f"t{i}"],
                                 user=people["owner"])
        snapshot_create(dataset)
        user = type(people["owner"]).objects.create_user(username=f"u{i}", password="x")
        project_rule_set(people["project"], role=AccessRole.READ, user=user)


def test_list_query_counts_do_not_grow(clients, people, dataset):
    client = clients["read"]
    head = version_head(dataset)
    paths = {
        "datasets": "/api/datasets/",
        "projects": "/api/projects/",
        "versions": f"/api/datasets/{dataset.pk}/versions/",
        "rules": f"/api/projects/{people['project'].pk}/rules/",
        "frames": f"/api/versions/{head.pk}/frames/",
    }
    frames_upsert(head, [frame("f0", labels=[["a"]])])
    small = {key: _queries(client, path) for key, path in paths.items()}
    _grow(people, 8)
    frames_upsert(head, [frame(f"f{i}", labels=[["a"], ["b"]]) for i in range(1, 50)])
    snapshot_create(dataset)
    big = {key: _queries(client, path) for key, path in paths.items()}
    assert big == small
    assert big == EXPECTED


# The SDK's one-round-trip lookups, each query plain (no nested visibility filter or summary subqueries to
# compile): token, dataset, tags, its versions (the summary and the current version) (+ project role and the
# current version's parents for the current version). By name, the visible datasets resolve the name.
LOOKUPS = {"by id": 6, "by name": 6, "dataset by name": 4}


def test_lookups_answer_in_a_few_queries(clients, people, dataset):
    client = clients["read"]
    snapshot_create(dataset)
    paths = {
        "by id": f"/api/datasets/{dataset.pk}/current/",
        "by name": "/api/datasets/lookup/head/?dataset_name=cars&dataset_project=vision",
        "dataset by name": "/api/datasets/lookup/?dataset_name=cars&dataset_project=vision",
    }
    counts = {key: _queries(client, path) for key, path in paths.items()}
    assert counts == LOOKUPS
    head = client.get(paths["by name"]).json()
    assert head["dataset"]["id"] == str(dataset.pk) and head["version"]["id"] == str(version_head(dataset).pk)
