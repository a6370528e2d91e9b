"""Dataview counts and iterations against a brute-force reference over the frame documents, on the suite's
database: which (input version, frame) items the rules take, each rule's counts, the sequential order, the
random order's items, shards, output_rois, label mapping and enumeration; and the errors."""

import itertools
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataviews.models import DataviewItem, DataviewIteration
from dataviews.selectors import cursor_iteration, dataview_counts, iteration_batch, iteration_get
from dataviews.services import (
    dataview_create,
    dataview_delete,
    dataview_inline,
    iteration_start,
    iteration_start_inline,
    iterations_expire,
)
from dataviews.spec import ANY
from hyperdatasets.exceptions import InvalidCursor, InvalidInput, NotFound
from hyperdatasets.queries.fields import MetaSchema
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_delete, frames_upsert
from hyperdatasets.services.versions import version_create, version_publish
from tests.queries.reference import Reference
from tests.queries.strategies import frame_docs, frame_filters
from tests.queries.test_query_properties import _all_frames

pytestmark = pytest.mark.django_db
_names = itertools.count()
PROPERTY = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# A frame with every meta key the strategies' queries name, so that each dataset's schema knows them all.
ANCHOR = {"id": "anchor", "context_id": "ctx-0", "timestamp": 0,
          "sources": [{"id": "default", "uri": "s3://b/anchor.jpg", "width": 320, "height": 480}],
          "rois": [{"label": ["car"], "confidence": 0.9, "sources": ["default"], "poly": [0, 0, 1, 0, 1, 1],
                    "meta": {"occluded": False, "n": 1}}],
          "meta": {"city": "Haifa", "score": 1, "ok": True, "tags": ["x"], "when": "2024-10-20", "obj": {"k": "a"}}}


@st.composite
def worlds(draw):
    """Dataset A: Published root and a Draft child that replaces, adds and deletes frames; dataset B: one
    version. Frame ids overlap across the datasets."""
    ids = [f"f{i}" for i in range(draw(st.integers(2, 8)))]
    a_root = [draw(frame_docs(fid)) for fid in ids]
    replaced = draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    deleted = [d for d in draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)) if d not in replaced]
    a_child = [draw(frame_docs(fid)) for fid in replaced] + [draw(frame_docs(f"g{i}"))
                                                             for i in range(draw(st.integers(0, 2)))]
    b_root = [draw(frame_docs(fid)) for fid in ids[: draw(st.integers(1, len(ids)))]]
    return a_root, a_child, deleted, b_root


def _build(world):
    a_root, a_child, deleted, b_root = world
    n = next(_names)
    a = dataset_create(dataset_name=f"dv-a-{n}", dataset_project="dv")
    root = version_head(a)
    assert frames_upsert(root, [ANCHOR, *a_root]).failures == []
    version_publish(root)
    child = version_create(a, version_name="child", parent_version_names=[root.name])
    assert frames_upsert(child, a_child).failures == []
    frames_delete(child, deleted)
    b = dataset_create(dataset_name=f"dv-b-{n}", dataset_project="dv")
    b_head = version_head(b)
    assert frames_upsert(b_head, [ANCHOR, *b_root]).failures == []
    for version in (root, child, b_head):
        version.refresh_from_db()
    return [(a, root), (a, child), (b, b_head)]


SCOPES = [(0, "version"), (0, "dataset"), (2, "version"), (None, None)]


def _rule(inputs, scope, frame_filter, weight):
    index, kind = scope
    if index is None:
        return {**frame_filter, "dataset": ANY, "version": ANY, "weight": weight}
    dataset, version = inputs[index]
    return {**frame_filter, "dataset": str(dataset.pk), "version": str(version.pk) if kind == "version" else ANY,
            "weight": weight}


def _applies(rule, dataset, version):
    return rule["dataset"] in (ANY, str(dataset.pk)) and rule["version"] in (ANY, str(version.pk))


def _reference_items(inputs, rules):
    """[(input index, frame, mask)] in the sequential order, by brute force over every resolved frame."""
    items = []
    for k, (dataset, version) in enumerate(inputs):
        reference = Reference(MetaSchema.of([dataset.pk]).types)
        for frame in _all_frames(version):
            mask = sum(1 << r for r, rule in enumerate(rules)
                       if _applies(rule, dataset, version) and reference.filter_matches(frame, rule))
            if mask:
                items.append((k, frame, mask))
    items.sort(key=lambda item: (item[1]["context_id"], item[1]["timestamp"], item[1]["id"], item[0]))
    return items


def _first(mask):
    return (mask & -mask).bit_length() - 1


