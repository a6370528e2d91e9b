"""Pascal VOC detection, both ways (docs/formats.md has the mapping).

An archive holds ``Annotations/<name>.xml`` (one per image: ``filename``, ``size``, and each ``object``'s
``name``, ``bndbox`` and flags), and optionally ``ImageSets/Main/<subset>.txt`` (the image names of each
subset). XML is parsed with ``defusedxml`` (no entities, no external references).
"""

from __future__ import annotations

import io
import math
import posixpath
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import numpy as np
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from PIL import Image, UnidentifiedImageError

from formats.bundle import Bundle
from formats.coco import PENDING_IMAGE, FormatError, Imported, Report, own_meta
from formats.rle import roi_binary
from hyperdatasets.upload_paths import safe_part, safe_upload_path

FORMAT = "voc"
FLAGS = ("truncated", "difficult", "occluded")
# The 20 classes of Pascal VOC, after the background: the classes of a segmentation without a labelmap.txt.
VOC_CLASSES = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
               "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
               "tvmonitor")
VOID = (224, 224, 192)  # VOC's "void" (borders, ignored)
CLASS_MASK_ID = "voc-class"


def voc_color(index: int) -> tuple[int, int, int]:
    """Pascal VOC's colour map: the bits of the class index spread over the three channels."""
    r = g = b = 0
    for shift in range(8):
        r |= ((index >> 0) & 1) << (7 - shift)
        g |= ((index >> 1) & 1) << (7 - shift)
        b |= ((index >> 2) & 1) << (7 - shift)
        index >>= 3
    return r, g, b


