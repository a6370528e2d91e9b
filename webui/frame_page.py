"""A frame: its image with ROIs drawn over it, masks coloured by the version's mask-label mapping, a source
switcher and an all-sources grid for frame groups, metadata, and previous / next."""

from __future__ import annotations

import json
import math

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from annotations.editor import editor_context
from annotations.rois import POLY_PART_SEPARATOR
from hyperdatasets.selectors.frame_pages import cursor_encode, frames_page
from hyperdatasets.selectors.frames import frame_with_revision
from hyperdatasets.storage.serving import FileLinks
from webui.lookups import visible_version_or_404
from webui.version_page import MASK_PALETTE, mask_legend


def _colour(label: str) -> str:
    return MASK_PALETTE[sum(map(ord, label)) % len(MASK_PALETTE)]


def roi_shapes(roi: dict) -> dict:
    """SVG pieces for one ROI: polygons (one per part), points, or an ellipse, and where to put its label."""
    poly, kind = roi["poly"], roi["meta"].get("_type")
    label = ", ".join(roi["label"]) or "(no label)"
    shape = {"label": label, "colour": _colour(label), "kind": kind or "p2d", "polygons": [], "points": [],
             "ellipse": None, "anchor": None}
    if kind == "elp" and len(poly) == 5:
        cx, cy, rx, ry, theta = poly
        shape["ellipse"] = {"cx": cx, "cy": cy, "rx": rx, "ry": ry, "deg": math.degrees(theta)}
        shape["anchor"] = (cx - rx, cy - ry - 4)
    elif kind == "k2d":
        shape["points"] = [(poly[i], poly[i + 1]) for i in range(0, len(poly) - 1, 2)]
    elif poly and kind not in ("p3d", "k3d", "b3d"):
        part: list[float] = []
        for number in [*poly, POLY_PART_SEPARATOR]:
            if number == POLY_PART_SEPARATOR:
                if part:
                    shape["polygons"].append(" ".join(f"{part[i]},{part[i + 1]}" for i in range(0, len(part) - 1, 2)))
                part = []
            else:
                part.append(number)
    if shape["anchor"] is None and len(poly) >= 2 and kind not in ("elp",):
        shape["anchor"] = (poly[0], poly[1] - 4)
    return shape


def _source_view(source: dict, rois: list[dict], links: FileLinks) -> dict:
    own = [r for r in rois if source["id"] in r.get("sources", [source["id"]])]
    drawn = [roi_shapes(r) for r in own if r["poly"]]
    return {
        "id": source["id"], "url": links.url(source["uri"]), "uri": source["uri"],
        "width": source.get("width") or 0, "height": source.get("height") or 0, "shapes": drawn,
        "masks": [{"id": m["id"], "url": links.url(m["uri"])} for m in source.get("masks", [])],
    }


@login_required
def frame_detail(request: HttpRequest, version_id, frame_id: str) -> HttpResponse:
    version = visible_version_or_404(request, version_id)
    found = frame_with_revision(version, frame_id)
    if found is None:
        raise Http404("frame not found")
    frame, revision = found
    if "unreadable" in frame:  # a row stored before a rule that now refuses its content
        return render(request, "webui/frame_unreadable.html", {"version": version, "dataset": version.dataset,
                                                                "frame": frame})
    key = cursor_encode(frame["context_id"], frame["timestamp"], frame["id"])
    following = frames_page(version, cursor=key, limit=1).frames
    preceding = frames_page(version, cursor=key, limit=1, backward=True).frames
    links = FileLinks(request.user, version.dataset)
    sources = [_source_view(s, frame["rois"], links) for s in frame["sources"]]
    chosen = next((s for s in sources if s["id"] == request.GET.get("source")), sources[0])
    legend = mask_legend(version)
    return render(request, "webui/frame_detail.html", {
        "version": version, "dataset": version.dataset, "frame": frame, "sources": sources, "source": chosen,
        "frame_labels": [r for r in frame["rois"] if not r["poly"] and "mask" not in r],
        "legend": legend,
        **editor_context(request.user, version, frame, revision, chosen, MASK_PALETTE, legend),
        "metadata": json.dumps(frame.get("meta", {}), indent=2),
        "previous": preceding[0]["id"] if preceding else None, "next": following[0]["id"] if following else None,
    })
