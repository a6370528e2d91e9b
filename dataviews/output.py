"""A frame as a dataview yields it: where it was taken from, the ROIs ``output_rois`` keeps, labels mapped
and enumerated.

- ``output_rois``: ``all_in_frame`` keeps every ROI; ``only_filtered`` keeps the ROIs the item's rule
  matched (those an include label rule holds on; every ROI for a rule without label rules);
  ``frame_per_roi`` yields the frame once per matched ROI, each time with that ROI alone.
- Label mapping (after filtering, so rules keep the original names): a mapping rule applies to the items of
  the input versions its source names (``*``: any); an ROI that has every one of its source labels (``*``: any
  ROI) gets its target. Where some rule applies to the item's version, an ROI's labels become the targets of
  the rules it matches: labels no rule maps are dropped, and an ROI left without labels is dropped.
- Enumeration: each ROI gets ``label_num``, the number of its first label that has one, else -1.
"""

from __future__ import annotations

from typing import Any

from dataviews import spec


def _mapping_for(mapping: list[dict[str, Any]], dataset_id: str, version_id: str) -> list[dict[str, Any]]:
    return [rule for rule in mapping if rule["source"]["dataset"] in (spec.ANY, dataset_id)
            and rule["source"]["version"] in (spec.ANY, version_id)]


def _mapped(roi: dict[str, Any], rules: list[dict[str, Any]]) -> dict[str, Any] | None:
    labels = roi.get("label") if isinstance(roi.get("label"), list) else []
    targets: list[str] = []
    for rule in rules:
        sources = rule["source"]["labels"]
        if all(label == spec.ANY or label in labels for label in sources) and rule["target"] not in targets:
            targets.append(rule["target"])
    return {**roi, "label": targets} if targets else None


def _numbered(roi: dict[str, Any], enumeration: dict[str, int]) -> dict[str, Any]:
    """The ROI (changed in place: a frame just read is the caller's own) with its ``label_num``."""
    labels = roi.get("label") if isinstance(roi.get("label"), list) else []
    roi["label_num"] = next((enumeration[label] for label in labels if isinstance(label, str) and label in enumeration),
                            -1) if enumeration else -1
    return roi


class FrameShaper:
    """Shapes the frames of one recipe's items; what depends only on the recipe and the input (the mapping
    rules that apply to it) is worked out once per input."""

    def __init__(self, recipe: dict[str, Any]) -> None:
        self.mode = recipe.get("output_rois") or "all_in_frame"
        self.enumeration = recipe.get("labels_enumeration") or {}
        self.mapping = recipe.get("mapping") or []
        self._inputs: dict[tuple[str, str], tuple[dict[str, str], list]] = {}

    def frames(self, frame: dict[str, Any], *, rule: int, dataset_id: str, version_id: str,
               roi_indexes: Any) -> list[dict[str, Any]]:
        """The frames one item yields (one, or one per matched ROI) from ``frame`` as the version reads it,
        a document just parsed for this call (changed in place)."""
        known = self._inputs.get((dataset_id, version_id))
        if known is None:
            known = self._inputs[(dataset_id, version_id)] = (
                {"id": dataset_id, "version": version_id}, _mapping_for(self.mapping, dataset_id, version_id))
        taken_from, mapping = known
        rois = frame.get("rois") if isinstance(frame.get("rois"), list) else []
        if self.mode == "all_in_frame" or roi_indexes is None:
            chosen = range(len(rois))
        else:
            chosen = sorted(i for i in set(roi_indexes) if type(i) is int and 0 <= i < len(rois))
        kept: list[dict[str, Any]] = []
        for index in chosen:
            roi = rois[index] if isinstance(rois[index], dict) else {}
            if mapping:
                roi = _mapped(roi, mapping)
                if roi is None:
                    continue
            kept.append(_numbered(roi, self.enumeration))
        frame["dataset"] = dict(taken_from)
        frame["rule_index"] = rule
        if self.mode == "frame_per_roi":
            return [{**frame, "rois": [roi]} for roi in kept]
        frame["rois"] = kept
        return [frame]


def projected(frame: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Only the fields ``paths`` name (dotted, ``spec.clean_projection``), nested as in the frame; a path the
    frame does not have is null. A path inside a field an earlier path took whole adds nothing."""
    out: dict[str, Any] = {}
    for path in paths:
        keys = path.split(".")
        value: Any = frame
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        target: Any = out
        for key in keys[:-1]:
            if key not in target:
                target[key] = {}
            target = target[key]
            if not isinstance(target, dict):
                break  # a shorter path already took the whole field
        else:
            target[keys[-1]] = value
    return out
