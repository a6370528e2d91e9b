"""COCO object detection ("instances") files, both ways (docs/formats.md has the mapping).

Import: each image is a frame (id = ``file_name``, one source ``default`` at ``images_prefix + file_name``
with its width and height; the image's id and other fields in ``meta.coco``). Each annotation gives ROIs
sharing ``meta._id`` = ``coco-<annotation id>`` (how ClearML's client ties the shapes of one object): its
``bbox`` a ``b2d`` box, its polygon ``segmentation`` a ``p2d`` polygon (several parts joined by the
separator), its ``keypoints`` a ``k2d`` ROI (every point, visibilities in ``meta.coco.visibility``); each ROI
carries the category's name as its label, ``score`` as its confidence, and ``meta.coco`` the annotation's
``id``, ``iscrowd`` and ``area``. Categories (ids, supercategories, keypoint names, skeletons) are kept in the
version's metadata under ``coco``, so that an export gives them back.

Export groups a frame's ROIs by ``meta._id`` into annotations (a ROI without one is an annotation of its
own). What COCO cannot carry is counted in the report, never dropped silently: ellipses, 3D shapes, frame
labels, ROIs without a label, labels beyond the first, frames with several sources (their first is exported),
and mask ROIs (pixel masks are not exported in this step).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from annotations.rois import POLY_PART_SEPARATOR
from formats.rle import binary_rle, rle_area, rle_box, roi_binary
from hyperdatasets.exceptions import InvalidInput

FORMAT = "coco"
ID_PREFIX = "coco-"
IMAGE_FIELDS = ("license", "coco_url", "flickr_url", "date_captured")
DEFAULT_SUBSET = "default"


class FormatError(InvalidInput):
    """A file that is not what its format says: the file, the JSON path and the rule."""

    def __init__(self, file: str, path: str, rule: str) -> None:
        super().__init__(f"{file}: {path}: {rule}", details={file: [f"{path}: {rule}"]})
        self.file, self.path, self.rule = file, path, rule


@dataclass
class Imported:
    frames: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    annotations: int = 0


@dataclass
class Report:
    """What an export could not carry, by kind: counts."""

    skipped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.skipped.items()))

    def first_source(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        """The source a format's single image is (counting the frames without one, and the others)."""
        sources = frame.get("sources") or []
        if not sources:
            self.skipped["frames without sources"] += 1
            return None
        if len(sources) > 1:
            self.skipped["sources beyond a frame's first"] += len(sources) - 1
        return sources[0]


def own_meta(holder: dict[str, Any], key: str) -> dict[str, Any]:
    """``holder["meta"][key]`` when both are objects, else {} (what a format kept of itself on import)."""
    meta = holder.get("meta") if isinstance(holder.get("meta"), dict) else {}
    return meta.get(key) if isinstance(meta.get(key), dict) else {}


# --- reading -------------------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, rule: str) -> FormatError:
        return FormatError(self.file, path, rule)

    def obj(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, "must be an object")
        return value

    def items(self, value: Any, path: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, "must be a list")
        return value

    def integer(self, value: Any, path: str, low: int = 0) -> int:
        if type(value) is not int or value < low:
            raise self.fail(path, f"must be an integer of at least {low}")
        return value

    def number(self, value: Any, path: str) -> float:
        if type(value) not in (int, float) or not math.isfinite(value):
            raise self.fail(path, "must be a finite number")
        return value

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "must be a non-empty string")
        return value

    def numbers(self, value: Any, path: str, multiple: int, least: int) -> list[float]:
        values = self.items(value, path)
        if len(values) < least or len(values) % multiple:
            raise self.fail(path, f"must hold a multiple of {multiple} numbers, at least {least}")
        return [self.number(v, f"{path}[{i}]") for i, v in enumerate(values)]


PENDING_MASK = "_coco_rle"  # a mask ROI's RLE, until the import renders it into a mask image (formats.masks)
PENDING_IMAGE = "_mask_image"  # a mask ROI's mask image as the file gave it, until the import stores it


def check_rle(file: str, value: dict, path: str) -> dict:
    """An RLE (``{size, counts}``) checked as COCO's are, errors naming ``file`` and ``path``."""
    return _rle(_Reader(file), value, path)


