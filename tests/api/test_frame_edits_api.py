"""Saving one frame from the editor: ETag / If-Match, refusals, and the audit history."""

import orjson
import pytest
from django.urls import reverse

from hyperdatasets.selectors.frames import frames_get
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.versions import version_create, version_publish
from tests.api.conftest import error_of
from tests.factories import frame

pytestmark = pytest.mark.django_db

BOX = {"id": "box-1", "label": ["car"], "poly": [1, 2, 30, 2, 30, 40, 1, 40], "meta": {"_type": "b2d"}}


@pytest.fixture
def draft(dataset):
    head = version_head(dataset)
    frames_upsert(head, [frame("a", labels=[["person"]]), frame("b")])
    return head


def _put(client, version, frame_id, body, etag=None):
    extra = {"HTTP_IF_MATCH": etag} if etag is not None else {}
    return client.put(f"/api/versions/{version.pk}/frame/{frame_id}/", orjson.dumps(body),
                      content_type="application/json", **extra)


def _load(client, version, frame_id):
    response = client.get(f"/api/versions/{version.pk}/frame/{frame_id}/")
    assert response.status_code == 200
    return response.json(), response["ETag"]


def test_save_with_if_match_writes_the_frame_and_an_audit_row(clients, draft):
    client = clients["write"]
    loaded, etag = _load(client, draft, "a")
    loaded["rois"].append(BOX)
    response = _put(client, draft, "a", loaded, etag)
    assert response.status_code == 200, response.content
    assert response["ETag"] != etag
    assert [r["id"] for r in response.json()["rois"]] == ["roi-0", "box-1"]
    again, new_etag = _load(client, draft, "a")
    assert new_etag == response["ETag"] and again["rois"][1]["label"] == ["car"]
    history = client.get(f"/api/versions/{draft.pk}/frame-history/a/").json()
    assert [(e["user"], e["rois_before"], e["rois_after"], e["changes"]) for e in history["edits"]] == [
        ("writer", 1, 2, {"added": ["box-1"], "removed": [], "changed": []})]
    assert history["edits"][0]["revision"] == int(new_etag.strip('"'))
    assert history["edits"][0]["base_revision"] == int(etag.strip('"'))
    assert client.get(f"/api/versions/{draft.pk}/frame-history/b/").json()["edits"] == []


def test_a_stale_save_is_refused_and_the_first_save_kept(clients, draft):
    first, second = clients["write"], clients["admin"]
    mine, etag = _load(first, draft, "a")
    theirs, same_etag = _load(second, draft, "a")
    assert etag == same_etag
    mine["rois"] = [BOX]
    assert _put(first, draft, "a", mine, etag).status_code == 200
    theirs["rois"][0]["label"] = ["cyclist"]
    refused = _put(second, draft, "a", theirs, same_etag)
    assert refused.status_code == 412
    error = error_of(refused)
    assert error["code"] == "stale_write"
    assert "saved by writer at" in error["message"] and "not saved" in error["message"]
    assert error["details"]["loaded_revision"] == int(etag.strip('"'))
    stored = frames_get(draft, ["a"])["a"]
    assert [r["id"] for r in stored["rois"]] == ["box-1"]
    assert len(first.get(f"/api/versions/{draft.pk}/frame-history/a/").json()["edits"]) == 1
    # Reloading gives the current revision, and the save then goes through.
    _current, current_etag = _load(second, draft, "a")
    assert _put(second, draft, "a", theirs, current_etag).status_code == 200


def test_a_frame_deleted_since_loading_is_refused(clients, draft):
    client = clients["write"]
    loaded, etag = _load(client, draft, "b")
    deleted = client.post(f"/api/versions/{draft.pk}/frames/delete/", {"frame_ids": ["b"]}, format="json")
    assert deleted.status_code == 200
    refused = _put(client, draft, "b", loaded, etag)
    assert refused.status_code == 412 and "was deleted" in error_of(refused)["message"]
    assert frames_get(draft, ["b"]) == {}


def test_published_versions_refuse_and_parents_stay_untouched(clients, dataset, draft):
    client = clients["write"]
    published = version_publish(draft)
    loaded, etag = _load(client, published, "a")
    edited = {**loaded, "rois": [BOX]}
    refused = _put(client, published, "a", edited, etag)
    assert refused.status_code == 409 and error_of(refused)["code"] == "state_conflict"
    child = version_create(dataset, version_name="fixes", parent_version_names=[published.name])
    inherited, child_etag = _load(client, child, "a")
    assert child_etag == etag  # the child resolves the parent's row until it is edited
    assert _put(client, child, "a", {**inherited, "rois": [BOX]}, child_etag).status_code == 200
    assert [r["id"] for r in frames_get(published, ["a"])["a"]["rois"]] == ["roi-0"]
    assert [r["id"] for r in frames_get(child, ["a"])["a"]["rois"]] == ["box-1"]
    assert client.get(f"/api/versions/{published.pk}/frame-history/a/").json()["edits"] == []
    edits = client.get(f"/api/versions/{child.pk}/frame-history/a/").json()["edits"]
    assert [(e["version"], e["changes"]["added"], e["changes"]["removed"]) for e in edits] == [
        ("fixes", ["box-1"], ["roi-0"])]


@pytest.mark.parametrize(("body", "etag", "field"), [
    ({"rois": [{"label": ["x"], "poly": [1, 2, 3], "meta": {"_type": "b2d"}}]}, None, "rois[0].poly"),
    ({"id": "other"}, None, "id"),
    ([1, 2], None, "frame"),
    ({}, '"abc"', "If-Match"),
    ({"rois": [{"label": ["x"], "confidence": 3}]}, None, "rois[0].confidence"),
])
def test_bad_saves_name_the_field_and_write_nothing(clients, draft, body, etag, field):
    client = clients["write"]
    loaded, loaded_etag = _load(client, draft, "a")
    if isinstance(body, dict):
        body = {**loaded, **body}
    response = _put(client, draft, "a", body, etag)
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert field in error["details"], error
    assert _load(client, draft, "a") == (loaded, loaded_etag)
    assert client.get(f"/api/versions/{draft.pk}/frame-history/a/").json()["edits"] == []


def test_frame_ids_with_slashes_and_spaces_are_addressable(clients, draft):
    client = clients["write"]
    odd = "cam 1/2024/frame?7#x"
    frames_upsert(draft, [frame(odd)])
    url = reverse("api-frame", kwargs={"version_id": draft.pk, "frame_id": odd})
    loaded = client.get(url)
    assert loaded.status_code == 200 and loaded.json()["id"] == odd
    saved = client.put(url, orjson.dumps({**loaded.json(), "rois": [BOX]}), content_type="application/json",
                       HTTP_IF_MATCH=loaded["ETag"])
    assert saved.status_code == 200, saved.content
    history = client.get(reverse("api-frame-history", kwargs={"version_id": draft.pk, "frame_id": odd})).json()
    assert history["frame_id"] == odd and len(history["edits"]) == 1
