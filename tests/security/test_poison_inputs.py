"""Inputs that once could be written and never read, or that broke the server while parsing them."""

import gzip
import json

import orjson
import pytest
from django.db import connection

from hyperdatasets.api.bodies import MAX_BODY_DEPTH
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.versions import version_create, version_publish
from tests.api.conftest import error_of
from tests.factories import frame

pytestmark = pytest.mark.django_db

# Every number the API keeps, exactly, with its JSON type.
KEPT = {
    "int_max": 2**63 - 1, "int_min": -(2**63 - 1), "int_2_53_plus_1": 2**53 + 1, "zero": 0,
    "float_max": 1.7976931348623157e308, "float_min_subnormal": 5e-324, "negative_zero": -0.0, "tenth": 0.1,
    "float_big": 1e300, "float_neg_big": -1.5e300, "digits_as_text": "123456789012345678901234567890",
}
# Integers past the bound are refused, with their field.
REFUSED = {"int_2_63": 2**63, "int_minus_2_63": -(2**63), "int_2_64": 2**64, "int_2_70": 2**70, "huge": 10**400}


def _post(client, version, body: bytes, **headers):
    return client.generic("POST", f"/api/versions/{version.pk}/frames/", body, content_type="application/json",
                          **headers)


def test_boundary_numbers_are_kept_exactly_or_refused_with_their_field(clients, dataset):
    head = version_head(dataset)
    frames = [frame("kept", meta=dict(KEPT))]
    frames[0]["sources"][0]["meta"] = {"nested": {"deep": [KEPT["int_max"], KEPT["float_min_subnormal"]]}}
    frames[0]["meta_blob"] = {"blob": KEPT["int_min"]}
    for name, value in REFUSED.items():
        frames.append(frame(name, meta={"value": value}))
    frames.append(frame("roi-meta", labels=[["car"]]))
    frames[-1]["rois"][0]["meta"]["score"] = 2**64
    # Python's json writes big integers exactly; the body is what any client could send.
    body = json.dumps({"frames": frames}).encode()
    response = _post(clients["write"], head, body)
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["saved_ids"] == ["kept"]
    fields = {f["id"]: f["field"] for f in out["failures"]}
    assert fields == {**{name: "meta.value" for name in REFUSED}, "roi-meta": "rois[0].meta.score"}
    assert all("2**63-1" in f["reason"] for f in out["failures"])
    # Paged back, on the page and one by one, every value and type is what was sent.
    page = clients["read"].get(f"/api/versions/{head.pk}/frames/")
    assert page.status_code == 200
    [stored] = page.json()["frames"]
    for key, value in KEPT.items():
        assert stored["meta"][key] == value and type(stored["meta"][key]) is type(value), key
    assert str(stored["meta"]["negative_zero"]) == "-0.0"
    assert stored["sources"][0]["meta"] == {"nested": {"deep": [2**63 - 1, 5e-324]}}
    assert stored["meta_blob"] == {"blob": -(2**63 - 1)}
    one = clients["read"].get(f"/api/versions/{head.pk}/frame/kept/").json()
    assert one["meta"] == stored["meta"]
    # The meta filter compares the exact integer.
    found = clients["read"].get(f"/api/versions/{head.pk}/frames/?meta_key=int_max&meta_value={2**63 - 1}")
    assert [f["id"] for f in found.json()["frames"]] == ["kept"]


def _store_unreadable(version, frame_id: str) -> None:
    """What an older release let through: a document no JSON reader of ours can decode."""
    document = '{"id":"' + frame_id + '","meta":{"n":' + "9" * 400 + '},"sources":[]}'
    with connection.cursor() as cursor:
        cursor.execute("UPDATE hyperdatasets_frame SET document = %s WHERE frame_id = %s", [document, frame_id])


def test_a_stored_row_that_cannot_be_decoded_never_breaks_a_read(clients, client, people, dataset):
    head = version_head(dataset)
    assert _post(clients["write"], head, orjson.dumps({"frames": [frame("a"), frame("b"), frame("c")]})
                 ).status_code == 200
    _store_unreadable(head, "b")
    version_publish(head)
    child = version_create(dataset, version_name="child", parent_version_ids=[head.pk])
    for version in (head, child):
        page = clients["read"].get(f"/api/versions/{version.pk}/frames/")
        assert page.status_code == 200
        frames = page.json()["frames"]
        assert [f["id"] for f in frames] == ["a", "b", "c"]
        assert "cannot be decoded" in frames[1]["unreadable"] and "unreadable" not in frames[0]
        single = clients["read"].get(f"/api/versions/{version.pk}/frame/b/")
        assert single.status_code == 200 and single.json()["id"] == "b" and single.json()["unreadable"]
        lookup = clients["read"].post(f"/api/versions/{version.pk}/frames/lookup/", {"frame_ids": ["b", "c"]},
                                      format="json")
        assert lookup.status_code == 200
    assert clients["read"].get(f"/api/versions/{child.pk}/diff/?other={head.pk}").status_code == 200
    client.force_login(people["reader"])
    assert client.get(f"/versions/{head.pk}/").status_code == 200
    frame_page = client.get(f"/versions/{head.pk}/frames/b/")
    assert frame_page.status_code == 200 and "cannot be shown" in frame_page.content.decode()
    # In a Draft, an update of that frame is refused with the reason; writing it whole replaces it.
    update = clients["write"].patch(f"/api/versions/{child.pk}/frames/", {"frames": [{"id": "b", "meta": {"k": 1}}]},
                                    format="json")
    assert update.status_code == 200 and "write the whole frame again" in update.json()["failures"][0]["reason"]
    assert _post(clients["write"], child, orjson.dumps({"frames": [frame("b")]})).json()["saved_ids"] == ["b"]
    assert "unreadable" not in clients["read"].get(f"/api/versions/{child.pk}/frame/b/").json()