def _view(inputs, rules, **recipe):
    return dataview_create(
        name=f"view-{next(_names)}", project_name="dv",
        versions=[{"dataset_id": str(d.pk), "version_id": str(v.pk)} for d, v in inputs], filters=rules, **recipe)


def _drain(run, batch_size=3, worker_index=0, num_workers=1):
    frames, cursor = [], None
    while True:
        batch = iteration_batch(run, cursor=cursor, batch_size=batch_size, worker_index=worker_index,
                                num_workers=num_workers)
        frames += batch.frames
        cursor = batch.cursor
        if batch.eof:
            return frames


def _key(frame):
    return frame["dataset"]["version"], frame["id"]


@PROPERTY
@given(worlds(), st.lists(st.tuples(st.sampled_from(SCOPES), frame_filters(), st.sampled_from([1, 2.5])),
                          min_size=1, max_size=3))
def test_counts_and_the_sequential_order_match_the_reference(world, drawn):
    inputs = _build(world)
    rules = [_rule(inputs, scope, frame_filter, weight) for scope, frame_filter, weight in drawn]
    if all(rule["dataset"] == ANY for rule in rules):
        rules[0] = _rule(inputs, (0, "dataset"), drawn[0][1], 1)
    try:
        view = _view(inputs, rules)
    except InvalidInput:
        return  # a query the schema refuses (a type clash): the query engine's tests cover those
    expected = _reference_items(inputs, rules)
    counts = dataview_counts(view)
    assert counts.total == len(expected)
    assert counts.rule_counts == [sum(1 for *_x, m in expected if m >> r & 1) for r in range(len(rules))]
    assert counts.sizes == [sum(1 for *_x, m in expected if _first(m) == r) for r in range(len(rules))]
    run = iteration_start(view, iteration={"order": "sequential"})
    assert (run.total, run.sizes, run.rule_counts) == (counts.total, counts.sizes, counts.rule_counts)
    frames = _drain(run)
    assert [(f["dataset"]["version"], f["id"], f["rule_index"]) for f in frames] == [
        (str(inputs[k][1].pk), frame["id"], _first(mask)) for k, frame, mask in expected]
    # What a version reads is what the dataview yields (the ROIs all kept, numbered -1: no enumeration).
    for got, (_k, frame, _m) in zip(frames, expected, strict=True):
        assert {key: got[key] for key in frame if key != "rois"} == {key: frame[key] for key in frame if key != "rois"}
        assert got["rois"] == [{**roi, "label_num": -1} for roi in frame["rois"]]


@PROPERTY
@given(worlds(), st.sampled_from([1, 2, 3]), st.integers(0, 2**31 - 1), st.sampled_from([1, 4, 100]))
def test_random_shards_are_disjoint_and_complete(world, workers, seed, batch_size):
    inputs = _build(world)
    rules = [{"dataset": str(inputs[0][0].pk), "version": ANY, "weight": 1, "frame_query": "meta.city:Haifa"},
             {"dataset": ANY, "version": ANY, "weight": 3}]
    view = _view(inputs, rules, iteration={"order": "random", "random_seed": seed})
    expected = sorted((str(inputs[k][1].pk), frame["id"]) for k, frame, _m in _reference_items(inputs, rules))
    run = iteration_start(view)
    assert run.random_seed == seed
    parts = [_drain(run, batch_size, w, workers) for w in range(workers)]
    assert sorted(_key(f) for part in parts for f in part) == expected
    # The same seed gives the same order again, in a new iteration.
    again = iteration_start(view)
    assert [_key(f) for f in _drain(again, 7, 0, workers)] == [_key(f) for f in parts[0]]


def _street_view(streets, **recipe):
    dataset, head, _frames = streets
    return _view([(dataset, head)], recipe.pop("filters", [{"dataset": str(dataset.pk), "version": ANY}]),
                 **recipe)


def test_weights_balance_day_and_night(streets):
    dataset, _head, frames = streets
    night = sum(1 for f in frames if f["meta"]["time"] == "night")
    view = _street_view(streets, filters=[
        {"dataset": str(dataset.pk), "version": ANY, "frame_query": "meta.time:day", "weight": 1},
        {"dataset": str(dataset.pk), "version": ANY, "frame_query": "meta.time:night",
         "weight": (60 - night) / night}],
        iteration={"order": "random", "infinite": True, "limit": 400, "random_seed": 5})
    run = iteration_start(view)
    assert run.length == 400 and run.repeat
    out = _drain(run, 100)
    assert len(out) == 400
    share = sum(1 for f in out if f["meta"]["time"] == "night") / len(out)
    assert abs(share - 0.5) < 0.02


