"""A version: its frames as a thumbnail grid (keyset "load more"), filters, label statistics, metadata,
mask-label mapping and a diff against another version of the dataset."""

from __future__ import annotations

import json
from itertools import islice

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotations.mask_labels import MASK_LABELS_KEY
from hyperdatasets.access import visible_versions
from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.queries.fields import MetaSchema, frame_schema
from hyperdatasets.queries.ordering import ORDERS
from hyperdatasets.queries.selection import selection_from
from hyperdatasets.selectors.datasets import parse_uuid
from hyperdatasets.selectors.frame_pages import frames_page, frames_query_count
from hyperdatasets.selectors.frames import frames_get, version_label_stats, versions_diff
from hyperdatasets.selectors.versions import version_list
from hyperdatasets.storage.serving import FileLinks
from webui.annotation_pages import page_context as annotation_page_context
from webui.lookups import visible_version_or_404

PAGE_SIZE = 48
DIFF_SHOWN = 60
# Display colours for mask values, in mapping order (mask values themselves are often near-black).
MASK_PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
                "#fabed4", "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3", "#808000", "#000075"]


def mask_legend(version) -> list[dict]:
    entries = (version.metadata.get(MASK_LABELS_KEY) or {}).get("_all_", [])
    return [{"value": e["value"], "labels": e["labels"], "colour": MASK_PALETTE[i % len(MASK_PALETTE)]}
            for i, e in enumerate(entries)]


def thumbnail(frame: dict, version_id, links: FileLinks) -> dict:
    source = frame["sources"][0] if frame["sources"] else {"uri": None}
    shown = (source.get("preview") or {}).get("uri") or source["uri"]
    labels = sorted({label for roi in frame["rois"] for label in roi["label"]})
    return {"id": frame["id"], "url": links.url(shown), "labels": labels, "sources": len(frame["sources"]),
            "context_id": frame["context_id"], "version_id": version_id}


def _diff(version, other, links: FileLinks) -> dict:
    changes = {"added": [], "removed": [], "modified": []}
    counts = {"added": 0, "removed": 0, "modified": 0}
    for change, fid in versions_diff(version, other):
        counts[change] += 1
        if len(changes[change]) < DIFF_SHOWN:
            changes[change].append(fid)
    shown = {}
    for change, ids in changes.items():
        holder = version if change == "removed" else other
        found = frames_get(holder, ids)
        shown[change] = [thumbnail(found[i], holder.pk, links) for i in ids if i in found]
    return {"other": other, "counts": counts, "shown": shown}


def _filter_groups(raw: str | None) -> list[dict]:
    """The filter panel's groups as the URL holds them (``filters``, JSON), or one empty group; the page
    draws them and the panel's script keeps them in the URL."""
    try:
        groups = json.loads(raw) if raw else None
    except ValueError:
        groups = None
    if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
        return [{}]
    return groups


@login_required
def version_detail(request: HttpRequest, version_id) -> HttpResponse:
    version = visible_version_or_404(request, version_id)
    params = request.GET
    filters = {"label": params.get("label") or None}
    if params.get("meta_key"):
        raw = params.get("meta_value", "")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        filters.update(meta_key=params["meta_key"], meta_value=value if isinstance(value, str | int | float | bool)
                       else raw)
    error, matched = None, None
    try:
        selection = selection_from([version.dataset_id], params)
        page = frames_page(version, cursor=params.get("cursor") or None, limit=PAGE_SIZE, selection=selection,
                           **filters)
        if selection is not None and selection.filters and not params.get("partial"):
            matched = frames_query_count(version, selection)
    except InvalidInput as exc:
        error, page = exc.message, None
    links = FileLinks(request.user, version.dataset)
    frames = [thumbnail(f, version.pk, links) for f in page.frames] if page else []
    context = {"version": version, "dataset": version.dataset, "frames": frames,
               "next_cursor": page.next_cursor if page else None, "error": error, "filters": params,
               "matched": matched}
    if params.get("partial"):
        return render(request, "webui/_frame_grid.html", context)
    stats = version_label_stats(version)
    top = max(stats["labels"].values(), default=1)
    schema = frame_schema(MetaSchema.of([version.dataset_id]))
    context.update(
        schema=schema, filter_groups=_filter_groups(params.get("filters")),
        orders=[o for o in ORDERS if o != "meta.<key>"] + [m["path"] for m in schema["meta"]
                                                           if m["type"] in ("string", "number", "boolean")],
        stats=stats, label_bars=[{"label": k, "count": v, "width": round(100 * v / top)}
                                 for k, v in islice(stats["labels"].items(), 20)],
        metadata=json.dumps({k: v for k, v in version.metadata.items() if k != MASK_LABELS_KEY}, indent=2),
        mask_legend=mask_legend(version),
        others=[v for v in version_list(version.dataset) if v.pk != version.pk],
        **annotation_page_context(request, version),
    )
    compare = params.get("compare")
    if compare:
        try:
            other = visible_versions(request.user).filter(pk=parse_uuid("compare", compare),
                                                          dataset=version.dataset).first()
        except InvalidInput:
            other = None
        if other is None:
            context["error"] = "the version to compare with was not found in this dataset"
        else:
            context["diff"] = _diff(version, other, links)
    return render(request, "webui/version_detail.html", context)