@pytest.mark.parametrize("depth", [MAX_BODY_DEPTH + 1, 1000, 100_000])
@pytest.mark.parametrize("compressed", [False, True])
def test_deep_nesting_is_refused_with_the_limit(clients, dataset, depth, compressed):
    head = version_head(dataset)
    nested = b'{"a":' * depth + b"1" + b"}" * depth
    body = b'{"frames":[{"id":"x","sources":[{"uri":"s3://b/k","meta":' + nested + b"}]}]}"
    headers = {"HTTP_CONTENT_ENCODING": "gzip"} if compressed else {}
    response = _post(clients["write"], head, gzip.compress(body) if compressed else body, **headers)
    assert response.status_code == 400, response.content[:300]
    assert f"more than {MAX_BODY_DEPTH} levels" in error_of(response)["message"]
    for path in ("/api/projects/", f"/api/versions/{head.pk}/frames/lookup/"):
        other = clients["write"].generic("POST", path, b'{"name":' + b"[" * depth + b"]" * depth + b"}",
                                         content_type="application/json")
        assert other.status_code == 400 and f"{MAX_BODY_DEPTH} levels" in error_of(other)["message"]
    assert DatasetVersion.objects.get(pk=head.pk).frame_count == 0


def test_meta_nesting_within_the_body_limit_is_refused_per_frame(clients, dataset):
    head = version_head(dataset)
    nested = {"a": 1}
    for _ in range(40):
        nested = {"a": nested}
    response = clients["write"].post(f"/api/versions/{head.pk}/frames/", {"frames": [frame("x", meta=nested),
                                                                                      frame("ok")]}, format="json")
    assert response.status_code == 200
    assert response.json()["saved_ids"] == ["ok"]
    assert "32 levels" in response.json()["failures"][0]["reason"]


def test_bodies_are_refused_by_their_declared_length_before_reading(clients, dataset, settings):
    head = version_head(dataset)
    small = orjson.dumps({"frames": [frame("a")]})
    declared = str(settings.HYPERDATASETS_FRAMES_MAX_BYTES + 1)
    response = _post(clients["write"], head, small, CONTENT_LENGTH=declared)
    assert response.status_code == 413 and "larger than" in error_of(response)["message"]
    too_big = b'{"frames":[' + b" " * settings.HYPERDATASETS_FRAMES_MAX_BYTES + b"]}"
    assert _post(clients["write"], head, too_big).status_code == 413
    bomb = gzip.compress(b'{"frames":[' + b" " * (settings.HYPERDATASETS_FRAMES_MAX_BYTES + 10) + b"]}")
    assert len(bomb) < 100_000
    assert _post(clients["write"], head, bomb, HTTP_CONTENT_ENCODING="gzip").status_code == 413
    upload = clients["write"].generic("POST", f"/api/datasets/{dataset.pk}/uploads/", b"--x--",
                                      content_type="multipart/form-data; boundary=x",
                                      CONTENT_LENGTH=str(settings.HYPERDATASETS_UPLOAD_MAX_BYTES * 2))
    assert upload.status_code == 413
    assert DatasetVersion.objects.get(pk=head.pk).frame_count == 0


def test_deleting_a_user_named_as_creator_of_published_versions(clients, people, dataset, django_user_model):
    version_publish(version_create(dataset, version_name="by-writer", user=people["writer"]))
    creator = DatasetVersion.objects.get(dataset=dataset, name="by-writer")
    assert creator.created_by == people["writer"] and creator.is_published
    people["writer"].delete()
    kept = DatasetVersion.objects.get(pk=creator.pk)
    assert kept.created_by is None and kept.is_published and kept.name == "by-writer"
    # Only the creator may go: every other change of a Published row is still refused below the services.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetVersion.objects.filter(pk=creator.pk).update(name="renamed")
    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetVersion.objects.filter(pk=creator.pk).update(comment="x", created_by=None)
