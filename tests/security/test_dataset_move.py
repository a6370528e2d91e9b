"""Moving a dataset between projects: out of a project needs admin there, into one needs write there.

The attack this closes: a writer of a project PATCHes a dataset into a project they own, where they are
admin, and deletes it with its Published versions and sources; or moves it to "no project", where every
signed-in user sees it. Every role tries every kind of move through the API, the dataset page and the admin.
"""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from hyperdatasets.models import Dataset
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.projects import project_create
from tests.api.conftest import ROLES

pytestmark = pytest.mark.django_db

USER_OF = {"outsider": "outsider", "read": "reader", "write": "writer", "admin": "admin", "staff": "staff",
           "superuser": "superuser"}

# role -> status of moving "cars" (in 'vision') into the mover's own project / to no project.
OUT_OF_PROJECT = {"anonymous": 401, "outsider": 404, "read": 403, "write": 403, "admin": 200, "staff": 404,
                  "superuser": 200}
# role -> status of moving a dataset outside projects (created by 'owner') into the mover's own project.
# Every signed-in user may write such a dataset; its admin is its creator (and superusers).
FROM_NO_PROJECT = {"anonymous": 401, "outsider": 403, "read": 403, "write": 403, "admin": 403, "staff": 403,
                   "superuser": 200}


@pytest.fixture
def own_projects(people):
    return {role: project_create(name=f"mine-{role}", user=people[user]) for role, user in USER_OF.items()}


def _target(own_projects, role):
    return own_projects.get(role) or own_projects["write"]


@pytest.mark.parametrize("role", ROLES)
def test_moving_out_of_a_project_needs_admin_there(role, clients, people, dataset, own_projects):
    url = f"/api/datasets/{dataset.pk}/"
    into_own = clients[role].patch(url, {"project_id": str(_target(own_projects, role).pk)}, format="json")
    assert into_own.status_code == OUT_OF_PROJECT[role], into_own.content
    if into_own.status_code != 200:
        assert Dataset.objects.get(pk=dataset.pk).project == people["project"]
        to_none = clients[role].patch(url, {"project_id": None}, format="json")
        assert to_none.status_code == OUT_OF_PROJECT[role], to_none.content
        assert Dataset.objects.get(pk=dataset.pk).project == people["project"]
        if role == "write":
            assert "admin role" in into_own.json()["error"]["message"]
    else:
        assert Dataset.objects.get(pk=dataset.pk).project == _target(own_projects, role)


@pytest.mark.parametrize("role", ROLES)
def test_moving_a_dataset_outside_projects_needs_its_admin(role, clients, people, own_projects):
    loose = dataset_create(dataset_name="loose", user=people["owner"])
    response = clients[role].patch(f"/api/datasets/{loose.pk}/", {"project_id": str(_target(own_projects, role).pk)},
                                   format="json")
    assert response.status_code == FROM_NO_PROJECT[role], response.content
    expected = _target(own_projects, role) if response.status_code == 200 else None
    assert Dataset.objects.get(pk=loose.pk).project == expected


def test_moving_in_needs_write_on_the_target(clients, people, dataset):
    # 'admin' administers 'vision' but only reads 'elsewhere'.
    from hyperdatasets.models import AccessRole
    from hyperdatasets.services.projects import project_rule_set

    elsewhere = project_create(name="elsewhere", user=people["owner"])
    project_rule_set(elsewhere, role=AccessRole.READ, user=people["admin"])
    response = clients["admin"].patch(f"/api/datasets/{dataset.pk}/", {"project_id": str(elsewhere.pk)},
                                      format="json")
    assert response.status_code == 403 and "write role" in response.json()["error"]["message"]
    assert Dataset.objects.get(pk=dataset.pk).project == people["project"]
    project_rule_set(elsewhere, role=AccessRole.WRITE, user=people["admin"])
    assert clients["admin"].patch(f"/api/datasets/{dataset.pk}/", {"project_id": str(elsewhere.pk)},
                                  format="json").status_code == 200


@pytest.mark.parametrize("role,allowed", [("write", False), ("admin", True)])
def test_dataset_page_applies_the_same_rule(role, allowed, client, people, dataset, own_projects):
    client.force_login(people[USER_OF[role]])
    page = client.get(reverse("webui:dataset-detail", args=[dataset.pk])).content.decode()
    assert ('data-testid="move-form"' in page) is allowed
    target = own_projects[role]
    response = client.post(reverse("webui:dataset-action", args=[dataset.pk, "move"]), {"project": str(target.pk)},
                           follow=True)
    assert response.status_code == 200
    assert Dataset.objects.get(pk=dataset.pk).project == (target if allowed else people["project"])
    if not allowed:
        assert "needs the admin role" in response.content.decode()


@pytest.mark.parametrize("source_role,allowed", [("write", False), ("admin", True)])
def test_admin_site_applies_the_same_rule(source_role, allowed, client, django_user_model, people, dataset):
    from hyperdatasets.services.projects import project_rule_set

    # Staff with every model permission of the app: the admin site lets them edit what their project
    # role allows. They administer their own project and hold `source_role` on 'vision'.
    clerk = django_user_model.objects.create_user(username="clerk", password="pw-clerk-123", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(content_type__app_label="hyperdatasets"))
    project_rule_set(people["project"], role=source_role, user=clerk)
    mine = project_create(name="clerk-own", user=clerk)
    client.force_login(clerk)
    url = reverse("admin:hyperdatasets_dataset_change", args=[dataset.pk])
    response = client.post(url, {
        "name": "cars", "project": str(mine.pk), "description": "", "metadata": "{}", "tags_text": "t1",
        "is_example": "", "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
    })
    assert Dataset.objects.get(pk=dataset.pk).project == (mine if allowed else people["project"])
    if allowed:
        assert response.status_code == 302
    else:
        assert response.status_code == 200 and "needs the admin role" in response.content.decode()
        # Leaving the project as it is still saves the other fields.
        kept = client.post(url, {
            "name": "cars", "project": str(people["project"].pk), "description": "edited", "metadata": "{}",
            "tags_text": "t1", "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
        })
        assert kept.status_code == 302 and Dataset.objects.get(pk=dataset.pk).description == "edited"
