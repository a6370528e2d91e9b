"""The dataview pages' rules without a browser: who sees what (the editor read-only for a reader; nothing of a
recipe whose inputs the user may not read; not found for outsiders), the list's project and archive filters
and its pages, hostile frame ids escaped in the preview, and the page actions' refusals."""

import pytest

from dataviews.models import Dataview
from dataviews.services import dataview_archive, dataview_create
from hyperdatasets.models import AccessRole
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.projects import project_rule_set

pytestmark = pytest.mark.django_db
HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def world(django_user_model):
    owner = django_user_model.objects.create_user(username="owner", password="x")
    reader = django_user_model.objects.create_user(username="reader", password="x")
    outsider = django_user_model.objects.create_user(username="outsider", password="x")
    cars = dataset_create(dataset_name="cars", dataset_project="vision", user=owner)
    head = version_head(cars)
    assert frames_upsert(head, [{"id": HOSTILE, "sources": [{"uri": "s3://b/x.jpg"}], "meta": {"n": 1}},
                                {"id": "plain", "sources": [{"uri": "s3://b/y.jpg"}], "meta": {"n": 2}}]).failures == []
    project_rule_set(cars.project, role=AccessRole.READ, user=reader)
    view = dataview_create(name="training", project_name="vision", user=owner,
                           versions=[{"dataset_id": str(cars.pk), "version_id": str(head.pk)}],
                           filters=[{"dataset": str(cars.pk), "frame_query": "meta.n:[1 TO 2]"}])
    secret = dataset_create(dataset_name="secret", dataset_project="hidden", user=owner)
    mixed = dataview_create(name="mixed", project_name="vision", user=owner,
                            versions=[{"dataset_id": str(secret.pk), "version_id": str(version_head(secret).pk)}])
    return {"owner": owner, "reader": reader, "outsider": outsider, "view": view, "mixed": mixed, "secret": secret}


def test_a_reader_sees_a_read_only_editor_and_escaped_frames(client, world):
    client.force_login(world["reader"])
    page = client.get(f"/dataviews/{world['view'].pk}/").content.decode()
    assert 'data-editable="false"' in page and 'data-testid="read-only"' in page
    assert 'data-testid="dataview-actions"' not in page  # no write actions offered
    preview = client.get(f"/dataviews/{world['view'].pk}/preview/")
    assert preview.status_code == 200
    text = preview.content.decode()
    assert HOSTILE not in text and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text
    assert text.count('data-testid="frame-thumb"') == 2
    refused = client.post(f"/dataviews/{world['view'].pk}/publish/", follow=True).content.decode()
    assert "needs the write role" in refused
    assert not Dataview.objects.get(pk=world["view"].pk).is_published


def test_nothing_of_a_recipe_with_unreadable_inputs_is_shown(client, world):
    client.force_login(world["reader"])
    page = client.get(f"/dataviews/{world['mixed'].pk}/").content.decode()
    assert 'data-testid="inputs-unreadable"' in page and str(world["secret"].pk) not in page
    assert "dataview-recipe" not in page
    preview = client.get(f"/dataviews/{world['mixed'].pk}/preview/").content.decode()
    assert 'data-testid="preview-error"' in preview and str(world["secret"].pk) not in preview


def test_outsiders_find_no_dataview_page(client, world):
    client.force_login(world["outsider"])
    for path in (f"/dataviews/{world['view'].pk}/", f"/dataviews/{world['view'].pk}/preview/"):
        assert client.get(path).status_code == 404
    assert client.post(f"/dataviews/{world['view'].pk}/archive/").status_code == 404
    assert 'data-name="training"' not in client.get("/dataviews/").content.decode()
    assert client.post(f"/dataviews/{world['view'].pk}/no-such-action/").status_code == 404


def test_the_list_filters_by_project_and_archive_and_pages(client, world):
    client.force_login(world["owner"])
    for i in range(55):
        dataview_create(name=f"extra-{i:02d}", user=world["owner"])
    dataview_archive(world["mixed"])
    page = client.get(f"/dataviews/?project={world['view'].project_id}").content.decode()
    assert 'data-name="training"' in page and 'data-name="mixed"' not in page and "extra-00" not in page
    archived = client.get("/dataviews/?archived=1").content.decode()
    assert 'data-name="mixed"' in archived and 'data-name="training"' not in archived
    first = client.get("/dataviews/").content.decode()
    assert first.count('data-testid="dataview-row"') == 50 and 'data-testid="next-page"' in first
    second = client.get("/dataviews/?page=2").content.decode()
    assert second.count('data-testid="dataview-row"') == 6  # 55 extra + training, 50 a page
    found = client.get("/dataviews/?q=xtra-5").content.decode()
    assert found.count('data-testid="dataview-row"') == 5


def test_the_new_form_refuses_a_taken_name(client, world):
    client.force_login(world["owner"])
    response = client.post("/dataviews/new/", {"name": "training", "project": "vision"}, follow=True)
    assert "already exists" in response.content.decode()
    response = client.post("/dataviews/new/", {"name": "fresh", "project": "vision"})
    fresh = Dataview.objects.get(name="fresh")
    assert response["Location"] == f"/dataviews/{fresh.pk}/" and fresh.created_by == world["owner"]