def _rle(read: _Reader, value: dict, path: str) -> dict:
    """An RLE segmentation, checked: ``size`` [height, width] and ``counts``, a list of run lengths that
    add up to height x width, or COCO's compressed string."""
    size = value.get("size")
    if not (isinstance(size, list) and len(size) == 2 and all(type(v) is int and 0 < v <= 100_000 for v in size)):
        raise read.fail(f"{path}.size", "must be [height, width], positive whole pixels")
    counts = value.get("counts")
    if isinstance(counts, list):
        if not all(type(v) is int and v >= 0 for v in counts) or sum(counts) != size[0] * size[1]:
            raise read.fail(f"{path}.counts", f"run lengths must be whole numbers adding up to {size[0] * size[1]}")
    elif not isinstance(counts, str) or not counts or not counts.isascii():
        raise read.fail(f"{path}.counts", "must be a list of run lengths or COCO's compressed string")
    return {"size": size, "counts": counts}


def _box(x: float, y: float, w: float, h: float) -> list[float]:
    return [x, y, x + w, y, x + w, y + h, x, y + h]


def coco_read(data: Any, *, images_prefix: str, file: str = "annotations.json", subset: str | None = None
              ) -> Imported:
    """The frames of a COCO file (parsed JSON); every error names the file, the JSON path and the rule. With a
    ``subset`` (one of several ``instances_<subset>.json`` files), its images are ``<subset>/<file_name>``."""
    read = _Reader(file)
    root = read.obj(data, "$")
    categories: dict[int, dict[str, Any]] = {}
    for i, raw in enumerate(read.items(root.get("categories"), "$.categories")):
        path = f"$.categories[{i}]"
        category = read.obj(raw, path)
        category_id = read.integer(category.get("id"), f"{path}.id")
        if category_id in categories:
            raise read.fail(f"{path}.id", f"category {category_id} is given twice")
        kept = {"id": category_id, "name": read.text(category.get("name"), f"{path}.name")}
        if category.get("supercategory") is not None:  # may be empty (Datumaro writes "")
            if not isinstance(category["supercategory"], str):
                raise read.fail(f"{path}.supercategory", "must be a string")
            kept["supercategory"] = category["supercategory"]
        for key in ("keypoints", "skeleton"):
            if category.get(key) is not None:
                kept[key] = read.items(category[key], f"{path}.{key}")
        categories[category_id] = kept

    frames: dict[int, dict[str, Any]] = {}
    names: set[str] = set()
    for i, raw in enumerate(read.items(root.get("images"), "$.images")):
        path = f"$.images[{i}]"
        image = read.obj(raw, path)
        image_id = read.integer(image.get("id"), f"{path}.id")
        if image_id in frames:
            raise read.fail(f"{path}.id", f"image {image_id} is given twice")
        name = read.text(image.get("file_name"), f"{path}.file_name")
        if name in names:
            raise read.fail(f"{path}.file_name", f"{name!r} is the file of two images")
        names.add(name)
        image_path = f"{subset}/{name}" if subset else name
        source: dict[str, Any] = {"id": "default", "uri": images_prefix + image_path}
        for key in ("width", "height"):
            if image.get(key) is not None:
                source[key] = read.integer(image[key], f"{path}.{key}")
        coco = {"image_id": image_id, **{key: image[key] for key in IMAGE_FIELDS if image.get(key) is not None}}
        if subset:
            coco["subset"] = subset
        frames[image_id] = {"id": image_path, "sources": [source], "rois": [], "meta": {"coco": coco}}

    count = 0
    for i, raw in enumerate(read.items(root.get("annotations"), "$.annotations")):
        path = f"$.annotations[{i}]"
        ann = read.obj(raw, path)
        ann_id = read.integer(ann.get("id"), f"{path}.id")
        image_id = read.integer(ann.get("image_id"), f"{path}.image_id")
        if image_id not in frames:
            raise read.fail(f"{path}.image_id", f"no image has id {image_id}")
        category_id = read.integer(ann.get("category_id"), f"{path}.category_id")
        if category_id not in categories:
            raise read.fail(f"{path}.category_id", f"no category has id {category_id}")
        iscrowd = ann.get("iscrowd", 0)
        if iscrowd not in (0, 1) or type(iscrowd) is bool:
            raise read.fail(f"{path}.iscrowd", "must be 0 or 1")
        coco: dict[str, Any] = {"id": ann_id, "iscrowd": iscrowd}
        if ann.get("area") is not None:
            coco["area"] = read.number(ann["area"], f"{path}.area")
        base: dict[str, Any] = {"label": [categories[category_id]["name"]]}
        if ann.get("score") is not None:
            score = read.number(ann["score"], f"{path}.score")
            if not 0 <= score <= 1:
                raise read.fail(f"{path}.score", "must be from 0 to 1")
            base["confidence"] = score
        rois = []
        if ann.get("bbox") is not None:
            x, y, w, h = read.numbers(ann["bbox"], f"{path}.bbox", 4, 4)
            if len(ann["bbox"]) != 4 or w < 0 or h < 0:
                raise read.fail(f"{path}.bbox", "must be [x, y, width, height] with width and height >= 0")
            rois.append(("b2d", _box(x, y, w, h), {}))
        segmentation = ann.get("segmentation")
        rle = None
        if isinstance(segmentation, dict):
            rle = _rle(read, segmentation, f"{path}.segmentation")
        elif segmentation:
            parts = [read.numbers(part, f"{path}.segmentation[{k}]", 2, 6)
                     for k, part in enumerate(read.items(segmentation, f"{path}.segmentation"))]
            poly: list[float] = []
            for k, part in enumerate(parts):
                poly += ([POLY_PART_SEPARATOR] if k else []) + part
            rois.append(("p2d", poly, {}))
        if ann.get("keypoints"):
            triples = read.numbers(ann["keypoints"], f"{path}.keypoints", 3, 3)
            points = [v for k in range(0, len(triples), 3) for v in triples[k:k + 2]]
            visibility = [int(v) for v in triples[2::3]]
            if any(v not in (0, 1, 2) for v in triples[2::3]):
                raise read.fail(f"{path}.keypoints", "every third number (visibility) must be 0, 1 or 2")
            rois.append(("k2d", points, {"visibility": visibility}))
        if rle is not None:
            rois.append(("mask", [], {}))
        if not rois:
            raise read.fail(path, "has no bbox, segmentation or keypoints")
        for shape, poly, extra in rois:
            roi = {**base, "poly": poly, "sources": ["default"], "meta": {
                "_type": shape, "_id": f"{ID_PREFIX}{ann_id}", "coco": {**coco, **extra}}}
            if shape == "mask":
                roi[PENDING_MASK] = {"rle": rle, "category": category_id, "path": f"{path}.segmentation"}
            frames[image_id]["rois"].append(roi)
        count += 1
    return Imported(list(frames.values()), sorted(categories.values(), key=lambda c: c["id"]), count)


