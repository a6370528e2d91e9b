import pytest
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_account_page_creates_rotates_and_shows_token_once(client, user):
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert "no token yet" in page
    created = client.post("/account/").content.decode()
    key = Token.objects.get(user=user).key
    assert key in created
    again = client.get("/account/").content.decode()
    assert key not in again and "You have a token" in again
    client.post("/account/")
    assert Token.objects.get(user=user).key != key


def test_account_needs_sign_in(client):
    assert client.get("/account/").status_code == 302


def test_dataset_page_lists_only_visible_datasets(client, user, django_user_model):
    from hyperdatasets.services.datasets import dataset_create

    owner = django_user_model.objects.create_user(username="owner", password="x")
    dataset_create(dataset_name="secret", dataset_project="private", user=owner)
    dataset_create(dataset_name="open-one", user=owner)
    client.force_login(user)
    page = client.get("/").content.decode()
    assert "open-one" in page and "secret" not in page


def test_sign_in_and_out(client, user):
    assert client.get("/").status_code == 302 and client.get("/")["Location"].startswith("/accounts/login/")
    bad = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert "did not match" in bad.content.decode()
    signed_in = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})
    assert signed_in.status_code == 302 and client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302
