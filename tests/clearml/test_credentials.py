"""ClearML API credentials: made on the account page (the secret shown once, never stored, never again) and by
``manage.py clearml_credentials USERNAME`` (``ACCESS_KEY SECRET_KEY`` on one line), many per user, revocable."""

import hashlib
import io
import re

import pytest
from django.core.management import CommandError, call_command

from clearml_api.credentials import credential_check
from clearml_api.models import ApiCredential

pytestmark = pytest.mark.django_db


def test_the_account_page_makes_pairs_and_shows_each_secret_once(client, user):
    client.force_login(user)
    first = client.post("/account/clearml-credentials/", {"label": "laptop"})
    assert first.status_code == 200 and first["Cache-Control"] == "no-store"
    text = first.content.decode()
    key = re.search(r"CLEARML_API_ACCESS_KEY=(\w+)", text).group(1)
    secret = re.search(r"CLEARML_API_SECRET_KEY=(\w+)", text).group(1)
    assert len(key) == 24 and len(secret) == 40
    stored = ApiCredential.objects.get(access_key=key)
    assert stored.user == user and stored.label == "laptop"
    assert stored.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiCredential.objects.filter(pk=stored.pk).values().get())
    assert credential_check(key, secret) == stored and credential_check(key, secret + "x") is None
    page = client.get("/account/").content.decode()
    assert key in page and secret not in page and "/clearml" in page
    client.post("/account/clearml-credentials/", {"label": "cluster"})
    assert ApiCredential.objects.filter(user=user).count() == 2
    assert client.post("/account/clearml-credentials/", {"label": "x" * 300}, follow=True).status_code == 200
    assert ApiCredential.objects.filter(user=user).count() == 2  # refused: label too long
    client.post(f"/account/clearml-credentials/{stored.pk}/revoke/")
    assert credential_check(key, secret) is None
    assert "revoked" in client.get("/account/").content.decode()


def test_the_management_command_prints_the_pair_on_one_line(user):
    out = io.StringIO()
    call_command("clearml_credentials", user.username, "--label", "ci", stdout=out)
    (line,) = out.getvalue().splitlines()
    key, secret = line.split(" ")
    assert credential_check(key, secret).user == user
    assert ApiCredential.objects.get(access_key=key).label == "ci"
    with pytest.raises(CommandError, match="does not exist"):
        call_command("clearml_credentials", "nobody", stdout=io.StringIO())
    user.is_active = False
    user.save()
    assert credential_check(key, secret) is None  # an inactive user's pairs no longer sign in
