import re

import pytest

from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.snapshots import snapshot_create
from hyperdatasets.services.versions import version_create, version_publish
from tests.factories import frame

pytestmark = pytest.mark.django_db


def test_dataset_page_draws_the_version_tree(client, user):
    dataset = dataset_create(dataset_name="trees", user=user, description="d", tags=["x"])
    frames_upsert(version_head(dataset), [frame("a"), frame("b")])
    snapshot_create(dataset, publish_name="v1")
    version_publish(version_create(dataset, version_name="side", parent_version_names=["v1"]))
    version_create(dataset, version_name="merge", parent_version_names=["v1", "side"])
    client.force_login(user)
    page = client.get(f"/datasets/{dataset.pk}/").content.decode()
    nodes = re.findall(r'data-testid="version-node"\s+data-status="(\w+)" data-name="([^"]+)"', page)
    assert sorted(nodes) == sorted([("published", "v1"), ("draft", "Current"), ("published", "side"),
                                    ("draft", "merge")])
    assert page.count('data-testid="edge"') == 4  # v1->Current, v1->side, v1->merge, side->merge
    assert page.count('class="edge secondary"') == 1  # merge's second parent
    assert 'node draft current' in page and "merge ★" in page  # deepest Draft is current
    assert "2 frames" in page and "v1, side" in page


def test_dataset_page_is_scoped_by_access_rules(client, user, django_user_model):
    owner = django_user_model.objects.create_user(username="owner", password="x")
    private = dataset_create(dataset_name="private", dataset_project="secret", user=owner)
    client.force_login(user)
    assert client.get(f"/datasets/{private.pk}/").status_code == 404
    client.force_login(owner)
    assert client.get(f"/datasets/{private.pk}/").status_code == 200


def test_index_links_to_dataset_pages(client, user):
    dataset = dataset_create(dataset_name="linked", user=user)
    client.force_login(user)
    assert f'href="/datasets/{dataset.pk}/"' in client.get("/").content.decode()


def test_index_cards_filters_search_and_create(client, user):
    from hyperdatasets.models import Dataset

    first = dataset_create(dataset_name="alpha cars", dataset_project="p1", user=user, tags=["cars"])
    frames_upsert(version_head(first), [frame("a", labels=[["car"]]), frame("b")])
    dataset_create(dataset_name="beta", user=user, tags=["other"])
    client.force_login(user)
    page = client.get("/").content.decode()
    assert page.count('data-testid="dataset-card"') == 2
    assert '<dd data-testid="card-frames">2</dd>' in page and "50%" in page and "car (1)" in page
    assert client.get("/?q=ALPHA").content.decode().count('data-testid="dataset-card"') == 1
    assert client.get("/?tag=other").content.decode().count('data-testid="dataset-card"') == 1
    assert client.get(f"/?project={first.project_id}").content.decode().count('data-testid="dataset-card"') == 1
    created = client.post("/datasets/new/", {"name": "gamma", "project": "p1", "tags": "x, y", "description": "d"})
    gamma = Dataset.objects.get(name="gamma")
    assert created.status_code == 302 and created["Location"] == f"/datasets/{gamma.pk}/"
    assert [t.name for t in gamma.tags.all()] == ["x", "y"] and gamma.project.name == "p1"
    again = client.post("/datasets/new/", {"name": "gamma", "project": "p1"}, follow=True).content.decode()
    assert "already exists" in again
    assert client.get("/datasets/new/").status_code == 405


def test_create_in_a_project_you_cannot_write(client, user, django_user_model):
    from hyperdatasets.models import Dataset

    owner = django_user_model.objects.create_user(username="owner", password="x")
    dataset_create(dataset_name="x", dataset_project="closed", user=owner)
    client.force_login(user)
    page = client.post("/datasets/new/", {"name": "mine", "project": "closed"}, follow=True).content.decode()
    assert "does not exist" in page and not Dataset.objects.filter(name="mine").exists()
