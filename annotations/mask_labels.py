"""The version-level mask-value to label mapping.

Stored in a version's metadata under ``mask_labels`` as
``{"_all_": [{"value": [r, g, b], "labels": [...]}, ...]}``, in the order given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hyperdatasets.exceptions import InvalidInput

MASK_LABELS_KEY = "mask_labels"
ALL_SOURCES_KEY = "_all_"
MAX_MASK_VALUES = 4096
MAX_LABEL_LENGTH = 255


def _refuse(rule: str) -> InvalidInput:
    return InvalidInput.for_field("mask_labels", rule)


def _rgb(value: Any) -> list[int]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 3:
        raise _refuse(f"mask value {value!r} must be three integers (r, g, b)")
    for channel in value:
        if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel <= 255:
            raise _refuse(f"mask value {tuple(value)!r}: each channel must be an integer 0-255")
    return [int(c) for c in value]


def _labels(value: list[int], labels: Any) -> list[str]:
    if isinstance(labels, str) or not isinstance(labels, Sequence) or not labels:
        raise _refuse(f"labels of mask value {tuple(value)!r} must be a non-empty list of strings")
    for label in labels:
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_LENGTH or "\x00" in label:
            raise _refuse(
                f"labels of mask value {tuple(value)!r} must be strings of at most {MAX_LABEL_LENGTH} "
                f"characters, not only whitespace and without NUL, got {label!r}"
            )
    return list(labels)


def mask_labels_from_pairs(pairs: Sequence[tuple[Any, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Validate (value, labels) pairs and return the stored form. A value given twice maps to the labels of
    both pairs, at the place of its first pair (a list of pairs cannot refuse it in its JSON Schema)."""
    if len(pairs) > MAX_MASK_VALUES:
        raise _refuse(f"at most {MAX_MASK_VALUES} mask values")
    entries: dict[tuple[int, ...], dict[str, Any]] = {}
    for value, labels in pairs:
        rgb = _rgb(value)
        checked = _labels(rgb, labels)
        if tuple(rgb) in entries:
            entries[tuple(rgb)]["labels"].extend(checked)
        else:
            entries[tuple(rgb)] = {"value": rgb, "labels": checked}
    return {ALL_SOURCES_KEY: list(entries.values())}


def mask_labels_from_mapping(mapping: Any) -> dict[str, list[dict[str, Any]]]:
    """Validate the SDK's ``{(r, g, b): [labels]}`` mapping (or its stored form) and return the stored form."""
    if isinstance(mapping, Mapping) and set(mapping) == {ALL_SOURCES_KEY}:
        entries = mapping[ALL_SOURCES_KEY]
        if not isinstance(entries, list):
            raise _refuse("'_all_' must be a list of {value, labels} entries")
        pairs = []
        for entry in entries:
            if not isinstance(entry, Mapping) or set(entry) != {"value", "labels"}:
                raise _refuse("each entry must have exactly the keys 'value' and 'labels'")
            pairs.append((entry["value"], entry["labels"]))
        return mask_labels_from_pairs(pairs)
    if not isinstance(mapping, Mapping):
        raise _refuse("must be a mapping of (r, g, b) to a list of labels")
    return mask_labels_from_pairs(list(mapping.items()))
