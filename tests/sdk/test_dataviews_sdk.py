"""The SDK's DataView against a live server: queries by names, weights, mapping and enumeration, stored and
read back, counted, iterated (whole, and in shards whose union is the whole), the same seed giving the same
order, projections, and the server's refusals as exceptions."""

import pytest

from hyperdatasets import sdk
from hyperdatasets.sdk import DataView, IterationOrder
from tests.deletion.conftest import start_worker  # noqa: F401


@pytest.fixture
def street(street_version):
    return street_version


def test_a_dataview_from_the_sdk(street):
    view = DataView(name="training", iteration_order=IterationOrder.random, random_seed=11, project_name="dv")
    view.add_query(dataset_name="street", dataset_project="dv", version_name="Current", frame_query="meta.time:day")
    view.add_query(dataset_name="street", version_name="*", roi_query="person", weight=3)
    view.add_mapping_rule(dataset_name="street", version_name="*", from_labels=["car"], to_label="vehicle")
    view.add_mapping_rule(dataset_name="street", version_name="*", from_labels=["person"], to_label="person")
    view.set_labels({"vehicle": 1, "person": 2})
    day = sum(1 for i in range(40) if i % 4)
    person_night = sum(1 for i in range(40) if i % 4 == 0)  # night frames are even: all with a person
    assert view.get_count() == day + person_night
    rules = view.get_count_per_rule()
    assert [r["count"] for r in rules] == [day, 20] and [r["share"] for r in rules] == [day, person_night]
    assert view.id is not None and view.random_seed == 11

    frames = view.to_list()
    assert sorted(f.id for f in frames) == sorted(f"s{i:02d}" for i in range(40))
    for frame in frames:
        (roi,) = frame.annotations
        assert (roi["label"], roi["label_enum"]) == ((["vehicle"], 1) if int(frame.id[1:]) % 2 else (["person"], 2))
        assert frame.dataview_source["version"] == street.id
    again = DataView.get(dataview_id=view.id)
    assert [f.id for f in again.to_list()] == [f.id for f in frames]  # the same seed, the same order
    assert DataView.get(name="training", project_name="dv").id == view.id

    parts = [list(view.get_iterator(num_workers=3, worker_index=w, batch_size=4)) for w in range(3)]
    assert sorted(f.id for part in parts for f in part) == sorted(f.id for f in frames)
    assert [set(f.id for f in part) & set(f.id for f in other) for part in parts for other in parts
            if part is not other] == [set()] * 6
    projected = view.to_dict(projection=["id", "meta.time"])
    assert sorted(p["id"] for p in projected) == sorted(f.id for f in frames)
    assert all(set(p) == {"id", "meta"} and p["meta"]["time"] in ("day", "night") for p in projected)


def test_sequential_order_and_errors(street):
    view = DataView(name="ordered", iteration_order="sequential", iteration_infinite=True, maximum_number_of_frames=50)
    view.add_query(dataset_name="street", version_name="Current")
    assert [f.id for f in view.to_list()] == [f"s{i % 40:02d}" for i in range(50)]
    endless = DataView(name="endless", iteration_infinite=True)
    endless.add_query(dataset_name="street", version_name="Current")
    with pytest.raises(ValueError, match="infinite"):
        endless.to_list()
    broken = DataView(name="broken")
    broken.add_query(dataset_name="street", version_name="Current", frame_query="meta.time:(")
    with pytest.raises(sdk.InvalidRequestError, match="frame_query"):
        broken.store()
    missing = DataView(name="missing")
    missing.add_query(dataset_name="no-such-dataset", version_name="v1")
    with pytest.raises(sdk.NotFoundError):
        missing.get_count()


def test_dataviews_by_name_and_exports_through_the_sdk(street, start_worker, tmp_path):  # noqa: F811
    start_worker()
    view = DataView(name="exported", iteration_order=IterationOrder.random, random_seed=3)
    view.add_query(dataset_name="street", version_name="Current", frame_query="meta.time:night")
    view.store()
    # By name: the dataview outside any project; in another project a second one of that name does not clash.
    elsewhere = DataView(name="exported", project_name="dv")
    elsewhere.add_query(dataset_name="street", version_name="Current")
    elsewhere.store()
    assert DataView.get(name="exported").id == view.id
    assert DataView.get(dataview_name="exported", project_name="dv").id == elsewhere.id
    with pytest.raises(sdk.NotFoundError, match="no-such-view"):
        DataView.get(name="no-such-view")

    import orjson

    expected = view.to_dict(projection=["id", "meta.time", "sources"])
    job = view.export_frames(projection=["id", "meta.time", "sources"], timeout=90)
    assert job.status == "succeeded" and job.written == job.total == 10, job
    path = job.download(tmp_path)
    assert path == tmp_path / "exported.jsonl"
    assert [orjson.loads(line) for line in path.read_bytes().splitlines()] == expected
    second = view.export_frames(format="json", timeout=90)
    whole = second.download(tmp_path / "whole.json")
    rows = orjson.loads(whole.read_bytes())
    assert [r["id"] for r in rows] == [e["id"] for e in expected] and all(r["rois"] for r in rows)
    assert [e.id for e in view.get_exports()] == [second.id, job.id]  # newest first
    with pytest.raises(sdk.InvalidRequestError, match="format"):
        view.export_frames(format="xml")
    job.delete()
    with pytest.raises(sdk.NotFoundError):
        job.refresh()


def test_a_dataview_exports_its_frames_as_yolo(street, start_worker, tmp_path):  # noqa: F811
    start_worker()
    view = DataView(name="night-people", project_name="dv")
    view.add_query(dataset_name="street", dataset_project="dv", version_name="Current", frame_query="meta.time:night")
    view.add_mapping_rule(dataset_name="street", version_name="*", from_labels=["person"], to_label="pedestrian")
    folder = view.export_annotations(format="yolo", destination=tmp_path / "yolo")
    assert view.last_export_report == {}
    labels = sorted((folder / "labels" / "train").glob("*.txt"))
    assert len(labels) == 10  # every fourth of the 40 frames is a night frame
    assert all(path.read_text().startswith("0 ") for path in labels)
    assert "pedestrian" in (folder / "data.yaml").read_text()
