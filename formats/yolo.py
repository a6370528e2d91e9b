"""YOLO (Ultralytics) detection and segmentation datasets, both ways (docs/formats.md has the mapping).

An archive holds ``data.yaml`` (``names``: a list, or a map of class index to name), ``images/<subset>/...``
and ``labels/<subset>/<same path>.txt``, one object per line: ``class cx cy w h`` (a box) or ``class x1 y1 x2
y2 ...`` (a polygon), all relative to the image's size. Import reads each image's size from the image in the
archive (YOLO's numbers mean nothing without it), and refers to the image as ``images_prefix`` + its path under
``images/``. Export writes ``data.yaml`` and the label files; images are referred to, not copied.
"""

from __future__ import annotations

import io
import math
import posixpath
from typing import Any

import yaml
from PIL import Image, UnidentifiedImageError

from annotations.rois import POLY_PART_SEPARATOR
from formats.bundle import Bundle
from formats.coco import FormatError, Imported, Report
from hyperdatasets.upload_paths import safe_upload_path

FORMAT = "yolo"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")
DATA_FILES = ("data.yaml", "data.yml", "dataset.yaml")


def _names(bundle: Bundle) -> dict[int, str]:
    found = [name for name in bundle.names() if posixpath.basename(name) in DATA_FILES]
    if not found:
        raise FormatError(bundle.name, "data.yaml", "is missing: it names the classes (names: [...])")
    where = bundle.where(found[0])
    try:
        data = yaml.safe_load(bundle.read(found[0]))
    except yaml.YAMLError as exc:
        raise FormatError(where, "$", f"is not YAML ({exc})") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, list):
        names = dict(enumerate(names))
    if not isinstance(names, dict) or not names:
        raise FormatError(where, "names", "must be a list of class names, or a map of class index to name")
    for index, name in names.items():
        if type(index) is not int or index < 0 or not isinstance(name, str) or not name.strip():
            raise FormatError(where, f"names.{index}", "must map a class index (0, 1, ...) to a non-empty name")
    return names


def _size(bundle: Bundle, member: str) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(bundle.read(member))) as image:
            return image.size
    except (UnidentifiedImageError, OSError) as exc:
        raise FormatError(bundle.where(member), "image", f"cannot be read ({exc})") from None


