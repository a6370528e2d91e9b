"""Datumaro's own format (``annotations/<subset>.json``, format version 1.0), both ways (docs/formats.md has the
mapping). Files are read as JSON with ``orjson``; Datumaro itself is not needed at run time."""

from __future__ import annotations

import math
import posixpath
from typing import Any

import orjson

from annotations.rois import POLY_PART_SEPARATOR
from formats import coco
from formats.bundle import Bundle
from formats.coco import FormatError, Imported, Report, own_meta
from formats.rle import binary_rle, roi_binary
from hyperdatasets.upload_paths import safe_upload_path

FORMAT = "datumaro"
KEPT = ("id", "group", "z_order")


def _numbers(where: str, path: str, value: Any, multiple: int, least: int) -> list[float]:
    if (not isinstance(value, list) or len(value) < least or len(value) % multiple
            or not all(type(v) in (int, float) and math.isfinite(v) for v in value)):
        raise FormatError(where, path, f"must be a list of numbers, a multiple of {multiple}, at least {least}")
    return list(value)


def datumaro_read(bundle: Bundle, *, images_prefix: str) -> Imported:
    members = [n for n in bundle.names() if n.endswith(".json")] if bundle.is_archive else [bundle.name]
    if bundle.is_archive:
        members = [n for n in members if n.startswith("annotations/")] or members
    if not members:
        raise FormatError(bundle.name, "archive", "holds no annotations/<subset>.json")
    frames: list[dict[str, Any]] = []
    labels: dict[str, int] = {}
    count = 0
    seen: set[str] = set()
    for member in members:
        where = bundle.where(member)
        try:
            data = orjson.loads(bundle.read(member))
        except orjson.JSONDecodeError as exc:
            raise FormatError(where, f"line {exc.lineno}, column {exc.colno}", f"is not JSON ({exc.msg})") from None
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise FormatError(where, "$.items", "must be a list (a Datumaro annotations file)")
        names = [(c.get("name") if isinstance(c, dict) else None)
                 for c in ((data.get("categories") or {}).get("label") or {}).get("labels") or []]
        for index, name in enumerate(names):
            if not isinstance(name, str) or not name.strip():
                raise FormatError(where, f"$.categories.label.labels[{index}].name", "must be a non-empty string")
            labels.setdefault(name, len(labels))
        subset = posixpath.splitext(posixpath.basename(member))[0]
        for i, item in enumerate(data["items"]):
            path = f"$.items[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
                raise FormatError(where, f"{path}.id", "must be a non-empty string")
            frame_id = item["id"] if subset == "default" else f"{subset}/{item['id']}"
            if frame_id in seen:
                raise FormatError(where, f"{path}.id", f"{item['id']!r} is given twice in subset {subset!r}")
            seen.add(frame_id)
            image = item.get("image") if isinstance(item.get("image"), dict) else {}
            file_path = image.get("path") if isinstance(image.get("path"), str) and image.get("path") else \
                f"{item['id']}.jpg"
            source: dict[str, Any] = {"id": "default", "uri": images_prefix + f"{subset}/{file_path}"}
            size = image.get("size")
            if size is not None:
                if not (isinstance(size, list) and len(size) == 2 and all(type(v) is int and v >= 0 for v in size)):
                    raise FormatError(where, f"{path}.image.size", "must be [height, width] in whole pixels")
                source["height"], source["width"] = size
            meta: dict[str, Any] = {"subset": subset, "id": item["id"], "path": file_path}
            if isinstance(item.get("attr"), dict) and item["attr"]:
                meta["attr"] = item["attr"]
            rois = []
            for k, ann in enumerate(item.get("annotations") or []):
                at = f"{path}.annotations[{k}]"
                if not isinstance(ann, dict):
                    raise FormatError(where, at, "must be an object")
                kind = ann.get("type")
                label_id = ann.get("label_id")
                if type(label_id) is not int or not 0 <= label_id < len(names):
                    raise FormatError(where, f"{at}.label_id", f"must be the index of one of the {len(names)} labels")
                extra: dict[str, Any] = {key: ann[key] for key in KEPT if ann.get(key) not in (None, 0)}
                if isinstance(ann.get("attributes"), dict) and ann["attributes"]:
                    extra["attributes"] = ann["attributes"]
                if kind == "bbox":
                    x, y, w, h = _numbers(where, f"{at}.bbox", ann.get("bbox"), 4, 4)
                    shape, poly = "b2d", [x, y, x + w, y, x + w, y + h, x, y + h]
                elif kind == "polygon":
                    shape, poly = "p2d", _numbers(where, f"{at}.points", ann.get("points"), 2, 6)
                elif kind in ("points", "polyline"):
                    shape, poly = "k2d", _numbers(where, f"{at}.points", ann.get("points"), 2, 2)
                    if kind == "points" and isinstance(ann.get("visibility"), list):
                        extra["visibility"] = ann["visibility"]
                    if kind == "polyline":
                        extra["shape"] = "polyline"
                elif kind == "ellipse":
                    x0, y0, x1, y1 = _numbers(where, f"{at}.points", ann.get("points"), 4, 4)
                    shape, poly = "elp", [(x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2, 0.0]
                elif kind == "label":
                    shape, poly = None, []
                elif kind == "mask":
                    rle = ann.get("rle")
                    if not isinstance(rle, dict):
                        raise FormatError(where, f"{at}.rle", "must be an object {counts, size}")
                    shape, poly = "mask", []
                    extra["_pending"] = {"rle": coco.check_rle(where, rle, f"{at}.rle"), "category": label_id + 1,
                                         "path": f"{at}.rle"}
                else:
                    raise FormatError(where, f"{at}.type", "must be bbox, polygon, points, polyline, ellipse or label")
                pending = extra.pop("_pending", None)
                roi = {"label": [names[label_id]], "poly": poly, "sources": ["default"],
                       "meta": {"datumaro": extra, **({"_type": shape} if shape else {})}}
                if pending is not None:
                    roi["meta"]["_id"] = f"datumaro-{k}"  # the mask image's id in the frame's source
                    roi[coco.PENDING_MASK] = pending
                rois.append(roi)
                count += 1
            frames.append({"id": frame_id, "sources": [source], "rois": rois, "meta": {"datumaro": meta}})
    categories = [{"id": index, "name": name} for name, index in labels.items()]
    return Imported(frames, categories, count)


class DatumaroWriter:
    def __init__(self, kept: list[dict[str, Any]] | None = None, mask_pixels=None) -> None:
        """``mask_pixels(uri)``: a mask image's pixels (RGB), or None when it cannot be read."""
        self.mask_pixels = mask_pixels
        self.labels: list[str] = [c["name"] for c in kept or [] if isinstance(c, dict) and isinstance(c.get("name"),
                                                                                                     str)]
        self.items: dict[str, list[dict[str, Any]]] = {}
        self.report = Report()
        self.images = self.annotations = 0
        self.image_members: list[tuple[str, str]] = []

    def _label(self, label: str) -> int:
        if label not in self.labels:
            self.labels.append(label)
        return self.labels.index(label)

    def add(self, frame: dict[str, Any]) -> None:
        source = self.report.first_source(frame)
        if source is None:
            return
        own = own_meta(frame, "datumaro")
        subset = own.get("subset") if isinstance(own.get("subset"), str) and own["subset"] else "default"
        item_id = own.get("id") if isinstance(own.get("id"), str) else frame["id"]
        file_path = own.get("path") if isinstance(own.get("path"), str) else posixpath.basename(source["uri"])
        annotations = []
        for roi in frame.get("rois") or []:
            roi_meta = roi.get("meta") or {}
            shape, labels, poly = roi_meta.get("_type"), roi.get("label") or [], roi.get("poly") or []
            if not labels:
                self.report.skipped["ROIs without a label"] += 1
                continue
            if len(labels) > 1:
                self.report.skipped["labels beyond a ROI's first"] += len(labels) - 1
            extra = roi_meta.get("datumaro") if isinstance(roi_meta.get("datumaro"), dict) else {}
            ann: dict[str, Any] = {"id": extra.get("id", 0), "attributes": extra.get("attributes") or {},
                                   "group": extra.get("group", 0), "label_id": self._label(labels[0])}
            if not poly and not shape:
                ann["type"] = "label"
            elif shape == "b2d":
                xs, ys = poly[0::2], poly[1::2]
                ann.update(type="bbox", bbox=[min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)])
            elif shape == "p2d":
                if POLY_PART_SEPARATOR in poly:
                    self.report.skipped["polygon parts beyond the first"] += 1
                    poly = poly[:poly.index(POLY_PART_SEPARATOR)]
                ann.update(type="polygon", points=poly)
            elif shape == "k2d":
                if extra.get("shape") == "polyline":
                    ann.update(type="polyline", points=poly)
                else:
                    visibility = extra.get("visibility")
                    ann.update(type="points", points=poly, visibility=visibility if isinstance(visibility, list)
                               and len(visibility) * 2 == len(poly) else [2] * (len(poly) // 2))
            elif shape == "elp":
                cx, cy, rx, ry, theta = poly
                if theta:
                    self.report.skipped["ellipse rotations"] += 1
                ann.update(type="ellipse", points=[cx - rx, cy - ry, cx + rx, cy + ry])
            elif shape == "mask":
                binary = roi_binary(self.mask_pixels, roi, source)
                if binary is None:
                    self.report.skipped["mask ROIs whose image cannot be read"] += 1
                    continue
                ann.update(type="mask", rle=binary_rle(binary))
            else:
                self.report.skipped["3D shapes"] += 1
                continue
            if ann["type"] != "label":
                ann["z_order"] = extra.get("z_order", 0)
            annotations.append(ann)
            self.annotations += 1
        self.image_members.append((f"images/{subset}/{safe_upload_path(file_path)}", source.get("uri")))
        item = {"id": item_id, "annotations": annotations, "attr": own.get("attr") or {},
                "image": {"path": file_path}}
        if source.get("width") and source.get("height"):
            item["image"]["size"] = [source["height"], source["width"]]
        self.items.setdefault(subset, []).append(item)
        self.images += 1

    def finish(self) -> dict[str, bytes]:
        categories = {"label": {"labels": [{"name": name, "parent": "", "attributes": []} for name in self.labels],
                                "label_groups": [], "attributes": []}}
        files = {}
        for subset, items in sorted(self.items.items()):
            files[f"annotations/{subset}.json"] = orjson.dumps({"dm_format_version": "1.0", "media_type": 2,
                                                                "infos": {}, "categories": categories,
                                                                "items": items})
            files[f"images/{subset}/"] = b""
        return files
