import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hyperdatasets.models import AccessRole
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.projects import project_create, project_rule_set

ROLES = ["anonymous", "outsider", "read", "write", "admin", "staff", "superuser"]


@pytest.fixture
def make_client():
    def make(user=None):
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client
    return make


@pytest.fixture
def people(django_user_model):
    """One user per role on project 'vision' (its creator is 'owner', an admin)."""
    users = {
        name: django_user_model.objects.create_user(username=name, password=f"pw-{name}-123")
        for name in ("owner", "outsider", "reader", "writer", "admin")
    }
    users["superuser"] = django_user_model.objects.create_superuser(username="root", password="pw-root-123")
    # Staff: may use the admin site, holds every model permission of the apps, and no rule on 'vision'.
    users["staff"] = django_user_model.objects.create_user(username="staff", password="pw-staff-123", is_staff=True)
    users["staff"].user_permissions.add(*Permission.objects.filter(
        content_type__app_label__in=["hyperdatasets", "annotations", "dataviews"]))
    project = project_create(name="vision", user=users["owner"])
    project_rule_set(project, role=AccessRole.READ, user=users["reader"])
    project_rule_set(project, role=AccessRole.WRITE, user=users["writer"])
    project_rule_set(project, role=AccessRole.ADMIN, user=users["admin"])
    return {"project": project, **users}


@pytest.fixture
def clients(people, make_client):
    return {
        "anonymous": make_client(),
        "outsider": make_client(people["outsider"]),
        "read": make_client(people["reader"]),
        "write": make_client(people["writer"]),
        "admin": make_client(people["admin"]),
        "staff": make_client(people["staff"]),
        "superuser": make_client(people["superuser"]),
    }


@pytest.fixture
def dataset(people):
    return dataset_create(dataset_name="cars", dataset_project="vision", user=people["owner"], tags=["t1"])


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]