def test_a_synthetic_epoch_repeats_the_smaller_rule(streets):
    dataset, _head, frames = streets
    night = sum(1 for f in frames if f["meta"]["time"] == "night")
    view = _street_view(streets, filters=[
        {"dataset": str(dataset.pk), "version": ANY, "frame_query": "meta.time:day", "weight": 1},
        {"dataset": str(dataset.pk), "version": ANY, "frame_query": "meta.time:night", "weight": 9}],
        iteration={"order": "random"})
    run = iteration_start(view, allow_repetition=True)
    # ceil(max_rule_count / its normalized weight) = ceil(54 / (54 / 108)): the day frames about once each.
    assert night == 6 and run.length == 108
    out = _drain(run, 50)
    assert len(out) == 108
    days = [f["id"] for f in out if f["meta"]["time"] == "day"]
    nights = [f["id"] for f in out if f["meta"]["time"] == "night"]
    assert abs(len(days) - len(nights)) <= 2
    assert len(set(nights)) == night and len(nights) > 5 * night  # the night frames repeat
    assert len(set(days)) >= len(days) - 1  # a day frame at most once (and one at the epoch's edge)


def test_sequential_infinite_and_limit(streets):
    view = _street_view(streets, iteration={"order": "sequential", "infinite": True, "limit": 150})
    out = _drain(iteration_start(view), 64)
    assert [f["id"] for f in out] == [f"s{i % 60:03d}" for i in range(150)]
    view = _street_view(streets, iteration={"order": "sequential", "limit": 7})
    assert [f["id"] for f in _drain(iteration_start(view), 5)] == [f"s{i:03d}" for i in range(7)]


def test_output_rois_mapping_and_enumeration(streets):
    dataset, _head, frames = streets
    by_id = {f["id"]: f for f in frames}
    rule = {"dataset": str(dataset.pk), "version": ANY,
            "label_rules": [{"label": "car OR van", "conf_range": [0.85, 1]}]}
    mapping = [{"source": {"dataset": str(dataset.pk), "labels": ["car"]}, "target": "vehicle"},
               {"source": {"dataset": ANY, "labels": ["van"]}, "target": "vehicle"},
               {"source": {"dataset": ANY, "labels": ["red", "car"]}, "target": "red-car"}]
    enumeration = {"vehicle": 1, "red-car": 2}

    every = _drain(iteration_start(_street_view(streets, filters=[rule])), 25)
    assert [f["id"] for f in every] == sorted(by_id)
    assert all(len(f["rois"]) == len(by_id[f["id"]]["rois"]) for f in every)
    assert {roi["label_num"] for f in every for roi in f["rois"]} == {-1}

    only = _drain(iteration_start(_street_view(streets, filters=[rule], output_rois="only_filtered",
                                               mapping=mapping, labels_enumeration=enumeration)), 25)
    for frame in only:
        source = by_id[frame["id"]]["rois"]
        kept = [roi for roi in source if set(roi["label"]) & {"car", "van"}]  # the rule's ROIs; person is not
        assert [r["poly"] for r in frame["rois"]] == [r["poly"] for r in kept]
        for got, roi in zip(frame["rois"], kept, strict=True):
            expected = ["vehicle", "red-car"] if "car" in roi["label"] else ["vehicle"]
            assert got["label"] == expected and got["label_num"] == 1

    per_roi = _drain(iteration_start(_street_view(streets, filters=[rule], output_rois="frame_per_roi")), 25)
    expected = [(f["id"], roi["poly"]) for f in sorted(frames, key=lambda f: f["id"]) for roi in f["rois"]
                if set(roi["label"]) & {"car", "van"}]
    assert [(f["id"], f["rois"][0]["poly"]) for f in per_roi] == expected
    assert all(len(f["rois"]) == 1 for f in per_roi)


def test_mapping_drops_labels_no_rule_maps(streets):
    dataset, _head, _frames = streets
    out = _drain(iteration_start(_street_view(streets, mapping=[
        {"source": {"dataset": str(dataset.pk), "labels": ["person"]}, "target": "human"}])), 60)
    assert {tuple(roi["label"]) for f in out for roi in f["rois"]} == {("human",)}
    assert sum(len(f["rois"]) for f in out) == sum(1 for i in range(60) if i % 3 >= 1)


def test_a_frame_deleted_from_a_draft_input_is_skipped(streets):
    _dataset, head, _frames = streets
    run = iteration_start(_street_view(streets, iteration={"order": "random", "random_seed": 3}))
    frames_delete(head, ["s010"])
    out = _drain(run, 9)
    assert len(out) == 59 and "s010" not in {f["id"] for f in out}


