import pytest

from hyperdatasets.models import AccessRole, Dataset, DatasetVersion
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.projects import project_rule_set

pytestmark = pytest.mark.django_db


def _post(client, dataset, action, **data):
    return client.post(f"/datasets/{dataset.pk}/{action}/", data, follow=True).content.decode()


def test_actions_through_the_page(client, user):
    dataset = dataset_create(dataset_name="acts", user=user)
    client.force_login(user)
    page = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert 'data-testid="snapshot-form"' in page and 'data-testid="delete-form"' in page
    assert "is the current version" in _post(client, dataset, "snapshot", publish_name="v1", child_name="")
    assert set(DatasetVersion.objects.filter(dataset=dataset).values_list("name", flat=True)) == {"v1", "Current"}
    v1 = DatasetVersion.objects.get(dataset=dataset, name="v1")
    created = _post(client, dataset, "child", parent=str(v1.pk), version_name="branch")
    assert "Created Draft &#x27;branch&#x27;" in created
    page = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert 'data-testid="snapshot-form"' not in page  # two Drafts: not the simple structure any more
    refused = _post(client, dataset, "child", parent=str(version_head(dataset).pk), version_name="x")
    assert "is a Draft" in refused
    branch = DatasetVersion.objects.get(dataset=dataset, name="branch")
    assert "read-only from now on" in _post(client, dataset, "publish", version=str(branch.pk))
    current = DatasetVersion.objects.get(dataset=dataset, name="Current")
    assert "Deleted Draft" in _post(client, dataset, "delete-version", version=str(current.pk))
    assert "Saved." in _post(client, dataset, "edit", name="renamed", description="d", tags="a, b")
    dataset.refresh_from_db()
    assert dataset.name == "renamed" and [t.name for t in dataset.tags.all()] == ["a", "b"]
    assert "Saved." in _post(client, dataset, "edit", name="renamed", description="d", tags="a, b",
                             metadata='{"camera": "front", "fps": 30}')
    dataset.refresh_from_db()
    assert dataset.metadata == {"camera": "front", "fps": 30}
    assert "&quot;camera&quot;: &quot;front&quot;" in client.get(f"/datasets/{dataset.pk}/").content.decode()
    # Bad metadata changes nothing, not even the name and tags sent with it.
    refused = _post(client, dataset, "edit", name="other", description="d", tags="c", metadata="{not json")
    assert "metadata: must be JSON" in refused
    refused = _post(client, dataset, "edit", name="other", description="d", tags="c", metadata="[1, 2]")
    assert "metadata" in refused
    dataset.refresh_from_db()
    assert dataset.name == "renamed" and dataset.metadata == {"camera": "front", "fps": 30}
    assert [t.name for t in dataset.tags.all()] == ["a", "b"]
    wrong = client.post(f"/datasets/{dataset.pk}/delete/", {"confirm_name": "nope"}, follow=True).content.decode()
    assert "Type the dataset" in wrong
    refused = client.post(f"/datasets/{dataset.pk}/delete/", {"confirm_name": "renamed", "delete_all_versions": "on"},
                          follow=True).content.decode()
    assert "force=True" in refused and Dataset.objects.filter(pk=dataset.pk).exists()
    done = client.post(f"/datasets/{dataset.pk}/delete/", {"confirm_name": "renamed", "delete_all_versions": "on",
                                                           "force": "on", "delete_sources": "on"}, follow=True)
    page = done.content.decode()
    assert "its source files are being deleted" in page and not Dataset.objects.filter(pk=dataset.pk).exists()
    assert done.redirect_chain[-1][0].startswith("/deletions/") and 'data-testid="job-progress"' in page


def test_readers_see_no_actions_and_cannot_post_them(client, user, django_user_model):
    owner = django_user_model.objects.create_user(username="owner", password="x")
    dataset = dataset_create(dataset_name="ro", dataset_project="team", user=owner)
    project_rule_set(dataset.project, role=AccessRole.READ, user=user)
    client.force_login(user)
    page = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert 'data-testid="actions"' not in page
    assert "needs the write role" in _post(client, dataset, "snapshot")
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 1
    assert client.get(f"/datasets/{dataset.pk}/snapshot/").status_code == 405