SUBSET_FILE = re.compile(r"^(?:.*/)?instances_(?P<subset>[^/]+)\.json$")


def coco_read_bundle(bundle, *, images_prefix: str) -> Imported:
    """A COCO file as uploaded: the JSON itself, or an archive of one JSON file, or of several
    ``annotations/instances_<subset>.json`` (Datumaro's and CVAT's layout: each a subset whose images are
    under ``images/<subset>/``)."""
    members = [bundle.name]
    if bundle.is_archive:
        members = [n for n in bundle.names() if n.endswith(".json")]
        if len(members) > 1:
            members = [n for n in members if SUBSET_FILE.match(n)]
        if not members:
            raise FormatError(bundle.name, "archive", "holds no COCO JSON file (annotations/instances_<subset>.json)")
    merged = Imported([], [], 0)
    categories: dict[int, dict[str, Any]] = {}
    for member in members:
        where = bundle.where(member)
        try:
            data = orjson.loads(bundle.read(member))
        except orjson.JSONDecodeError as exc:
            raise FormatError(where, f"line {exc.lineno}, column {exc.colno}", f"is not JSON ({exc.msg})") from None
        found = SUBSET_FILE.match(member) if len(members) > 1 else None
        subset = found.group("subset") if found else None
        part = coco_read(data, images_prefix=images_prefix, file=where,
                         subset=subset if subset != DEFAULT_SUBSET else None)  # what an export names "default"
        for category in part.categories:
            known = categories.setdefault(category["id"], category)
            if known["name"] != category["name"]:
                raise FormatError(where, "$.categories", f"category {category['id']} is {category['name']!r} here "
                                                         f"and {known['name']!r} in another file")
        merged.frames += part.frames
        merged.annotations += part.annotations
    merged.categories = sorted(categories.values(), key=lambda c: c["id"])
    return merged


# --- writing -------------------------------------------------------------------------------------------------


def _bounds(poly: list[float]) -> list[float]:
    xs = [v for v in poly[0::2]]
    ys = [v for v in poly[1::2]]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _parts(poly: list[float]) -> list[list[float]]:
    parts, part = [], []
    for value in poly:
        if value == POLY_PART_SEPARATOR:
            parts.append(part)
            part = []
        else:
            part.append(value)
    parts.append(part)
    return parts