def _labelmap(bundle: Bundle) -> list[tuple[str, tuple[int, int, int]]]:
    """(label, colour) by class index: labelmap.txt (Datumaro's ``name:r,g,b:parts:actions``, a colour left
    empty taking VOC's colour of its index), else VOC's own classes."""
    if "labelmap.txt" not in bundle.names():
        return [(name, voc_color(i)) for i, name in enumerate(VOC_CLASSES)]
    where = bundle.where("labelmap.txt")
    entries = []
    for number, line in enumerate(bundle.read("labelmap.txt").decode("utf-8", "replace").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, rest = line.partition(":")
        raw = rest.split(":", 1)[0].strip()
        color = voc_color(len(entries))
        if raw:
            try:
                parts = tuple(int(v) for v in raw.split(","))
            except ValueError:
                parts = ()
            if len(parts) != 3 or not all(0 <= v <= 255 for v in parts):
                raise FormatError(where, f"line {number}", "the colour must be r,g,b (0-255 each)")
            color = parts
        entries.append((name.strip(), color))
    return entries


def _class_masks(bundle: Bundle, stem: str, colors: dict, size: tuple) -> list[dict[str, Any]]:
    """The mask ROIs of ``SegmentationClass/<stem>.png``: one per class colour in it (background and void
    left out), all pointing at the image, which the import stores as it is."""
    member = f"SegmentationClass/{stem}.png"
    if member not in bundle.names():
        return []
    where = bundle.where(member)
    content = bundle.read(member)
    try:
        with Image.open(io.BytesIO(content)) as image:
            pixels = np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise FormatError(where, "image", f"cannot be read ({exc})") from None
    height, width = pixels.shape[:2]
    if size not in ((None, None), (width, height)):
        raise FormatError(where, "size", f"is {width}x{height} but the image is {size[0]}x{size[1]}")
    rois = []
    for color in sorted({tuple(int(v) for v in c) for c in np.unique(pixels.reshape(-1, 3), axis=0)}):
        if color in ((0, 0, 0), VOID):
            continue
        if color not in colors:
            raise FormatError(where, "pixels", f"colour {color} is not a class of labelmap.txt")
        rois.append({"label": [colors[color]], "poly": [], "sources": ["default"],
                     "meta": {"_type": "mask", "voc": {"segmentation": "class"}},
                     PENDING_IMAGE: {"image": content, "mask_id": CLASS_MASK_ID, "value": list(color),
                                     "path": where, "width": width, "height": height}})
    return rois


def _text(node, tag: str) -> str | None:
    found = node.find(tag)
    return found.text.strip() if found is not None and found.text is not None else None


def _number(where: str, node, tag: str) -> float:
    raw = _text(node, tag)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise FormatError(where, tag, "must be a number") from None
    if not math.isfinite(value):
        raise FormatError(where, tag, "must be a finite number")
    return value


def _subsets(bundle: Bundle) -> dict[str, str]:
    subset_of: dict[str, str] = {}
    for member in bundle.names():
        if member.startswith("ImageSets/Main/") and member.endswith(".txt") and member.count("/") == 2:
            subset = posixpath.basename(member)[:-len(".txt")]
            if "_" in subset:  # per-class lists (cat_train.txt) say nothing more
                continue
            for line in bundle.read(member).decode("utf-8", "replace").splitlines():
                if line.split():
                    subset_of.setdefault(line.split()[0], subset)
    return subset_of


def voc_read(bundle: Bundle, *, images_prefix: str) -> Imported:
    if not bundle.is_archive:
        raise FormatError(bundle.name, "archive", "Pascal VOC comes as a zip archive with Annotations/*.xml")
    subset_of = _subsets(bundle)
    classes = _labelmap(bundle)
    colors = {color: name for name, color in classes}
    frames, labels, count = [], {}, 0
    members = [m for m in bundle.names() if m.startswith("Annotations/") and m.endswith(".xml")]
    if not members:
        raise FormatError(bundle.name, "archive", "holds no Annotations/*.xml")
    for member in members:
        where = bundle.where(member)
        try:
            root = ElementTree.fromstring(bundle.read(member))
        except (ElementTree.ParseError, DefusedXmlException) as exc:
            raise FormatError(where, "xml", f"is not readable XML ({exc})") from None
        if root.tag != "annotation":
            raise FormatError(where, root.tag, "the root element must be <annotation>")
        stem = member[len("Annotations/"):-len(".xml")]
        name = _text(root, "filename") or f"{stem}.jpg"
        source: dict[str, Any] = {"id": "default", "uri": images_prefix + name}
        size = root.find("size")
        if size is not None:
            for key in ("width", "height"):
                if _text(size, key) is not None:
                    value = _number(where, size, key)
                    if value < 0 or value != int(value):
                        raise FormatError(where, f"size/{key}", "must be a whole number of pixels")
                    source[key] = int(value)
        voc: dict[str, Any] = {"name": stem}
        if stem in subset_of:
            voc["subset"] = subset_of[stem]
        rois = []
        for index, obj in enumerate(root.findall("object")):
            path = f"object[{index}]"
            label = _text(obj, "name")
            if not label:
                raise FormatError(where, f"{path}/name", "is required")
            box = obj.find("bndbox")
            if box is None:
                raise FormatError(where, f"{path}/bndbox", "is required")
            x0, y0, x1, y1 = (_number(where, box, key) for key in ("xmin", "ymin", "xmax", "ymax"))
            if x1 < x0 or y1 < y0:
                raise FormatError(where, f"{path}/bndbox", "xmax and ymax must not be below xmin and ymin")
            meta: dict[str, Any] = {}
            for flag in FLAGS:
                raw = _text(obj, flag)
                if raw is not None:
                    if raw not in ("0", "1"):
                        raise FormatError(where, f"{path}/{flag}", "must be 0 or 1")
                    meta[flag] = raw == "1"
            if _text(obj, "pose"):
                meta["pose"] = _text(obj, "pose")
            rois.append({"label": [label], "poly": [x0, y0, x1, y0, x1, y1, x0, y1], "sources": ["default"],
                         "meta": {"_type": "b2d", "voc": meta}})
            labels.setdefault(label, len(labels))
            count += 1
        masks = _class_masks(bundle, stem, colors, (source.get("width"), source.get("height")))
        for roi in masks:
            labels.setdefault(roi["label"][0], len(labels))
        rois += masks
        count += len(masks)
        frames.append({"id": name, "sources": [source], "rois": rois, "meta": {"voc": voc}})
    color_of = {name: list(color) for name, color in classes}
    categories = [{"id": index, "name": label, **({"color": color_of[label]} if label in color_of else {})}
                  for label, index in labels.items()]
    return Imported(frames, categories, count)


def _value(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:.6f}".rstrip("0").rstrip(".")


class VocWriter:
    def __init__(self, kept: list[dict[str, Any]] | None = None, mask_pixels=None) -> None:
        """``mask_pixels(uri)``: a mask image's pixels (RGB), or None when it cannot be read; mask ROIs are
        written into ``SegmentationClass/`` in their label's colour."""
        self.labels: list[str] = [c["name"] for c in kept or [] if isinstance(c, dict) and isinstance(c.get("name"),
                                                                                                     str)
                                  and c["name"] != "background"]
        self.colors: dict[str, tuple[int, int, int]] = {
            c["name"]: tuple(c["color"]) for c in kept or []
            if isinstance(c, dict) and isinstance(c.get("color"), list) and c.get("name") != "background"}
        self.mask_pixels = mask_pixels
        self.segmented: dict[str, list[str]] = {}
        self.files: dict[str, bytes] = {}
        self.subsets: dict[str, list[str]] = {}
        self.report = Report()
        self.images = self.annotations = 0
        self.image_members: list[tuple[str, str]] = []

    def add(self, frame: dict[str, Any]) -> None:
        source = self.report.first_source(frame)
        if source is None:
            return
        voc = own_meta(frame, "voc")
        stem = safe_part(voc.get("name") if isinstance(voc.get("name"), str) else posixpath.splitext(frame["id"])[0])
        root = Element("annotation")
        SubElement(root, "folder").text = "JPEGImages"
        SubElement(root, "filename").text = frame["id"]
        self.image_members.append((f"JPEGImages/{safe_upload_path(frame['id'])}", source.get("uri")))
        size = SubElement(root, "size")
        for key in ("width", "height"):
            SubElement(size, key).text = str(source.get(key) or 0)
        SubElement(size, "depth").text = "3"
        SubElement(root, "segmented").text = "0"
        segmentation = None
        for roi in frame.get("rois") or []:
            shape = (roi.get("meta") or {}).get("_type")
            labels = roi.get("label") or []
            poly = roi.get("poly") or []
            if shape == "mask" and labels:
                segmentation = self._paint(segmentation, roi, source)
                continue
            if shape != "b2d" or not poly:
                kinds = {"p2d": "polygons", "elp": "ellipses", "k2d": "keypoints", "mask": "mask ROIs"}
                self.report.skipped[kinds.get(shape, "frame labels" if not poly else "3D shapes")] += 1
                continue
            if not labels:
                self.report.skipped["ROIs without a label"] += 1
                continue
            if len(labels) > 1:
                self.report.skipped["labels beyond a ROI's first"] += len(labels) - 1
            if labels[0] not in self.labels:
                self.labels.append(labels[0])
            obj = SubElement(root, "object")
            SubElement(obj, "name").text = labels[0]
            flags = (roi.get("meta") or {}).get("voc") if isinstance((roi.get("meta") or {}).get("voc"), dict) else {}
            SubElement(obj, "pose").text = str(flags.get("pose") or "Unspecified")
            for flag in FLAGS:
                if flag in flags or flag != "occluded":  # VOC's own two always; occluded when it was given
                    SubElement(obj, flag).text = "1" if flags.get(flag) else "0"
            box = SubElement(obj, "bndbox")
            xs, ys = poly[0::2], poly[1::2]
            for key, value in (("xmin", min(xs)), ("ymin", min(ys)), ("xmax", max(xs)), ("ymax", max(ys))):
                SubElement(box, key).text = _value(value)
            self.annotations += 1
        subset = voc.get("subset") if isinstance(voc.get("subset"), str) else "default"
        if segmentation is not None:
            root.find("segmented").text = "1"
            out = io.BytesIO()
            Image.fromarray(segmentation, "RGB").save(out, format="PNG")
            self.files[f"SegmentationClass/{stem}.png"] = out.getvalue()
            self.segmented.setdefault(subset, []).append(stem)
        self.files[f"Annotations/{stem}.xml"] = tostring(root, encoding="utf-8")
        self.subsets.setdefault(subset, []).append(stem)
        self.images += 1

    def color(self, label: str) -> tuple[int, int, int]:
        if label not in self.labels:
            self.labels.append(label)
        if label not in self.colors:
            self.colors[label] = voc_color(1 + self.labels.index(label))
        return self.colors[label]

    def _paint(self, segmentation, roi: dict[str, Any], source: dict[str, Any]):
        """The frame's class image with the ROI's mask pixels painted in its label's colour."""
        binary = roi_binary(self.mask_pixels, roi, source)
        if binary is None:
            self.report.skipped["mask ROIs whose image cannot be read"] += 1
            return segmentation
        if segmentation is None:
            segmentation = np.zeros(binary.shape + (3,), np.uint8)
        elif segmentation.shape[:2] != binary.shape:
            self.report.skipped["mask ROIs of another size than the frame's first"] += 1
            return segmentation
        if len(roi["label"]) > 1:
            self.report.skipped["labels beyond a ROI's first"] += len(roi["label"]) - 1
        segmentation[binary] = self.color(roi["label"][0])
        self.annotations += 1
        return segmentation

    def finish(self) -> dict[str, bytes]:
        files = {"JPEGImages/": b"", **self.files}
        for subset, stems in sorted(self.subsets.items()):
            files[f"ImageSets/Main/{safe_part(subset)}.txt"] = ("\n".join(stems) + "\n").encode()
        for subset, stems in sorted(self.segmented.items()):
            files[f"ImageSets/Segmentation/{safe_part(subset)}.txt"] = ("\n".join(stems) + "\n").encode()
        lines = ["# label:color_rgb:parts:actions", "background:0,0,0::"]
        lines += [f"{label}:{','.join(str(v) for v in self.color(label))}::" for label in list(self.labels)]
        files["labelmap.txt"] = ("\n".join(lines) + "\n").encode()
        return files
