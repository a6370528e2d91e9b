import re

import pytest
from django.core.management import call_command

from hyperdatasets.examples import STEREO, STREET
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.frame_pages import cursor_encode, frames_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(tmp_path, settings, superuser):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_examples")
    return {(v.dataset.name, v.name): v for v in DatasetVersion.objects.select_related("dataset")}


def test_frame_page_draws_rois_masks_and_neighbours(client, superuser, versions):
    current = versions[(STREET, "Current")]
    client.force_login(superuser)
    page = client.get(f"/versions/{current.pk}/frames/street-001/").content.decode()
    kinds = re.findall(r'data-testid="roi" data-kind="(\w+)"', page)
    assert sorted(kinds) == ["b2d", "elp", "k2d", "p2d"]
    lane = re.search(r'data-kind="p2d".*?</g>', page, re.S).group(0)
    assert lane.count("<polygon") == 2  # the two parts of the lane marking
    person = re.search(r'data-kind="k2d".*?</g>', page, re.S).group(0)
    assert person.count("<circle") == 6
    assert page.count('data-testid="mask-layer"') == 1 and "(2, 2, 2)" in page
    assert re.search(r'id="mask-legend-data"[^>]*>\[\{"value": \[0, 0, 0\]', page)
    assert f'/versions/{current.pk}/frames/street-000/' in page and f'/versions/{current.pk}/frames/street-002/' in page
    assert 'data-testid="frame-label"' in page and "day" in page
    first = client.get(f"/versions/{current.pk}/frames/street-000/").content.decode()
    assert 'data-testid="prev"' not in first and 'data-testid="next"' in first


def test_frame_group_has_source_tabs_and_grid(client, superuser, versions):
    current = versions[(STEREO, "Current")]
    client.force_login(superuser)
    page = client.get(f"/versions/{current.pk}/frames/stereo-000/?source=right").content.decode()
    assert 'data-testid="source-tabs"' in page and 'class="active">right<' in page
    assert page.count('data-testid="roi"') == 1  # the right camera's box only
    assert 'data-testid="all-sources"' in page


def test_frame_page_scoping_and_missing(client, user, superuser, versions):
    current = versions[(STREET, "Current")]
    client.force_login(user)
    assert client.get(f"/versions/{current.pk}/frames/street-001/").status_code == 404
    client.force_login(superuser)
    assert client.get(f"/versions/{current.pk}/frames/nope/").status_code == 404


def test_backward_pages_walk_before_the_cursor(versions):
    current = versions[(STREET, "Current")]
    frames = frames_page(current, limit=100).frames
    key = cursor_encode(frames[5]["context_id"], frames[5]["timestamp"], frames[5]["id"])
    before = frames_page(current, cursor=key, limit=3, backward=True).frames
    assert [f["id"] for f in before] == [frames[4]["id"], frames[3]["id"], frames[2]["id"]]


def _editor(page: str) -> dict:
    import json

    found = re.search(r'<script id="editor-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


@pytest.mark.parametrize(("role", "editable"), [("read", False), ("write", True), ("admin", True)])
def test_the_editor_follows_the_project_role(client, user, versions, role, editable):
    from hyperdatasets.models import AccessRole, Project
    from hyperdatasets.services.projects import project_rule_set

    current = versions[(STREET, "Current")]
    project_rule_set(Project.objects.get(pk=current.dataset.project_id), role=AccessRole(role), user=user)
    client.force_login(user)
    page = client.get(f"/versions/{current.pk}/frames/street-001/").content.decode()
    data = _editor(page)
    assert data["editable"] is editable
    assert ('data-testid="tool-box"' in page) is editable and ('data-testid="save"' in page) is editable
    assert ('data-testid="read-only-badge"' in page) is not editable
    assert "car" in data["labels"] and data["revision"] > 0
    assert 'data-testid="shortcuts"' in page and "<kbd>Ctrl</kbd>+<kbd>Z</kbd>" in page  # listed for every role
    if not editable:
        assert "editing needs the write role" in page


def test_published_frames_are_read_only_with_a_badge(client, superuser, versions):
    published = versions[(STREET, "v1")]
    client.force_login(superuser)
    page = client.get(f"/versions/{published.pk}/frames/street-000/").content.decode()
    assert _editor(page)["editable"] is False
    assert re.search(r'data-testid="read-only-badge">Published: read-only<', page)
    assert 'data-testid="tool-box"' not in page and 'data-testid="history"' in page