def _polygon_area(part: list[float]) -> float:
    xs, ys = part[0::2], part[1::2]
    return abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs)))) / 2


class CocoWriter:
    """Builds a COCO file frame by frame; categories from the version's kept ones, then new labels."""

    def __init__(self, kept_categories: list[dict[str, Any]] | None = None, mask_pixels=None) -> None:
        """``mask_pixels(uri)``: a mask image's pixels (RGB), or None when it cannot be read (its mask ROIs
        are then counted as not carried)."""
        self.mask_pixels = mask_pixels
        self.image_members: list[tuple[str, str]] = []  # (archive path, source URI) of each image
        self.categories: dict[str, dict[str, Any]] = {}
        for category in kept_categories or []:
            if isinstance(category, dict) and isinstance(category.get("name"), str) \
                    and type(category.get("id")) is int:
                self.categories.setdefault(category["name"], dict(category))
        self.images = self.annotations = 0  # written, once ``documents`` ran
        self.report = Report()
        self._image_ids: set[int] = set()
        self._ann_ids: set[int] = set()
        self._pending_images: list[tuple[dict, dict]] = []
        self._pending_anns: list[tuple[dict, Any]] = []

    def _category(self, label: str) -> int:
        if label not in self.categories:
            used = {c["id"] for c in self.categories.values()}
            self.categories[label] = {"id": max(used, default=0) + 1, "name": label}
        return self.categories[label]["id"]

    def add(self, frame: dict[str, Any]) -> None:
        source = self.report.first_source(frame)
        if source is None:
            return
        coco_meta = (frame.get("meta") or {}).get("coco") if isinstance(frame.get("meta"), dict) else None
        coco_meta = coco_meta if isinstance(coco_meta, dict) else {}
        subset = coco_meta.get("subset") if isinstance(coco_meta.get("subset"), str) and coco_meta["subset"] \
            else DEFAULT_SUBSET
        name = frame["id"]
        if name.startswith(f"{subset}/"):  # imported from instances_<subset>.json: images/<subset>/<file_name>
            name = name[len(subset) + 1:]
        image = {"file_name": name, "width": source.get("width"), "height": source.get("height")}
        self.image_members.append((f"images/{subset}/{name}", source.get("uri")))
        image.update({key: coco_meta[key] for key in IMAGE_FIELDS if key in coco_meta})
        wanted = coco_meta.get("image_id")
        self._pending_images.append((image, {"wanted": wanted, "subset": subset}))
        groups: dict[str, list[dict[str, Any]]] = {}
        for index, roi in enumerate(frame.get("rois") or []):
            meta = roi.get("meta") or {}
            shape = meta.get("_type")
            labels = roi.get("label") or []
            if shape == "mask":
                binary = roi_binary(self.mask_pixels, roi, source) if labels else None
                rle = binary_rle(binary) if binary is not None else None
                if rle is None:
                    self.report.skipped["mask ROIs whose image cannot be read" if labels else
                                        "ROIs without a label"] += 1
                    continue
                roi = {**roi, "_rle": rle}
            elif shape in ("elp", "p3d", "k3d", "b3d"):
                self.report.skipped["ellipses" if shape == "elp" else "3D shapes"] += 1
                continue
            elif not roi.get("poly"):
                self.report.skipped["frame labels" if labels else "ROIs without a shape"] += 1
                continue
            if not labels:
                self.report.skipped["ROIs without a label"] += 1
                continue
            if len(labels) > 1:
                self.report.skipped["labels beyond a ROI's first"] += len(labels) - 1
            key = meta.get("_id") if isinstance(meta.get("_id"), str) else f"roi {index}"
            groups.setdefault(f"{labels[0]}\x00{key}", []).append(roi)
        for rois in groups.values():
            self._pending_anns.append((image, rois))

    def _annotation(self, image_id: int, rois: list[dict[str, Any]]) -> dict[str, Any]:
        label = rois[0]["label"][0]
        ann: dict[str, Any] = {"image_id": image_id, "category_id": self._category(label), "iscrowd": 0}
        coco: dict[str, Any] = {}
        box = segmentation = keypoints = None
        for roi in rois:
            meta = roi.get("meta") or {}
            coco = {**coco, **(meta.get("coco") if isinstance(meta.get("coco"), dict) else {})}
            shape = meta.get("_type") or ("b2d" if len(roi["poly"]) == 8 else "p2d")
            if shape == "b2d" and box is None:
                box = _bounds(roi["poly"])
            elif shape == "mask" and segmentation is None:
                segmentation = roi["_rle"]
            elif shape == "p2d" and segmentation is None:
                segmentation = [part for part in _parts(roi["poly"]) if part]
            elif shape == "k2d" and keypoints is None:
                visibility = coco.get("visibility")
                points = roi["poly"]
                if not (isinstance(visibility, list) and len(visibility) * 2 == len(points)):
                    visibility = [2] * (len(points) // 2)
                keypoints = [v for k in range(len(visibility)) for v in (points[2 * k], points[2 * k + 1],
                                                                          visibility[k])]
                ann["num_keypoints"] = sum(1 for v in visibility if v > 0)
            else:
                self.report.skipped["shapes beyond one of each kind per annotation"] += 1
            if roi.get("confidence") is not None and roi["confidence"] != 1.0:
                ann["score"] = roi["confidence"]
        if isinstance(segmentation, dict):  # RLE
            ann["segmentation"] = segmentation
            if box is None:
                box = rle_box(segmentation)
        elif segmentation is not None:
            ann["segmentation"] = segmentation
            if box is None:
                box = _bounds([v for part in segmentation for v in part])
        if keypoints is not None:
            ann["keypoints"] = keypoints
            if box is None:
                visible = [(keypoints[k], keypoints[k + 1]) for k in range(0, len(keypoints), 3) if keypoints[k + 2]]
                box = _bounds([v for point in visible or [(0.0, 0.0)] for v in point])
        ann["bbox"] = box
        if coco.get("iscrowd") in (0, 1):
            ann["iscrowd"] = coco["iscrowd"]
        if type(coco.get("area")) in (int, float):
            ann["area"] = coco["area"]
        elif isinstance(segmentation, dict):
            ann["area"] = rle_area(segmentation)
        elif segmentation:
            ann["area"] = sum(_polygon_area(part) for part in segmentation)
        else:
            ann["area"] = box[2] * box[3]
        ann["_wanted"] = coco.get("id")
        return ann

    def documents(self) -> dict[str, dict[str, Any]]:
        """A COCO file per subset (``instances_<subset>.json``; ``default`` for frames that came with none),
        sharing the categories; image and annotation ids kept where they came from COCO and are unique in
        their file."""
        subset_of = {id(image): info["subset"] for image, info in self._pending_images}
        out: dict[str, dict[str, Any]] = {}
        for subset in sorted(set(subset_of.values())):
            pending = [(image, info) for image, info in self._pending_images if info["subset"] == subset]
            wanted = Counter(info["wanted"] for _image, info in pending if type(info["wanted"]) is int)
            next_id = max(wanted, default=0) + 1
            images = []
            for image, info in pending:
                if type(info["wanted"]) is int and wanted[info["wanted"]] == 1:
                    image["id"] = info["wanted"]
                else:
                    image["id"] = next_id
                    next_id += 1
                images.append(image)
            annotations = [self._annotation(image["id"], rois) for image, rois in self._pending_anns
                           if subset_of[id(image)] == subset]
            wanted_anns = Counter(a["_wanted"] for a in annotations if type(a["_wanted"]) is int)
            next_ann = max(wanted_anns, default=0) + 1
            for ann in annotations:
                own = ann.pop("_wanted")
                if type(own) is int and wanted_anns[own] == 1:
                    ann["id"] = own
                else:
                    ann["id"] = next_ann
                    next_ann += 1
            self.images += len(images)
            self.annotations += len(annotations)
            out[subset] = {"info": {"description": "exported by hyperdatasets"}, "licenses": [], "images": images,
                           "annotations": annotations}
        categories = sorted(self.categories.values(), key=lambda c: c["id"])
        for document in out.values():
            document["categories"] = categories
        return out or {DEFAULT_SUBSET: {"info": {"description": "exported by hyperdatasets"}, "licenses": [],
                                        "images": [], "annotations": [], "categories": categories}}

    def finish(self) -> dict[str, bytes]:
        """COCO's layout as Datumaro and CVAT read it: ``annotations/instances_<subset>.json`` beside an
        ``images/<subset>/`` folder (the images are referred to by file name)."""
        files: dict[str, bytes] = {}
        for subset, document in self.documents().items():
            files[f"annotations/instances_{subset}.json"] = orjson.dumps(document)
            files[f"images/{subset}/"] = b""
        return files
