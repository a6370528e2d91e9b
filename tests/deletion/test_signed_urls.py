"""Pages show cloud objects through short-lived signed links made with the bucket's credentials: a GET of the
link returns the object, from the GCS emulator and from Azurite (a SAS token)."""

import pytest
import requests

from hyperdatasets.storage import provider_for_uri

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("provider", ["s3", "gs", "azure"])
def test_browser_url_serves_the_object(stores, provider):
    stores.put(provider, ["pics/one.jpg"])
    uri = stores.uri(provider, "pics/one.jpg")
    url = provider_for_uri(uri).browser_url(uri)
    assert url and url.startswith("http")
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"x"
    if provider == "azure":
        assert "sig=" in url and "se=" in url  # signed, with an expiry
        assert "AccountKey" not in url and stores.azure.credential.account_key not in url
    if provider == "s3":
        assert "Signature=" in url or "X-Amz-Signature=" in url
        assert "testing" not in url.split("?", 1)[0]