def test_batch_errors(streets):
    run = iteration_start(_street_view(streets))
    other = iteration_start(_street_view(streets))
    for fields, field in [({"batch_size": 0}, "batch_size"), ({"batch_size": 1001}, "batch_size"),
                          ({"num_workers": 0}, "num_workers"), ({"worker_index": 2, "num_workers": 2}, "worker_index"),
                          ({"worker_index": "0"}, "worker_index")]:
        with pytest.raises(InvalidInput) as caught:
            iteration_batch(run, **fields)
        assert field in caught.value.details
    for cursor in ["nope", iteration_batch(other).cursor, "W10"]:
        with pytest.raises(InvalidCursor):
            iteration_batch(run, cursor=cursor)
    with pytest.raises(NotFound):
        iteration_get(uuid.uuid4())
    with pytest.raises(InvalidInput, match="iteration_id"):
        iteration_get("not-a-uuid")
    with pytest.raises(InvalidInput, match="allow_repetition"):
        iteration_start(_street_view(streets), allow_repetition="yes")


def test_iterations_go_with_their_dataview_and_expire(streets):
    view = _street_view(streets)
    run = iteration_start(view)
    assert DataviewItem.objects.filter(iteration_id=run.pk).count() == 60
    old = iteration_start(_street_view(streets))
    DataviewIteration.objects.filter(pk=old.pk).update(touched=old.touched.replace(year=2000))
    iterations_expire()
    assert not DataviewIteration.objects.filter(pk=old.pk).exists()
    assert not DataviewItem.objects.filter(iteration_id=old.pk).exists()
    dataview_delete(view)
    assert not DataviewItem.objects.filter(iteration_id=run.pk).exists()


def test_a_run_key_answers_the_run_started_with_it(streets):
    view = _street_view(streets, iteration={"order": "random"})
    first = iteration_start(view, key="epoch-0")
    assert first.started and first.key == "epoch-0"
    again = iteration_start(view, key="epoch-0", iteration={"order": "sequential"})  # as it was started
    assert not again.started and again.pk == first.pk and again.order == "random"
    assert _drain(again, 7) == _drain(first, 13)
    other = iteration_start(view, key="epoch-1")
    assert other.started and other.pk != first.pk
    assert iteration_start(view).key == "" and iteration_start(view).pk != iteration_start(view).pk
    assert DataviewIteration.objects.filter(dataview=view, key="epoch-0").count() == 1
    for bad in ("x" * 65, "tab\there", 7):
        with pytest.raises(InvalidInput) as caught:
            iteration_start(view, key=bad)
        assert "key" in caught.value.details


@pytest.mark.django_db(transaction=True)
def test_processes_racing_on_one_key_share_one_run(streets):
    """Workers that start the run of one key at the same moment: one snapshot, the same run for all."""
    import threading

    from django.db import connection

    view = _street_view(streets, iteration={"order": "random"})
    barrier, runs, errors = threading.Barrier(3), [], []

    def start():
        try:
            barrier.wait()
            runs.append(iteration_start(view, key="shared"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({run.pk for run in runs}) == 1 and sum(run.started for run in runs) == 1
    assert DataviewIteration.objects.filter(dataview=view, key="shared").count() == 1
    assert DataviewItem.objects.filter(iteration=runs[0]).count() == 60


def test_an_inline_recipe_is_counted_and_iterated_without_a_stored_dataview(streets, django_user_model):
    dataset, head, frames = streets
    user = django_user_model.objects.create_user(username="inline", password="x")
    recipe = {"versions": [{"dataset": str(dataset.pk), "version": str(head.pk)}],
              "filters": [{"dataset": str(dataset.pk), "version": str(head.pk), "frame_query": "meta.time:night"}]}
    assert dataview_counts(dataview_inline(recipe)).total == 6
    run = iteration_start_inline(recipe, user=user)
    assert run.dataview_id is None and run.created_by == user and run.total == 6
    first = iteration_batch(run, batch_size=4)
    assert cursor_iteration(first.cursor) == run
    rest = iteration_batch(run, cursor=first.cursor, batch_size=4)
    assert [f["id"] for f in first.frames + rest.frames] == [f["id"] for f in frames if f["meta"]["time"] == "night"]
    assert rest.eof and not first.eof
    with pytest.raises(InvalidInput):
        dataview_inline({**recipe, "stored": True})
    with pytest.raises(InvalidCursor):
        cursor_iteration("garbage")
