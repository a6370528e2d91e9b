"""``frames.get_next_for_dataview`` / ``get_count_for_dataview`` (the dataview engine over the inline dataview
ClearML's client sends with every request) and ``dataviews.*`` (stored dataviews), on ``dataviews``' services
and selectors under the caller's rights.

Scrolls: the first request (no ``scroll_id``) starts a run over the inline recipe (``iteration_start_inline``:
its snapshot, counts and order); each answer's ``scroll_id`` is the position after its batch, so the client,
which sends back the last one it got, reads on from there. ``reset_scroll`` starts the scroll's run over from
its first item. A run belongs to the user who started it and expires a day after its last read. ``node`` is
taken and not used: the client shares frames among its workers itself.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from clearml_api.endpoints import Call, endpoint
from clearml_api.envelope import INVALID_FIELD, INVALID_ID, ApiError
from clearml_api.frames import frame_out
from clearml_api.handlers import _iso, _page, project_name_of
from clearml_api.ids import parse_id, wire_id
from clearml_api.names import filter_by_name
from dataviews import selectors, services, spec
from dataviews.access import require_dataview, require_inputs_readable, visible_dataviews
from dataviews.models import Dataview, DataviewIteration
from hyperdatasets.access import require_create_in_project, visible_datasets
from hyperdatasets.exceptions import NotFound

FILTER_KEYS = ("dataset", "version", "weight", "filter_by_roi", "label_rules", "frame_query", "sources_query")
LABEL_RULE_KEYS = ("label", "count_range", "conf_range", "must_not")


def _picked(value: Any, keys: tuple[str, ...] | set[str]) -> Any:
    """The known keys of an object (ClearML's client sends more, and nulls for unset ones); anything else is
    passed on for the recipe's rules to refuse."""
    return {k: v for k, v in value.items() if k in keys and v is not None} if isinstance(value, dict) else value


def _rule_in(rule: Any) -> Any:
    rule = _picked(rule, FILTER_KEYS)
    if isinstance(rule, dict) and isinstance(rule.get("label_rules"), list):
        rule["label_rules"] = [_picked(r, LABEL_RULE_KEYS) for r in rule["label_rules"]]
    return rule


def recipe_in(body: dict[str, Any]) -> dict[str, Any]:
    """A ClearML dataview (its ``versions``, ``filters``, ``mapping.rules``, ``labels_enumeration``,
    ``output_rois``, ``iteration``) as a recipe of ``dataviews.spec``; only the fields given."""
    recipe: dict[str, Any] = {}
    if body.get("versions") is not None:
        versions = body["versions"]
        recipe["versions"] = [_picked(v, ("dataset", "version")) for v in versions] \
            if isinstance(versions, list) else versions
    if body.get("filters") is not None:
        filters = body["filters"]
        recipe["filters"] = [_rule_in(rule) for rule in filters] if isinstance(filters, list) else filters
    if body.get("mapping") is not None:
        mapping = body["mapping"]
        if not isinstance(mapping, dict):
            raise ApiError(400, "mapping: must be an object {rules: [...]}", INVALID_FIELD)
        recipe["mapping"] = [_picked(rule, ("source", "target")) for rule in mapping.get("rules") or []]
    if body.get("labels_enumeration") is not None:
        recipe["labels_enumeration"] = body["labels_enumeration"]
    if body.get("output_rois") is not None:
        recipe["output_rois"] = body["output_rois"]
    if body.get("iteration") is not None:
        recipe["iteration"] = _picked(body["iteration"], spec.ITERATION_KEYS)
    return recipe


def _inline(call: Call) -> dict[str, Any]:
    body = call.required("dataview")
    if not isinstance(body, dict):
        raise ApiError(400, "dataview: must be an object (the dataview's definition)", INVALID_FIELD)
    return recipe_in(body)


def _rules_out(rule_counts: list[int]) -> list[dict[str, Any]]:
    return [{"name": f"rule_{index}", "rule_index": index, "count": count, "accurate": True, "reason": ""}
            for index, count in enumerate(rule_counts)]


@endpoint("frames.get_count_for_dataview")
def frames_get_count_for_dataview(call: Call) -> dict[str, Any]:
    dataview = services.dataview_inline(_inline(call), visible_datasets(call.user))
    counts = selectors.dataview_counts(dataview)
    return {"total": counts.total, "rules": _rules_out(counts.rule_counts)}


def _scroll_run(call: Call, scroll_id: Any) -> DataviewIteration:
    if not isinstance(scroll_id, str):
        raise ApiError(400, "scroll_id: must be a string a previous answer gave", INVALID_FIELD)
    own = DataviewIteration.objects.filter(dataview__isnull=True, created_by=call.user)
    try:
        run = selectors.cursor_iteration(scroll_id, own)
    except NotFound:
        raise ApiError(400, "scroll_id: no such scroll (it expired, or is another user's)", INVALID_ID) from None
    require_inputs_readable(call.user, run.recipe.get("versions", []))
    return run


@endpoint("frames.get_next_for_dataview")
def frames_get_next_for_dataview(call: Call) -> dict[str, Any]:
    scroll_id = call.get("scroll_id")
    batch_size = min(call.integer("batch_size", 500, 1, 2**31), selectors.MAX_BATCH)
    if scroll_id:
        run = _scroll_run(call, scroll_id)
        cursor = None if call.boolean("reset_scroll") else scroll_id
    else:
        run = services.iteration_start_inline(_inline(call), user=call.user, datasets=visible_datasets(call.user))
        cursor = None
    batch = selectors.iteration_batch(run, cursor=cursor, batch_size=batch_size, projection=call.get("projection"))
    services.iteration_touch(run)
    stats: Counter = Counter()
    for frame in batch.frames:
        for roi in frame.get("rois") or []:
            if isinstance(roi, dict):
                stats.update(set(roi.get("label") or []))
    return {"frames": [frame_out(frame) for frame in batch.frames], "frames_returned": len(batch.frames),
            "eof": batch.eof, "scroll_id": batch.cursor, "random_seed": run.random_seed, "roi_stats": dict(stats)}


# --- stored dataviews ----------------------------------------------------------------------------------------


def _ref_out(value: str) -> str:
    return value if value == spec.ANY else wire_id(value)


def dataview_out(dataview: Dataview) -> dict[str, Any]:
    filters = []
    for rule in dataview.filters:
        out = dict(rule)
        out["dataset"], out["version"] = _ref_out(rule["dataset"]), _ref_out(rule["version"])
        filters.append(out)
    mapping = [{"source": {**rule["source"], "dataset": _ref_out(rule["source"]["dataset"]),
                           "version": _ref_out(rule["source"]["version"])}, "target": rule["target"]}
               for rule in dataview.mapping]
    return {
        "id": wire_id(dataview.pk), "name": dataview.name, "description": dataview.description,
        "project": wire_id(dataview.project_id), "tags": list(dataview.tags or []),
        "system_tags": ["archived"] if dataview.archived else [],
        "versions": [{"dataset": wire_id(v["dataset"]), "version": wire_id(v["version"])} for v in dataview.versions],
        "filters": filters, "mapping": {"rules": mapping}, "labels_enumeration": dataview.labels_enumeration,
        "output_rois": dataview.output_rois, "iteration": dataview.iteration, "status": dataview.status,
        "created": _iso(dataview.created), "last_update": _iso(dataview.updated), "company": "",
        "user": str(dataview.created_by_id or ""),
    }


def _dataview_for(call: Call, action: str) -> Dataview:
    raw = call.required("dataview")
    dataview = Dataview.objects.select_related("project").filter(pk=parse_id("dataview", raw)).first()
    if dataview is None:
        raise ApiError(400, f"Invalid dataview id: id={raw}", INVALID_ID)
    require_dataview(call.user, dataview, action, raw)
    return dataview


@endpoint("dataviews.create")
def dataviews_create(call: Call) -> dict[str, Any]:
    project_name = project_name_of(call)
    require_create_in_project(call.user, project_name, "project.add_dataview")
    dataview = services.dataview_create(
        name=call.required("name"), project_name=project_name, description=call.get("description"),
        tags=call.strings("tags"), user=call.user, datasets=visible_datasets(call.user), **recipe_in(call.body))
    return {"id": wire_id(dataview.pk)}


@endpoint("dataviews.update")
def dataviews_update(call: Call) -> dict[str, Any]:
    dataview = _dataview_for(call, "dataview.change")
    fields = recipe_in(call.body)
    for key in ("name", "description"):
        if call.get(key) is not None:
            fields[key] = call.body[key]
    if call.strings("tags") is not None:
        fields["tags"] = call.strings("tags")
    updated = services.dataview_update(dataview, force=call.boolean("force"), datasets=visible_datasets(call.user),
                                       **fields)
    out = dataview_out(updated)
    return {"updated": 1, "fields": {key: out[key] for key in fields}}


@endpoint("dataviews.get_by_id")
def dataviews_get_by_id(call: Call) -> dict[str, Any]:
    return {"dataview": dataview_out(_dataview_for(call, "dataview.view"))}


@endpoint("dataviews.get_all")
def dataviews_get_all(call: Call) -> dict[str, Any]:
    dataviews = visible_dataviews(call.user).select_related("project").order_by("name", "id")
    ids = call.strings("id")
    if ids is not None:
        dataviews = dataviews.filter(pk__in=[parse_id("id", i) for i in ids])
    projects = call.strings("project")
    if projects is not None:
        dataviews = dataviews.filter(project__in=[parse_id("project", p) for p in projects])
    if "-archived" in (call.strings("system_tags") or []):
        dataviews = dataviews.filter(archived=False)
    dataviews = filter_by_name(dataviews, call.get("name"))
    only = call.strings("only_fields")
    rows = []
    for dataview in _page(call, dataviews):
        out = dataview_out(dataview)
        if only:
            tops = {field.split(".", 1)[0] for field in only} | {"id"}
            out = {key: value for key, value in out.items() if key in tops}
        rows.append(out)
    return {"dataviews": rows}
