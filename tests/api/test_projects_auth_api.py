import pytest
from django.core.cache import cache
from django.test import override_settings

from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


def test_project_create_gives_creator_admin_and_rules(clients, people):
    created = clients["outsider"].post("/api/projects/", {"name": "mine"}, format="json")
    assert created.status_code == 201
    pid = created.json()["id"]
    rules = clients["outsider"].get(f"/api/projects/{pid}/rules/").json()
    assert [(r["user"], r["role"]) for r in rules] == [("outsider", "admin")]
    assert clients["read"].get(f"/api/projects/{pid}/").status_code == 404
    granted = clients["outsider"].post(f"/api/projects/{pid}/rules/", {"user": "reader", "role": "read"},
                                       format="json")
    assert granted.status_code == 201
    assert clients["read"].get(f"/api/projects/{pid}/").status_code == 200
    assert clients["read"].post(f"/api/projects/{pid}/rules/", {"user": "reader", "role": "admin"},
                                format="json").status_code == 403
    bad = clients["outsider"].post(f"/api/projects/{pid}/rules/", {"user": "ghost", "role": "read"}, format="json")
    assert bad.status_code == 404 and "user" in error_of(bad)["details"]  # no such user
    both = clients["outsider"].post(f"/api/projects/{pid}/rules/", {"role": "read"}, format="json")
    assert both.status_code == 400
    own_rule = rules[0]["id"]
    last_admin = clients["outsider"].delete(f"/api/projects/{pid}/rules/{own_rule}/")
    assert last_admin.status_code == 409
    assert clients["outsider"].delete(f"/api/projects/{pid}/rules/{granted.json()['id']}/").status_code == 204
    assert clients["read"].get(f"/api/projects/{pid}/").status_code == 404
    dup = clients["outsider"].post("/api/projects/", {"name": "mine"}, format="json")
    assert dup.status_code == 409


def test_group_rules(clients, people, django_user_model):
    from django.contrib.auth.models import Group

    team = Group.objects.create(name="team")
    people["outsider"].groups.add(team)
    pid = people["project"].pk
    assert clients["outsider"].get(f"/api/projects/{pid}/").status_code == 404
    clients["admin"].post(f"/api/projects/{pid}/rules/", {"group": "team", "role": "write"}, format="json")
    assert clients["outsider"].get(f"/api/projects/{pid}/").status_code == 200


def test_token_endpoint_and_throttle(client, people):
    cache.clear()
    ok = client.post("/api/auth/token/", {"username": "reader", "password": "pw-reader-123"},
                     content_type="application/json")
    assert ok.status_code == 200 and len(ok.json()["token"]) == 40
    me = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Token {ok.json()['token']}")
    assert me.json()["username"] == "reader"
    bad = client.post("/api/auth/token/", {"username": "reader", "password": "wrong"}, content_type="application/json")
    assert bad.status_code == 401 and "password" not in str(bad.json()).lower()
    form = client.post("/api/auth/token/", {"username": "reader", "password": "pw-reader-123"})
    assert form.status_code == 415  # JSON bodies only
    statuses = [client.post("/api/auth/token/", {"username": "x", "password": "y"},
                            content_type="application/json").status_code for _ in range(12)]
    assert statuses[-1] == 429


def test_signin_throttle_on_admin_login(client):
    cache.clear()
    with override_settings(HYPERDATASETS_SIGNIN_RATE="3/min"):
        codes = [client.post("/admin/login/", {"username": "x", "password": "y"}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_unauthenticated_is_401_with_challenge(client):
    response = client.get("/api/datasets/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert error_of(response)["code"] == "not_authenticated"
    assert client.get("/api/datasets/", HTTP_AUTHORIZATION="Token nope").status_code == 401


def test_session_auth_needs_csrf(people):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(people["writer"])
    assert browser.get("/api/datasets/").status_code == 200
    refused = browser.post("/api/datasets/", {"dataset_name": "x"}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in error_of(refused)["message"]


def test_schema_and_docs(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
