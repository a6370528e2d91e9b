import pytest
from rest_framework.authtoken.models import Token

from hyperdatasets import sdk


@pytest.fixture
def sdk_user(transactional_db, django_user_model):
    return django_user_model.objects.create_user(username="scripter", password="pw-scripter-123")


@pytest.fixture
def api(live_server, sdk_user):
    """The SDK configured against a live test server, as a script would be."""
    token = Token.objects.create(user=sdk_user)
    sdk.configure(url=live_server.url, token=token.key)
    yield live_server
    sdk.configure(url=None, token=None)
