"""Reads of dataviews: one by id or by name, a project's list, counts, and the batches of an iteration."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import QuerySet

from dataviews import spec, streams
from dataviews.models import Dataview, DataviewIteration
from dataviews.output import FrameShaper, projected
from dataviews.rules import Counts, count_sql, counts_from_masks, recipe_rules, roi_choice_sql
from hyperdatasets.exceptions import InvalidCursor, InvalidInput, NotFound
from hyperdatasets.queries.sql import Sql
from hyperdatasets.selectors.datasets import named_without_project, parse_uuid
from hyperdatasets.selectors.frames import FRAME_TABLE, db_uuid, frame_output, load_json


def dataview_get(*, dataview_id: object = None, name: str | None = None, project_name: str | None = None,
                 queryset: QuerySet[Dataview] | None = None) -> Dataview:
    """By id, or by name (in a project; without one, the dataview outside any project, else the one dataview
    of that name in any project)."""
    dataviews = (queryset if queryset is not None else Dataview.objects.all()).select_related("project")
    if dataview_id is not None:
        try:
            return dataviews.get(pk=parse_uuid("dataview_id", dataview_id))
        except Dataview.DoesNotExist:
            raise NotFound(f"dataview {dataview_id} does not exist") from None
    if name is None:
        raise NotFound("give a dataview id or name")
    if project_name is not None:
        found = dataviews.filter(project__name=project_name, name=name).first()
        if found is None:
            raise NotFound(f"dataview {name!r} does not exist in project {project_name!r}")
        return found
    return named_without_project(dataviews, name, "dataview", "project_name")


def dataview_list(*, project=None, archived: bool | None = False) -> QuerySet[Dataview]:
    """A project's dataviews (all projects' with ``project`` None), by name; ``archived`` None for both."""
    dataviews = Dataview.objects.select_related("project")
    if project is not None:
        dataviews = dataviews.filter(project=project)
    if archived is not None:
        dataviews = dataviews.filter(archived=archived)
    return dataviews.order_by("name", "id")


# --- counts and iteration ------------------------------------------------------------------------------------


def dataview_counts(dataview: Dataview) -> Counts:
    """How many frames the dataview takes: in all (each (input version, frame) once), each rule on its own,
    and each rule's share in an iteration (a frame several rules take counts for the first)."""
    inputs = spec.inputs_from_stored(dataview.versions)
    rules = recipe_rules(dataview.filters, inputs)
    query = count_sql(inputs, rules)
    masks: list[tuple[int, int]] = []
    if query is not None:
        with transaction.atomic(), connection.cursor() as db:
            if connection.vendor == "postgresql":
                # The planner takes every frame's mask for a group of its own (it cannot know there are at
                # most 2^rules): told that passing rows between processes is cheap, it scans in parallel.
                db.execute("SET LOCAL parallel_tuple_cost = 0.01")
            db.execute(query.text, query.params)
            masks = db.fetchall()
    return counts_from_masks(masks, len(rules))


def iteration_get(iteration_id: object, queryset: QuerySet[DataviewIteration] | None = None) -> DataviewIteration:
    runs = (queryset if queryset is not None else DataviewIteration.objects.all()).select_related("dataview")
    try:
        return runs.get(pk=parse_uuid("iteration_id", iteration_id))
    except DataviewIteration.DoesNotExist:
        raise NotFound(f"iteration {iteration_id} does not exist (or expired)") from None


def iteration_plan(run: DataviewIteration) -> streams.Plan:
    return streams.Plan(run.order, tuple(run.sizes), tuple(float(w) for w in run.weights), run.random_seed,
                        run.repeat, run.length)


MAX_BATCH = 1000
MAX_WORKERS = 4096


@dataclass
class Batch:
    frames: list[dict[str, Any]]
    cursor: str
    eof: bool
    items: int  # stream items this batch holds (frame_per_roi may yield several frames per item)


