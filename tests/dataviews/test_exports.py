"""Dataview exports: the file holds exactly the frames a run of the dataview yields (JSON and JSON Lines, with a
projection, each output_rois mode, limits), progress is saved, a failure is recorded, a job another worker
holds is left alone, and the sweeper queues stalled jobs again and removes old ones with their files."""

from datetime import timedelta

import orjson
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from dataviews.exports import export_create, export_run, exports_sweep
from dataviews.models import DataviewExport, DataviewItem, DataviewIteration, ExportStatus
from dataviews.output import projected
from dataviews.services import iteration_start
from dataviews.spec import ANY
from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.services.versions import version_delete
from tests.dataviews.test_iteration import _drain, _street_view

pytestmark = pytest.mark.django_db


def _read(job: DataviewExport) -> list[dict]:
    with default_storage.open(job.file, "rb") as stored:
        raw = stored.read()
    assert job.size == len(raw)
    if job.format == "jsonl":
        assert raw.endswith(b"\n")
        return [orjson.loads(line) for line in raw.splitlines()]
    return orjson.loads(raw)


def _exported(view, **kwargs) -> DataviewExport:
    job = export_create(view, **kwargs)
    assert job.status == ExportStatus.QUEUED
    done = export_run(job.pk)
    assert done is not None and done.status == ExportStatus.SUCCEEDED, done and done.error
    return DataviewExport.objects.get(pk=job.pk)


@pytest.mark.parametrize("format", ["jsonl", "json"])
def test_the_file_holds_the_frames_of_a_run_exactly(streets, format):
    view = _street_view(streets, iteration={"order": "random", "random_seed": 5})
    expected = _drain(iteration_start(view), 17)
    job = _exported(view, format=format)
    assert _read(job) == expected
    assert job.total == job.done == job.written == 60
    assert job.file.endswith(f".{format}") and job.finished and job.error == ""
    # The export's own run and its snapshot are gone; the test's run remains.
    assert DataviewIteration.objects.filter(dataview=view).count() == 1
    assert DataviewItem.objects.count() == 60


def test_a_projection_keeps_only_the_named_fields(streets):
    view = _street_view(streets)
    fields = ["id", "meta.time", "dataset.version", "sources", "nothing.here"]
    job = _exported(view, projection=fields)
    assert job.projection == fields
    rows = _read(job)
    assert rows == [projected(frame, fields) for frame in _drain(iteration_start(view), 25)]
    assert rows[0] == {"id": "s000", "meta": {"time": "night"}, "dataset": {"version": str(streets[1].pk)},
                       "sources": rows[0]["sources"], "nothing": {"here": None}}
    assert set(rows[0]["sources"][0]) >= {"id", "uri", "width", "height"}


def test_frame_per_roi_writes_a_frame_per_matched_roi(streets):
    dataset, _head, frames = streets
    rule = {"dataset": str(dataset.pk), "version": ANY, "label_rules": [{"label": "car OR van"}]}
    view = _street_view(streets, filters=[rule], output_rois="frame_per_roi")
    job = _exported(view)
    matched = sum(1 for f in frames for roi in f["rois"] if set(roi["label"]) & {"car", "van"})
    assert job.done == job.total == 60 and job.written == matched > 60
    assert [(f["id"], f["rois"]) for f in _read(job)] == [(f["id"], f["rois"])
                                                         for f in _drain(iteration_start(view), 25)]


def test_an_infinite_dataview_exports_one_pass_or_its_limit(streets):
    endless = _street_view(streets, iteration={"infinite": True})
    assert [f["id"] for f in _read(_exported(endless))] == [f"s{i:03d}" for i in range(60)]
    limited = _street_view(streets, iteration={"infinite": True, "limit": 7})
    job = _exported(limited)
    assert job.total == 7 and [f["id"] for f in _read(job)] == [f"s{i:03d}" for i in range(7)]


def test_bad_exports_are_refused_naming_the_field(streets):
    view = _street_view(streets)
    for kwargs, field in [({"format": "csv"}, "format"), ({"projection": ["id", ""]}, "projection[1]"),
                          ({"projection": "id"}, "projection"), ({"projection": ["a..b"]}, "projection[0]"),
                          ({"projection": [7]}, "projection[0]")]:
        with pytest.raises(InvalidInput) as refused:
            export_create(view, **kwargs)
        assert field in refused.value.details, (kwargs, refused.value.details)
    assert not DataviewExport.objects.exists()


def test_a_failed_run_is_recorded_with_its_reason_and_leaves_no_file(streets):
    dataset, head, _frames = streets
    view = _street_view(streets)
    job = export_create(view)
    version_delete(head)  # the dataview's only input is gone before the job runs
    failed = export_run(job.pk)
    assert failed.status == ExportStatus.FAILED and failed.file == "" and failed.finished
    assert failed.error == "versions: the dataview has no input version to iterate", failed.error
    assert not DataviewIteration.objects.exists()
    assert export_run(job.pk) is None  # finished: nothing more to do


def test_a_job_another_live_worker_holds_is_left_alone(streets):
    job = export_create(_street_view(streets))
    DataviewExport.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING, lease_owner="other:1", lease_until=timezone.now() + timedelta(minutes=5))
    assert export_run(job.pk, owner="me:2") is None
    assert DataviewExport.objects.get(pk=job.pk).status == ExportStatus.RUNNING
    # Once its lease has expired, the next worker starts it over.
    DataviewExport.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1), written=9)
    finished = export_run(job.pk, owner="me:2")
    assert finished.status == ExportStatus.SUCCEEDED and finished.written == 60 and finished.runs == 1


def test_a_job_that_kept_killing_its_worker_fails(streets, settings):
    job = export_create(_street_view(streets))
    DataviewExport.objects.filter(pk=job.pk).update(runs=settings.HYPERDATASETS_EXPORT_MAX_RUNS)
    assert export_run(job.pk) is None
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED and "gave up" in job.error


def test_the_sweeper_queues_stalled_jobs_and_removes_old_exports(streets, settings):
    view = _street_view(streets)
    old = _exported(view)
    DataviewExport.objects.filter(pk=old.pk).update(
        created=timezone.now() - timedelta(days=settings.HYPERDATASETS_EXPORT_KEPT_DAYS + 1))
    assert default_storage.exists(old.file)
    stalled = export_create(view)
    DataviewExport.objects.filter(pk=stalled.pk).update(
        status=ExportStatus.RUNNING, lease_owner="dead:1", lease_until=timezone.now() - timedelta(seconds=1))
    fresh = _exported(view)
    from hyperdatasets.celery import app

    try:
        assert exports_sweep() == [str(stalled.pk)]
    finally:
        app.control.purge()  # the message names a job of this test's database
    assert not DataviewExport.objects.filter(pk=old.pk).exists() and not default_storage.exists(old.file)
    assert default_storage.exists(fresh.file)
