"""CVAT for images 1.1 XML, both ways (docs/formats.md has the mapping).

One XML file (alone, or in a zip archive): ``<annotations>`` with ``<meta>`` (the task's labels) and an
``<image id name width height [subset]>`` per image holding ``box``, ``polygon``, ``polyline``, ``points``,
``ellipse`` and ``tag`` elements, each with a ``label``, ``occluded``, ``z_order``, ``group_id`` and
``<attribute name>`` children. Parsed with ``defusedxml``.
"""

from __future__ import annotations

import math
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import numpy as np
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from annotations.rois import POLY_PART_SEPARATOR
from formats.bundle import Bundle
from formats.coco import PENDING_MASK, FormatError, Imported, Report, own_meta
from formats.rle import binary_rle, roi_binary
from hyperdatasets.upload_paths import safe_upload_path

FORMAT = "cvat"
ANNOTATIONS_FILE = "annotations.xml"
SHAPES = ("box", "polygon", "polyline", "points", "ellipse", "tag", "mask")


def _mask_binary(where: str, node, at: str, width: int | None, height: int | None) -> np.ndarray:
    """A CVAT mask: ``rle`` (run lengths, starting with a background run, row by row over the box ``left top
    width height``) as the image's binary mask."""
    box = [_float(where, node, key, at) for key in ("left", "top", "width", "height")]
    if not all(v >= 0 and v == int(v) for v in box):
        raise FormatError(where, f"{at}/@left", "left, top, width and height must be whole pixels")
    left, top, box_w, box_h = (int(v) for v in box)
    try:
        runs = [int(v) for v in (node.get("rle") or "").replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise FormatError(where, f"{at}/@rle", "must be comma-separated run lengths") from None
    if any(v < 0 for v in runs) or sum(runs) != box_w * box_h:
        raise FormatError(where, f"{at}/@rle", f"run lengths must add up to width x height ({box_w * box_h})")
    if width is None or height is None or left + box_w > width or top + box_h > height:
        raise FormatError(where, at, "needs the image's width and height, and must lie inside the image")
    flat = np.zeros(box_w * box_h, bool)
    position = 0
    for index, run in enumerate(runs):
        if index % 2:
            flat[position:position + run] = True
        position += run
    binary = np.zeros((height, width), bool)
    binary[top:top + box_h, left:left + box_w] = flat.reshape(box_h, box_w)
    return binary


def _mask_attributes(binary: np.ndarray) -> dict[str, str] | None:
    """CVAT's mask attributes (``rle left top width height``) of a binary mask, or None when it is empty."""
    rows, cols = np.nonzero(binary)
    if not len(rows):
        return None
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    flat = binary[top:bottom + 1, left:right + 1].flatten()
    runs, current, run = [], False, 0
    for pixel in flat:
        if pixel != current:
            runs.append(run)
            current, run = pixel, 0
        run += 1
    runs.append(run)
    return {"rle": ", ".join(str(v) for v in runs), "left": str(left), "top": str(top),
            "width": str(right - left + 1), "height": str(bottom - top + 1)}


def _float(where: str, node, key: str, at: str) -> float:
    try:
        value = float(node.get(key))
    except (TypeError, ValueError):
        raise FormatError(where, f"{at}/@{key}", "must be a number") from None
    if not math.isfinite(value):
        raise FormatError(where, f"{at}/@{key}", "must be a finite number")
    return value


def _points(where: str, node, at: str) -> list[float]:
    raw = node.get("points") or ""
    try:
        pairs = [pair.split(",") for pair in raw.split(";") if pair.strip()]
        values = [float(v) for pair in pairs for v in pair]
    except ValueError:
        raise FormatError(where, f"{at}/@points", "must be 'x,y;x,y;...'") from None
    if any(len(pair) != 2 for pair in pairs) or not all(math.isfinite(v) for v in values):
        raise FormatError(where, f"{at}/@points", "must be 'x,y;x,y;...' of finite numbers")
    return values


def _member(bundle: Bundle) -> str:
    if not bundle.is_archive:
        return bundle.name
    found = [n for n in bundle.names() if n.endswith(".xml")]
    if len(found) != 1:
        raise FormatError(bundle.name, "archive", f"must hold one CVAT XML file, found {len(found)}")
    return found[0]


def cvat_read(bundle: Bundle, *, images_prefix: str) -> Imported:
    member = _member(bundle)
    where = bundle.where(member)
    try:
        root = ElementTree.fromstring(bundle.read(member))
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise FormatError(where, "xml", f"is not readable XML ({exc})") from None
    if root.tag != "annotations":
        raise FormatError(where, root.tag, "the root element must be <annotations> (CVAT for images 1.1)")
    labels: dict[str, int] = {}
    for label in root.findall("meta//labels/label"):
        name = (label.findtext("name") or "").strip()
        if name:
            labels.setdefault(name, len(labels))
    frames, count, seen = [], 0, set()
    for index, image in enumerate(root.iterfind("image")):
        path = f"image[{index}]"
        name = image.get("name")
        if not name:
            raise FormatError(where, f"{path}/@name", "is required")
        if name in seen:
            raise FormatError(where, f"{path}/@name", f"{name!r} is the file of two images")
        seen.add(name)
        source: dict[str, Any] = {"id": "default", "uri": images_prefix + name}
        for key in ("width", "height"):
            if image.get(key) is not None:
                value = _float(where, image, key, path)
                if value < 0 or value != int(value):
                    raise FormatError(where, f"{path}/@{key}", "must be a whole number of pixels")
                source[key] = int(value)
        cvat_meta: dict[str, Any] = {}
        if image.get("id") is not None:
            cvat_meta["id"] = image.get("id")
        if image.get("subset"):
            cvat_meta["subset"] = image.get("subset")
        rois = []
        for shape_index, node in enumerate(image):
            shape_where = f"{path}/{node.tag}[{shape_index}]"
            if node.tag not in SHAPES:
                continue
            label = node.get("label")
            if not label:
                raise FormatError(where, f"{shape_where}/@label", "is required")
            labels.setdefault(label, len(labels))
            meta: dict[str, Any] = {}
            attributes = {a.get("name"): a.text or "" for a in node.iterfind("attribute") if a.get("name")}
            if attributes:
                meta["attributes"] = attributes
            for key in ("occluded", "z_order", "group_id"):
                if node.get(key) not in (None, ""):
                    meta[key] = node.get(key)
            if node.tag == "box":
                x0, y0, x1, y1 = (_float(where, node, key, shape_where) for key in ("xtl", "ytl", "xbr", "ybr"))
                shape, poly = "b2d", [x0, y0, x1, y0, x1, y1, x0, y1]
            elif node.tag == "polygon":
                shape, poly = "p2d", _points(where, node, shape_where)
                if len(poly) < 6:
                    raise FormatError(where, f"{shape_where}/@points", "a polygon needs at least 3 points")
            elif node.tag in ("points", "polyline"):
                shape, poly = "k2d", _points(where, node, shape_where)
                if not poly:
                    raise FormatError(where, f"{shape_where}/@points", "needs at least one point")
                if node.tag == "polyline":
                    meta["shape"] = "polyline"
            elif node.tag == "ellipse":
                cx, cy, rx, ry = (_float(where, node, key, shape_where) for key in ("cx", "cy", "rx", "ry"))
                rotation = _float(where, node, "rotation", shape_where) if node.get("rotation") is not None else 0.0
                shape, poly = "elp", [cx, cy, rx, ry, math.radians(rotation)]
            elif node.tag == "mask":
                binary = _mask_binary(where, node, shape_where, source.get("width"), source.get("height"))
                shape, poly = "mask", []
            else:  # a tag: a frame label
                shape, poly = None, []
            roi: dict[str, Any] = {"label": [label], "poly": poly, "sources": ["default"],
                                   "meta": {"cvat": meta, **({"_type": shape} if shape else {})}}
            if shape == "mask":
                roi["meta"]["_id"] = f"cvat-{shape_index}"  # the mask image's id in the frame's source
                roi[PENDING_MASK] = {"rle": binary_rle(binary), "category": labels[label] + 1,
                                     "path": f"{shape_where}/@rle"}
            rois.append(roi)
            count += 1
        frames.append({"id": name, "sources": [source], "rois": rois, "meta": {"cvat": cvat_meta}})
    categories = [{"id": index, "name": name} for name, index in labels.items()]
    return Imported(frames, categories, count)


def _pairs(poly: list[float]) -> str:
    return ";".join(f"{_number(poly[k])},{_number(poly[k + 1])}" for k in range(0, len(poly) - 1, 2))


def _number(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class CvatWriter:
    def __init__(self, kept: list[dict[str, Any]] | None = None, mask_pixels=None) -> None:
        """``mask_pixels(uri)``: a mask image's pixels (RGB), or None when it cannot be read."""
        self.mask_pixels = mask_pixels
        self.labels: list[str] = [c["name"] for c in kept or [] if isinstance(c, dict) and isinstance(c.get("name"),
                                                                                                     str)]
        self.root = Element("annotations")
        SubElement(self.root, "version").text = "1.1"
        self.report = Report()
        self.images = self.annotations = 0
        self._elements: list[Element] = []
        self.subsets: dict[str, None] = {}
        self.image_members: list[tuple[str, str]] = []

    def _label(self, label: str) -> str:
        if label not in self.labels:
            self.labels.append(label)
        return label

    def add(self, frame: dict[str, Any]) -> None:
        source = self.report.first_source(frame)
        if source is None:
            return
        cvat_meta = own_meta(frame, "cvat")
        image = Element("image", {"id": str(self.images), "name": frame["id"],
                                  "width": str(source.get("width") or 0),
                                  "height": str(source.get("height") or 0)})
        subset = cvat_meta["subset"] if isinstance(cvat_meta.get("subset"), str) and cvat_meta["subset"] else "default"
        image.set("subset", subset)
        self.image_members.append((f"images/{subset}/{safe_upload_path(frame['id'])}", source.get("uri")))
        self.subsets.setdefault(subset, None)
        for roi in frame.get("rois") or []:
            roi_meta = roi.get("meta") or {}
            shape = roi_meta.get("_type")
            labels = roi.get("label") or []
            poly = roi.get("poly") or []
            if not labels:
                self.report.skipped["ROIs without a label"] += 1
                continue
            if len(labels) > 1:
                self.report.skipped["labels beyond a ROI's first"] += len(labels) - 1
            extra = roi_meta.get("cvat") if isinstance(roi_meta.get("cvat"), dict) else {}
            attrs = {"label": self._label(labels[0])}
            if not poly and shape in (None, ""):
                node = SubElement(image, "tag", attrs)
            elif shape == "b2d":
                xs, ys = poly[0::2], poly[1::2]
                node = SubElement(image, "box", {**attrs, "xtl": _number(min(xs)), "ytl": _number(min(ys)),
                                                 "xbr": _number(max(xs)), "ybr": _number(max(ys))})
            elif shape == "p2d":
                if POLY_PART_SEPARATOR in poly:
                    self.report.skipped["polygon parts beyond the first"] += 1
                    poly = poly[:poly.index(POLY_PART_SEPARATOR)]
                node = SubElement(image, "polygon", {**attrs, "points": _pairs(poly)})
            elif shape == "k2d":
                tag = "polyline" if extra.get("shape") == "polyline" else "points"
                node = SubElement(image, tag, {**attrs, "points": _pairs(poly)})
            elif shape == "elp":
                cx, cy, rx, ry, theta = poly
                node = SubElement(image, "ellipse", {**attrs, "cx": _number(cx), "cy": _number(cy), "rx": _number(rx),
                                                     "ry": _number(ry), "rotation": _number(math.degrees(theta))})
            elif shape == "mask":
                binary = roi_binary(self.mask_pixels, roi, source)
                found = _mask_attributes(binary) if binary is not None else None
                if found is None:
                    self.report.skipped["mask ROIs whose image cannot be read"] += 1
                    continue
                node = SubElement(image, "mask", {**attrs, **found})
            else:
                self.report.skipped["3D shapes"] += 1
                continue
            if node.tag != "tag":
                node.set("occluded", str(extra.get("occluded", "0")))
            node.set("source", "manual")
            for key in ("z_order", "group_id"):
                if key in extra:
                    node.set(key, str(extra[key]))
            for name, value in (extra.get("attributes") or {}).items():
                SubElement(node, "attribute", {"name": str(name)}).text = str(value)
            self.annotations += 1
        self._elements.append(image)
        self.images += 1

    def finish(self) -> dict[str, bytes]:
        # A CVAT project's layout: every image names its subset, and the meta lists them (readers such as
        # Datumaro's take a task's file as one subset, named after the file).
        meta = SubElement(self.root, "meta")
        project = SubElement(meta, "project")
        SubElement(project, "name").text = "hyperdatasets"
        labels = SubElement(project, "labels")
        for name in self.labels:
            label = SubElement(labels, "label")
            SubElement(label, "name").text = name
            SubElement(label, "attributes")
        tasks = SubElement(project, "tasks")
        for subset in self.subsets:
            task = SubElement(tasks, "task")
            SubElement(task, "name").text = subset
            SubElement(task, "subset").text = subset
        for image in self._elements:
            self.root.append(image)
        folders = {f"images/{subset}/": b"" for subset in self.subsets}
        return {ANNOTATIONS_FILE: tostring(self.root, encoding="utf-8", xml_declaration=True), **folders}