def _cursor_encode(run: DataviewIteration, position: streams.Position, worker: int, workers: int) -> str:
    raw = orjson.dumps([str(run.pk), worker, workers, position.i, position.ks])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(run: DataviewIteration, cursor: str, rules: int) -> tuple[streams.Position, int, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        iteration, worker, workers, i, ks = orjson.loads(base64.urlsafe_b64decode(padded))
        if not (iteration == str(run.pk) and type(worker) is int and type(workers) is int
                and 0 <= worker < workers <= MAX_WORKERS and type(i) is int and 0 <= i < 2**62
                and isinstance(ks, list) and len(ks) == rules and all(type(k) is int and 0 <= k < 2**62 for k in ks)):
            raise ValueError
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidCursor("cursor: is not a position this iteration returned",
                            details={"cursor": ["is not a position this iteration returned"]}) from None
    return streams.Position(i, ks), worker, workers


def cursor_iteration(cursor: Any, queryset: QuerySet[DataviewIteration] | None = None) -> DataviewIteration:
    """The iteration a cursor (a batch's position) belongs to."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        iteration_id = orjson.loads(base64.urlsafe_b64decode(padded))[0]
        if not isinstance(iteration_id, str):
            raise ValueError
    except (ValueError, TypeError, IndexError, KeyError, orjson.JSONDecodeError):
        raise InvalidCursor("cursor: is not a position an iteration returned",
                            details={"cursor": ["is not a position an iteration returned"]}) from None
    return iteration_get(iteration_id, queryset)


def _workers(worker_index: Any, num_workers: Any) -> tuple[int, int]:
    if type(num_workers) is not int or not 1 <= num_workers <= MAX_WORKERS:
        raise InvalidInput.for_field("num_workers", f"must be an integer from 1 to {MAX_WORKERS}")
    if type(worker_index) is not int or not 0 <= worker_index < num_workers:
        raise InvalidInput.for_field("worker_index", "must be an integer from 0 to num_workers - 1")
    return worker_index, num_workers


def iteration_batch(run: DataviewIteration, *, cursor: str | None = None, batch_size: int = 500,
                    worker_index: int = 0, num_workers: int = 1, projection: Any = None) -> Batch:
    """The next ``batch_size`` items of worker ``worker_index``'s part of the iteration (after ``cursor``, a
    position an earlier batch returned; from the start without one), as frames (with ``projection``, only
    those fields: ``spec.clean_projection``), and the position after them. ``eof``: the part has no more
    items."""
    paths = spec.clean_projection(projection)
    if type(batch_size) is not int or not 1 <= batch_size <= MAX_BATCH:
        raise InvalidInput.for_field("batch_size", f"must be an integer from 1 to {MAX_BATCH}")
    plan = iteration_plan(run)
    if cursor is None:
        worker, workers = _workers(worker_index, num_workers)
        position = streams.start(plan)
    else:
        position, worker, workers = _cursor_decode(run, cursor, len(plan.sizes))
    items, after = streams.walk(plan, position, batch_size, worker, workers)
    frames = _item_frames(run, items) if items else []
    if paths:
        frames = [projected(frame, paths) for frame in frames]
    more, _ = streams.walk(plan, after, 1, worker, workers)
    return Batch(frames, _cursor_encode(run, after, worker, workers), not more, len(items))


def _item_frames(run: DataviewIteration, items: list[tuple[int, int, int]]) -> list[dict[str, Any]]:
    recipe = run.recipe
    inputs = spec.inputs_from_stored(recipe["versions"])
    stored_inputs = [(s["dataset"], s["version"]) for s in recipe["versions"]]
    pg = connection.vendor == "postgresql"
    rois = Sql("NULL", [])
    if recipe.get("output_rois", "all_in_frame") != "all_in_frame":
        rois = roi_choice_sql(recipe_rules(recipe["filters"], inputs), connection.vendor)
    # The matched ROIs read the document (parsed once per row on PostgreSQL, as the frame pages do).
    lateral = " CROSS JOIN LATERAL (SELECT e.document::jsonb AS d OFFSET 0) x" if pg and rois.text != "NULL" else ""
    sequential = run.order == "sequential"
    if sequential:
        keys = sorted({item[2] for item in items})
        where = Sql("i.seq = ANY(%s::bigint[])" if pg else f"i.seq IN ({', '.join(['%s'] * len(keys))})",
                    [keys] if pg else keys)
    else:
        by_rule: dict[int, list[int]] = {}
        for _i, rule, pos in items:
            by_rule.setdefault(rule, []).append(pos)
        parts = []
        for rule, positions in sorted(by_rule.items()):
            positions = sorted(set(positions))
            parts.append(Sql("(i.rule = %s AND i.rule_pos = ANY(%s::bigint[]))" if pg else
                             f"(i.rule = %s AND i.rule_pos IN ({', '.join(['%s'] * len(positions))}))",
                             [rule, positions] if pg else [rule, *positions]))
        where = Sql("(" + " OR ".join(p.text for p in parts) + ")", [x for p in parts for x in p.params])
    query = (f"SELECT i.seq, i.rule, i.rule_pos, i.input_index, e.frame_id, e.version_id, e.saved, e.document, "
             f"{rois.text} FROM dataviews_dataviewitem i JOIN {FRAME_TABLE} e ON e.id = i.frame_row{lateral} "
             f"WHERE i.iteration_id = %s AND {where.text}")
    with connection.cursor() as db:
        db.execute(query, [*rois.params, db_uuid(run.pk), *where.params])
        rows = db.fetchall()
    found = {(row[0] if sequential else (row[1], row[2])): row for row in rows}
    shaper = FrameShaper(recipe)
    frames: list[dict[str, Any]] = []
    for _i, rule, key in items:
        row = found.get(key if sequential else (rule, key))
        if row is None:
            continue  # its frame row is gone: a Draft input changed since the iteration started
        dataset_id, version_id = stored_inputs[row[3]]
        indexes = load_json(row[8]) if row[8] is not None else None
        frames += shaper.frames(frame_output(row[7], row[6], row[5], row[4]), rule=row[1], dataset_id=dataset_id,
                                version_id=version_id, roi_indexes=indexes)
    return frames