def yolo_read(bundle: Bundle, *, images_prefix: str) -> Imported:
    if not bundle.is_archive:
        raise FormatError(bundle.name, "archive", "YOLO comes as a zip archive of data.yaml, images/ and labels/")
    names = _names(bundle)
    members = bundle.names()
    images = {m[len("images/"):]: m for m in members if m.startswith("images/") and m.lower().endswith(IMAGE_SUFFIXES)}
    by_stem = {posixpath.splitext(path)[0]: path for path in images}
    frames: dict[str, dict[str, Any]] = {}
    for path in sorted(images):
        subset = path.split("/", 1)[0] if "/" in path else ""
        frames[path] = {"id": path, "sources": [{"id": "default", "uri": images_prefix + path}], "rois": [],
                        "meta": {"yolo": {"subset": subset}}}
    count = 0
    for member in members:
        if not (member.startswith("labels/") and member.endswith(".txt")):
            continue
        stem = member[len("labels/"):-len(".txt")]
        where = bundle.where(member)
        if stem not in by_stem:
            raise FormatError(where, "file", f"has no image images/{stem}.* in the archive (YOLO numbers are "
                                             "relative to its size)")
        frame = frames[by_stem[stem]]
        width, height = _size(bundle, images[by_stem[stem]])
        frame["sources"][0].update(width=width, height=height)
        try:
            text = bundle.read(member).decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(where, "file", "is not UTF-8 text") from None
        for number, line in enumerate(text.splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            try:
                index, values = int(fields[0]), [float(v) for v in fields[1:]]
            except ValueError:
                raise FormatError(where, f"line {number}", "must be a class index and numbers") from None
            if index not in names:
                raise FormatError(where, f"line {number}", f"class {index} is not in data.yaml's names")
            if not all(math.isfinite(v) and -1e-6 <= v <= 1 + 1e-6 for v in values):
                raise FormatError(where, f"line {number}", "coordinates must be relative: from 0 to 1")
            if len(values) == 4:
                cx, cy, w, h = values
                x0, y0, x1, y1 = (cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, \
                    (cy + h / 2) * height
                shape, poly = "b2d", [x0, y0, x1, y0, x1, y1, x0, y1]
            elif len(values) >= 6 and len(values) % 2 == 0:
                shape = "p2d"
                poly = [v * (width if k % 2 == 0 else height) for k, v in enumerate(values)]
            else:
                raise FormatError(where, f"line {number}", "must be 'class cx cy w h' or 'class x1 y1 x2 y2 x3 y3 "
                                                           "...' (at least three points)")
            frame["rois"].append({"label": [names[index]], "poly": poly, "sources": ["default"],
                                  "meta": {"_type": shape, "yolo": {"class": index}}})
            count += 1
    categories = [{"id": index, "name": name} for index, name in sorted(names.items())]
    return Imported(list(frames.values()), categories, count)


def _number(value: float) -> str:
    """Fixed-point (no exponent: readers such as Datumaro's take only digits and a point), 10 decimals."""
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class YoloWriter:
    """data.yaml and a label file per frame; class indexes from the version's kept names, then new labels."""

    def __init__(self, kept: list[dict[str, Any]] | None = None, mask_pixels=None) -> None:
        """``mask_pixels`` is taken as every writer's is; YOLO carries no masks (they are counted)."""
        self.names: dict[str, int] = {}
        for entry in kept or []:
            if isinstance(entry, dict) and type(entry.get("id")) is int and isinstance(entry.get("name"), str):
                self.names.setdefault(entry["name"], entry["id"])
        self.files: dict[str, bytes] = {}
        self.report = Report()
        self.images = self.annotations = 0
        self.image_members: list[tuple[str, str]] = []

    def _index(self, label: str) -> int:
        if label not in self.names:
            self.names[label] = max(self.names.values(), default=-1) + 1
        return self.names[label]

    def add(self, frame: dict[str, Any]) -> None:
        source = self.report.first_source(frame)
        if source is None:
            return
        width, height = source.get("width"), source.get("height")
        lines = []
        for roi in frame.get("rois") or []:
            shape = (roi.get("meta") or {}).get("_type")
            labels = roi.get("label") or []
            poly = roi.get("poly") or []
            if shape not in ("b2d", "p2d") or not poly:
                kinds = {"elp": "ellipses", "k2d": "keypoints", "mask": "mask ROIs"}
                self.report.skipped[kinds.get(shape, "frame labels" if not poly else "3D shapes")] += 1
                continue
            if not labels:
                self.report.skipped["ROIs without a label"] += 1
                continue
            if not width or not height:
                self.report.skipped["ROIs of frames without a size"] += 1
                continue
            if len(labels) > 1:
                self.report.skipped["labels beyond a ROI's first"] += len(labels) - 1
            index = self._index(labels[0])
            if shape == "b2d":
                xs, ys = poly[0::2], poly[1::2]
                x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
                values = [(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height]
            else:
                if POLY_PART_SEPARATOR in poly:
                    self.report.skipped["polygon parts beyond the first"] += 1
                    poly = poly[:poly.index(POLY_PART_SEPARATOR)]
                values = [v / (width if k % 2 == 0 else height) for k, v in enumerate(poly)]
            lines.append(" ".join([str(index), *(_number(v) for v in values)]))
            self.annotations += 1
        meta = frame.get("meta") if isinstance(frame.get("meta"), dict) else {}
        subset = (meta.get("yolo") or {}).get("subset") if isinstance(meta.get("yolo"), dict) else None
        path = safe_upload_path(frame["id"] if subset is not None else f"train/{frame['id']}")
        if not posixpath.splitext(path)[1]:
            path += posixpath.splitext(source.get("uri") or "")[1] or ".jpg"
        self.image_members.append((f"images/{path}", source.get("uri")))
        self.files[f"labels/{posixpath.splitext(path)[0]}.txt"] = ("\n".join(lines) + "\n" if lines else "").encode()
        self.images += 1

    def finish(self) -> dict[str, bytes]:
        subsets = sorted({name.split("/")[1] for name in self.files if name.count("/") >= 2})
        data = {"path": ".", **{subset: f"images/{subset}" for subset in subsets},
                "names": {index: name for name, index in sorted(self.names.items(), key=lambda item: item[1])}}
        folders = {f"images/{subset}/": b"" for subset in subsets}
        return {"data.yaml": yaml.safe_dump(data, sort_keys=False).encode(), **folders, **self.files}
