"""ClearML's own client (``clearml.hyperdatasets``, PyPI ``clearml``) drives this server end to end: a
dataset with multi-source image entries and uploaded files, publishing, a child that inherits, deletes, a
snapshot, dataviews with label rules, a Lucene query, weights, labels and mapping, iterated in both orders,
and the management calls. Every step's answer is checked here against the database, the REST API's own
dataview answer, this project's SDK and the web app."""

from pathlib import Path
from uuid import UUID

import pytest
from django.core.files.storage import default_storage
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dataviews.models import Dataview
from hyperdatasets import sdk
from hyperdatasets.models import Dataset, DatasetVersion, VersionStatus

pytestmark = pytest.mark.django_db(transaction=True)

WORKFLOW = Path(__file__).with_name("workflow.py").read_text()
ROI_ADDED = {"id", "label_num"}  # what this server adds to a ROI it returns (an id, the enumeration's number)


def _as_sent(read: dict, sent: dict) -> dict:
    """The frame read back, without what the server adds (ROI ids and numbers; a mask ROI's empty polygon)."""
    rois = []
    for roi, sent_roi in zip(read.get("rois") or [], sent.get("rois") or [], strict=True):
        roi = {key: value for key, value in roi.items() if key not in ROI_ADDED}
        if "poly" not in sent_roi and roi.get("poly") == []:
            del roi["poly"]
        rois.append(roi)
    return {**read, "rois": rois}


def _rest_iteration(api: APIClient, dataview_id: str) -> list[dict]:
    started = api.post(f"/api/dataviews/{UUID(dataview_id)}/iterations/", {}, format="json")
    assert started.status_code == 201, started.content
    frames, cursor = [], None
    while True:
        body = {"batch_size": 2, **({"cursor": cursor} if cursor else {})}
        batch = api.post(f"/api/dataview-iterations/{started.json()['id']}/next/", body, format="json").json()
        frames += batch["frames"]
        cursor = batch["cursor"]
        if batch["eof"]:
            return frames


def _same_frames(clearml_frames: list[dict], rest_frames: list[dict]) -> None:
    assert [f["id"] for f in clearml_frames] == [f["id"] for f in rest_frames]
    for ours, rest in zip(clearml_frames, rest_frames, strict=True):
        assert ours["meta"] == rest["meta"], ours["id"]
        assert ours["rois"] == rest["rois"], ours["id"]
        assert _source_files(ours) == _source_files(rest), ours["id"]


def _source_files(frame: dict) -> list:
    """A frame's sources as an entry's sub-entries keep them (the client rebuilds only these fields)."""
    return [(s["id"], s["uri"], s.get("width"), s.get("height"), [(m["id"], m["uri"]) for m in s.get("masks") or []],
             (s.get("preview") or {}).get("uri")) for s in frame["sources"]]


