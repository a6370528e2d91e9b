import re

import pytest
from django.core.management import call_command
from django.test import override_settings

from hyperdatasets.examples import STREET
from hyperdatasets.models import DatasetVersion
from hyperdatasets.storage.serving import FileLinks

pytestmark = pytest.mark.django_db


@pytest.fixture
def street(tmp_path, settings, superuser):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_examples")
    return {v.name: v for v in DatasetVersion.objects.filter(dataset__name=STREET)}


def test_version_page_grid_filters_stats_masks_and_diff(client, superuser, street):
    client.force_login(superuser)
    page = client.get(f"/versions/{street['Current'].pk}/").content.decode()
    assert page.count('data-testid="frame-thumb"') == 12
    assert 'data-testid="load-more"' not in page
    assert re.search(r'class="name">car</span>.*?class="count">24<', page, re.S)  # box + mask ROI per frame
    assert "(2, 2, 2)" in page and "car" in page and 'data-testid="mask-legend"' in page
    images = re.findall(r'<img src="(/files/[^"]+)"', page)
    assert len(images) == 12
    image = client.get(images[0])
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    labelled = client.get(f"/versions/{street['relabel-signs'].pk}/?label=traffic+sign").content.decode()
    assert labelled.count('data-testid="frame-thumb"') == 4
    by_meta = client.get(f"/versions/{street['Current'].pk}/?meta_key=night&meta_value=true").content.decode()
    assert by_meta.count('data-testid="frame-thumb"') == 4  # frames 0, 3, 6, 9
    diff = client.get(f"/versions/{street['v1'].pk}/?compare={street['v2'].pk}").content.decode()
    assert "4 added · 0 removed · 0 modified" in diff


def test_keyset_load_more(client, superuser, street, monkeypatch):
    from webui import version_page

    monkeypatch.setattr(version_page, "PAGE_SIZE", 5)
    client.force_login(superuser)
    first = client.get(f"/versions/{street['Current'].pk}/").content.decode()
    ids = re.findall(r'data-frame-id="([^"]+)"', first)
    more = re.search(r'data-testid="load-more" href="\?([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(f"/versions/{street['Current'].pk}/?{more}&partial=1").content.decode()
    next_ids = re.findall(r'data-frame-id="([^"]+)"', second)
    assert len(ids) == 5 and len(next_ids) == 5 and not set(ids) & set(next_ids)
    assert "<html" not in second


def test_file_links_are_signed_and_confined(client, superuser, street, tmp_path):
    client.force_login(superuser)
    assert client.get("/files/not-a-signature/").status_code == 404
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"no")
    dataset = street["Current"].dataset
    assert FileLinks(superuser, dataset).url(f"file://{outside}") is None  # outside the configured folders
    with override_settings(HYPERDATASETS_LOCAL_ROOTS=[str(tmp_path)]):
        url = FileLinks(superuser, dataset).url(f"file://{outside}")
        assert client.get(url).status_code == 200
    assert client.get(url).status_code == 404  # folder no longer configured: refused again
    client.logout()
    assert client.get(url).status_code == 302


def test_version_page_scoped_and_bad_filters(client, user, superuser, street):
    client.force_login(user)
    assert client.get(f"/versions/{street['v1'].pk}/").status_code == 404
    client.force_login(superuser)
    bad = client.get(f"/versions/{street['v1'].pk}/?cursor=garbage")
    assert bad.status_code == 200 and "not a cursor" in bad.content.decode()
    assert "not found" in client.get(f"/versions/{street['v1'].pk}/?compare=nope").content.decode()


def test_s3_objects_are_shown_through_presigned_urls(s3_bucket, s3_server, monkeypatch, settings):
    import requests

    from hyperdatasets.storage.s3 import S3Provider

    client, bucket = s3_bucket
    client.put_object(Bucket=bucket, Key="images/a.png", Body=b"png-bytes")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings.AWS_S3_ENDPOINT_URL = s3_server
    url = S3Provider().browser_url(f"s3://{bucket}/images/a.png")
    assert "Signature" in url or "X-Amz-Signature" in url
    assert "testing" not in url.split("?")[0]
    assert requests.get(url, timeout=10).content == b"png-bytes"
    assert S3Provider().browser_url(f"s3://{bucket}") is None
