import pytest

from hyperdatasets.models import AccessRole
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.projects import project_rule_set

pytestmark = pytest.mark.django_db


def test_projects_page_lists_visible_projects_with_role_and_counts(client, user, django_user_model):
    owner = django_user_model.objects.create_user(username="owner", password="x")
    seen = dataset_create(dataset_name="a", dataset_project="shared", user=owner).project
    dataset_create(dataset_name="b", dataset_project="shared", user=owner)
    dataset_create(dataset_name="c", dataset_project="private", user=owner)
    project_rule_set(seen, role=AccessRole.WRITE, user=user)
    assert client.get("/projects/").status_code == 302  # sign in first
    client.force_login(user)
    page = client.get("/projects/").content.decode()
    assert 'data-name="shared"' in page and 'data-name="private"' not in page
    assert f'href="/?project={seen.pk}"' in page and "<td>2</td>" in page and ">write<" in page
    assert 'href="/projects/">Projects</a>' in client.get("/").content.decode()
    client.force_login(owner)
    owner_page = client.get("/projects/").content.decode()
    assert 'data-name="private"' in owner_page and ">admin<" in owner_page