def test_the_clearml_client_drives_this_server_end_to_end(clearml, live_server, client, tmp_path):
    result = clearml(WORKFLOW)
    user = clearml.user
    ids = result["ids"]

    # A dataset in project "HD Study" with version v1; local files uploaded to the files host, into storage.
    assert result["add_errors"] == {"upload": {}, "register": {}}
    dataset = Dataset.objects.get(pk=ids["dataset"])
    assert dataset.project.name == "HD Study" and dataset.description == "study dataset"
    files_host = f"{live_server.url}/clearml/files"
    for i, sent in enumerate(result["sent"]):
        path = f"hyperdatasets/{ids['dataset']}/{ids['v1']}/img_{i}.png"
        assert sent["sources"][0]["uri"] == f"{files_host}/{path}"
        with default_storage.open(f"clearml-files/{path}") as stored:
            assert stored.read() == (tmp_path / f"img_{i}.png").read_bytes()

    # Iterating the version gives back every field sent: sources, masks, boxes, polygons, ellipses,
    # keypoints, masks, confidences, ROI meta, entry and sub-entry metadata, context ids.
    sent = {frame["id"]: frame for frame in result["sent"]}
    read = {frame["id"]: frame for frame in result["v1_read"]}
    assert sorted(read) == sorted(sent) == [f"f{i}" for i in range(6)]
    for frame_id, frame in sent.items():
        assert _as_sent(read[frame_id], frame) == frame
    assert {roi["meta"]["_type"] for roi in sent["f0"]["rois"]} == {"b2d", "p2d", "elp", "mask", "k2d"}

    # commit_version(publish=True) publishes; a Published version refuses writes.
    v1 = DatasetVersion.objects.get(pk=ids["v1"])
    assert v1.status == VersionStatus.PUBLISHED and result["v1_id_by_name"] == ids["v1"]
    assert list(result["write_to_published"]) == ["f0"] and "Published" in result["write_to_published"]["f0"]
    assert result["v1_after_write"] == [f"f{i}" for i in range(6)]

    # A child inherits the frames; deleting in the child leaves the parent as it was.
    assert result["v2_inherited"] == [f"f{i}" for i in range(6)]
    assert result["v2_deleted"] == 2
    assert result["v2_after_delete"] == ["f2", "f3", "f4", "f5"]
    assert result["v1_after_child_delete"] == [f"f{i}" for i in range(6)]

    # create_snapshot(): v2 is published in place as "snapshot 1 (v2)", and a new Draft "v2" follows it.
    snapshot = result["snapshot"]
    assert snapshot["name"] == "snapshot 1 (v2)" and snapshot["id"] == ids["v2"]
    published = DatasetVersion.objects.get(pk=snapshot["id"])
    draft = DatasetVersion.objects.get(pk=snapshot["draft_id"])
    assert published.status == VersionStatus.PUBLISHED and published.name == "snapshot 1 (v2)"
    assert draft.status == VersionStatus.DRAFT and draft.name == snapshot["draft_name"] == "v2"
    assert list(draft.parent_links.values_list("parent_id", flat=True)) == [published.pk]
    assert snapshot["frames"] == snapshot["draft_frames"] == ["f2", "f3", "f4", "f5"]

    # The DataViews the client stored, and their iterations, against the REST API's own answers.
    api = APIClient()
    api.force_authenticate(user)
    view = Dataview.objects.get(pk=result["view_id"])
    assert view.project.name == "HD Study" and view.name == "study-view"
    assert view.iteration["order"] == "random" and view.iteration["random_seed"] == 1234
    assert [rule["weight"] for rule in view.filters] == [2.0, 1.0]
    assert view.filters[0]["label_rules"] == [{"label": "cat", "count_range": [2, -1], "conf_range": [0.5, 1.0],
                                              "must_not": False}]
    count = api.get(f"/api/dataviews/{view.pk}/count/").json()
    assert result["view_count"] == count["total"] == 5
    assert result["fetched"]["count"] == 5
    rest_random = _rest_iteration(api, result["view_id"])
    _same_frames(result["view_random"], rest_random)
    assert result["view_random_again"] == [f["id"] for f in rest_random]
    # Rule 1 takes f1-f3 of v1 (train, lux >= 100, two cats of confidence >= 0.5); rule 2 f3 and f5 of the
    # snapshot (Tel Aviv): f3 once from each version.
    assert sorted(f["id"] for f in rest_random) == ["f1", "f2", "f3", "f3", "f5"]
    # With mapping rules, ROIs are renamed, and those no rule maps are left out (ClearML's "labels that are
    # not mapped are ignored"); each carries its number from the enumeration.
    numbered = {(tuple(roi["label"]), roi["label_num"]) for f in result["view_random"] for roi in f["rois"]}
    assert numbered == {(("animal",), 3)}
    assert [len(f["rois"]) for f in result["view_random"]] == [
        sum("dog" in roi["label"] for roi in sent[f["id"]]["rois"]) for f in result["view_random"]]

    rest_sequential = _rest_iteration(api, result["sequential_id"])
    assert [f["id"] for f in result["sequential"]] == ["f0", "f2", "f4"]
    _same_frames(result["sequential"], rest_sequential)

    # DataView.get() by id and by name gives the stored definition back.
    fetched = result["fetched"]
    assert fetched["id"] == fetched["by_name"] == result["view_id"] and fetched["name"] == "study-view"
    assert fetched["labels"] == {"cat": 1, "dog": 2, "animal": 3, "ball": 4} and fetched["mapping"] == 1
    assert fetched["queries"] == [
        {"dataset": ids["dataset"], "version": ids["v1"], "weight": 2.0,
         "frame_query": "meta.split:train AND meta.weather.lux:[100 TO *]"},
        {"dataset": ids["dataset"], "version": ids["v2"], "weight": 1.0, "frame_query": 'meta.city:"Tel Aviv"'}]
    assert fetched["iteration"]["order"] == "random" and fetched["iteration"]["random_seed"] == 1234

    # HyperDatasetManagement.list/exists/get.
    assert result["listed"] == ["cats-and-dogs"]
    assert result["exists"] == [True, True, False, False]
    assert result["current"] == snapshot["draft_id"]

    # The same frames through this project's SDK...
    token = Token.objects.create(user=user)
    sdk.configure(url=live_server.url, token=token.key)
    try:
        version = sdk.DatasetVersion.get_version(dataset_name="cats-and-dogs", version_name="v1")
        documents = {doc["id"]: doc for doc in version.iterate_frame_documents()}
    finally:
        sdk.configure(url=None, token=None)
    assert sorted(documents) == sorted(sent)
    for frame_id, doc in documents.items():
        assert doc["meta"] == sent[frame_id]["meta"] and doc["context_id"] == sent[frame_id]["context_id"]
        assert _source_files(doc) == _source_files(sent[frame_id])
        assert [{key: roi[key] for key in sent_roi} for roi, sent_roi in
                zip(doc["rois"], sent[frame_id]["rois"], strict=True)] == sent[frame_id]["rois"]

    # ...and through the web app, which shows the uploaded image from the files host.
    client.force_login(user)
    page = client.get(f"/versions/{v1.pk}/frames/f0/")
    assert page.status_code == 200
    image_url = f"/clearml/files/hyperdatasets/{ids['dataset']}/{ids['v1']}/img_0.png"
    assert image_url in page.content.decode()
    image = client.get(image_url)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == (tmp_path / "img_0.png").read_bytes()

    # HyperDatasetManagement.delete: a version, then the dataset.
    deleted = clearml("""
        import json
        from clearml.hyperdatasets import HyperDatasetManagement as M
        version = M.delete(dataset_name="cats-and-dogs", version_name="v2", project_name="HD Study")
        still = M.exists(dataset_name="cats-and-dogs", version_name="v2")
        dataset = M.delete(dataset_name="cats-and-dogs", project_name="HD Study", force=True)
        print(json.dumps({"version": version, "still": still, "dataset": dataset,
                          "exists": M.exists(dataset_name="cats-and-dogs")}))
    """)
    assert deleted == {"version": True, "still": False, "dataset": True, "exists": False}
    assert not Dataset.objects.filter(pk=ids["dataset"]).exists()
