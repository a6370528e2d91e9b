"""The parts of a dataview's recipe: checked, with every error naming its field, and normalised for storage.

Input versions are given by id or by name (``dataset_id`` or ``dataset_name`` with an optional
``dataset_project``; ``version_id`` or ``version_name``) and stored by id. A filter rule or mapping rule names
its dataset and version among the inputs, by id or name, or ``*``: every input version of the dataset, or
every input. Filter rules are the query engine's filters (``hyperdatasets.queries.filters``) with a dataset,
a version and a weight, and their queries are checked against the meta schema of the datasets they apply to.
"""

from __future__ import annotations

import math
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.models import DatasetVersion
from hyperdatasets.queries.fields import MetaSchema
from hyperdatasets.queries.filters import frame_filter_from
from hyperdatasets.queries.selection import filter_checked
from hyperdatasets.selectors.datasets import dataset_get
from hyperdatasets.selectors.versions import version_get
from hyperdatasets.validation import clean_name

ANY = "*"
MAX_INPUTS = 100
MAX_RULES = 32
MAX_MAPPING_RULES = 1000
MAX_ENUMERATION = 10_000
MAX_LABEL_LENGTH = 255
MAX_WEIGHT = 1e6
MAX_SEED = 2**31 - 1
ORDERS = ("sequential", "random")
OUTPUT_ROIS = ("all_in_frame", "only_filtered", "frame_per_roi")
INPUT_KEYS = {"dataset", "dataset_id", "dataset_name", "dataset_project", "version", "version_id", "version_name"}
RULE_KEYS = {"dataset", "version", "weight"}
ITERATION_KEYS = {"order", "infinite", "limit", "random_seed"}


@dataclass(frozen=True)
class Input:
    version: DatasetVersion

    @property
    def dataset_id(self) -> str:
        return str(self.version.dataset_id)

    @property
    def version_id(self) -> str:
        return str(self.version.pk)


def _object(value: Any, field: str, keys: set[str]) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput.for_field(field, "must be an object")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise InvalidInput.for_field(field, f"unknown keys {unknown}; known: {sorted(keys)}")
    return value


def _list(value: Any, field: str, most: int) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput.for_field(field, "must be a list")
    if len(value) > most:
        raise InvalidInput.for_field(field, f"must hold at most {most} items")
    return value


def clean_label(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or "\x00" in value or len(value) > MAX_LABEL_LENGTH:
        raise InvalidInput.for_field(field, f"must be a label: a string of 1 to {MAX_LABEL_LENGTH} characters, "
                                            "not only whitespace, without NUL")
    return value


# --- inputs ------------------------------------------------------------------------------------------------


def clean_inputs(value: Any, datasets=None) -> list[Input]:
    """The input versions, in the given order, each once; ``datasets``: the datasets they may be taken from
    (the caller's visible ones; any other is not found)."""
    inputs: list[Input] = []
    for i, item in enumerate(_list(value, "versions", MAX_INPUTS)):
        field = f"versions[{i}]"
        entry = _object(item, field, INPUT_KEYS)
        dataset_id = entry.get("dataset_id", entry.get("dataset"))
        dataset_name = entry.get("dataset_name")
        if dataset_id is None and dataset_name is None:
            raise InvalidInput.for_field(f"{field}.dataset_id", "give dataset_id or dataset_name")
        for key in ("dataset_name", "dataset_project", "version_name"):
            if entry.get(key) is not None:
                clean_name(f"{field}.{key}", entry[key])
        dataset = dataset_get(dataset_id=dataset_id, dataset_name=dataset_name,
                              project_name=entry.get("dataset_project"), queryset=datasets)
        version_id = entry.get("version_id", entry.get("version"))
        version_name = entry.get("version_name")
        if version_id is None and version_name is None:
            raise InvalidInput.for_field(f"{field}.version_id", "give version_id or version_name")
        version = version_get(dataset, version_id=version_id, version_name=version_name).version
        if any(known.version.pk == version.pk for known in inputs):
            raise InvalidInput.for_field(field, f"version {version.name!r} of dataset {dataset.name!r} is already "
                                                "an input")
        inputs.append(Input(version))
    return inputs


def stored_inputs(inputs: list[Input]) -> list[dict[str, str]]:
    return [{"dataset": i.dataset_id, "version": i.version_id} for i in inputs]


def inputs_from_stored(stored: list[dict[str, str]]) -> list[Input]:
    """The stored inputs that still exist, in order (a deleted version drops out of the view)."""
    versions = DatasetVersion.objects.select_related("dataset").in_bulk([uuid.UUID(s["version"]) for s in stored])
    return [Input(versions[uuid.UUID(s["version"])]) for s in stored if uuid.UUID(s["version"]) in versions]


def _reference(value: Any, field: str, candidates: dict[str, list[str]]) -> str:
    """``*`` or the id of the one candidate the value names: ``candidates`` maps each id to its names."""
    if value is None or value == ANY:
        return ANY
    if not isinstance(value, str):
        raise InvalidInput.for_field(field, "must be an id, a name or '*'")
    if value in candidates:
        return value
    try:
        as_id = str(uuid.UUID(value))
    except ValueError:
        as_id = None
    if as_id in candidates:
        return as_id
    named = [key for key, names in candidates.items() if value in names]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise InvalidInput.for_field(field, f"{value!r} names several inputs; give the id")
    raise InvalidInput.for_field(field, f"{value!r} is not among the dataview's inputs")


def _scope(entry: dict, field: str, inputs: list[Input]) -> tuple[str, str]:
    """The (dataset, version) a rule names among the inputs: ids, or ``*``."""
    datasets = {}
    for i in inputs:
        datasets[i.dataset_id] = [i.version.dataset.name]
    dataset = _reference(entry.get("dataset"), f"{field}.dataset", datasets)
    versions = {i.version_id: [i.version.name] for i in inputs if dataset in (ANY, i.dataset_id)}
    version = _reference(entry.get("version"), f"{field}.version", versions)
    if dataset == ANY and version != ANY:
        raise InvalidInput.for_field(f"{field}.version", "must be '*' when the dataset is '*'")
    if version != ANY:
        dataset = next(i.dataset_id for i in inputs if i.version_id == version)
    return dataset, version


def rule_inputs(inputs: list[Input], dataset: str, version: str) -> list[Input]:
    """The input versions a rule's (dataset, version) takes."""
    return [i for i in inputs if dataset in (ANY, i.dataset_id) and version in (ANY, i.version_id)]


# --- filter rules ------------------------------------------------------------------------------------------


def clean_filters(value: Any, inputs: list[Input]) -> list[dict[str, Any]]:
    rules = []
    for i, item in enumerate(_list(value, "filters", MAX_RULES)):
        field = f"filters[{i}]"
        frame_filter = frame_filter_from(item, field, RULE_KEYS)
        dataset, version = _scope(item, field, inputs)
        schema = MetaSchema.of([i.dataset_id for i in rule_inputs(inputs, dataset, version)])
        filter_checked(frame_filter, schema)
        weight = item.get("weight", 1)
        if (type(weight) not in (int, float) or not math.isfinite(weight) or not 0 < weight <= MAX_WEIGHT):
            raise InvalidInput.for_field(f"{field}.weight", f"must be a number above 0, at most {MAX_WEIGHT:g}")
        rule = {"dataset": dataset, "version": version, "weight": weight}
        rule.update({key: item[key] for key in ("filter_by_roi", "label_rules", "frame_query", "sources_query")
                     if item.get(key) is not None})
        rules.append(rule)
    if rules and all(rule["dataset"] == ANY for rule in rules):
        raise InvalidInput.for_field("filters", "at least one rule must name a dataset")
    return rules


# --- labels ------------------------------------------------------------------------------------------------


def clean_mapping(value: Any, inputs: list[Input]) -> list[dict[str, Any]]:
    rules = []
    for i, item in enumerate(_list(value, "mapping", MAX_MAPPING_RULES)):
        field = f"mapping[{i}]"
        entry = _object(item, field, {"source", "target"})
        source = _object(entry.get("source", {}), f"{field}.source", {"dataset", "version", "labels"})
        dataset, version = _scope(source, f"{field}.source", inputs)
        labels = source.get("labels")
        if not isinstance(labels, list) or not labels:
            raise InvalidInput.for_field(f"{field}.source.labels", "must be a non-empty list of labels ('*': any)")
        labels = [clean_label(f"{field}.source.labels[{k}]", label) for k, label in enumerate(labels)]
        target = clean_label(f"{field}.target", entry.get("target"))
        rules.append({"source": {"dataset": dataset, "version": version, "labels": labels}, "target": target})
    return rules


def clean_enumeration(value: Any) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput.for_field("labels_enumeration", "must be an object of label: integer")
    if len(value) > MAX_ENUMERATION:
        raise InvalidInput.for_field("labels_enumeration", f"must hold at most {MAX_ENUMERATION} labels")
    for label, number in value.items():
        clean_label("labels_enumeration", label)
        if type(number) is not int or not -(2**31) <= number <= 2**31 - 1:
            raise InvalidInput.for_field(f"labels_enumeration.{label}", "must be a 32-bit integer")
    return dict(value)


def clean_output_rois(value: Any) -> str:
    if value is None:
        return OUTPUT_ROIS[0]
    if value not in OUTPUT_ROIS:
        raise InvalidInput.for_field("output_rois", f"must be one of {', '.join(OUTPUT_ROIS)}")
    return value


# --- iteration ---------------------------------------------------------------------------------------------


def clean_iteration(value: Any, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The iteration parameters over ``current`` (the stored ones): order, infinite, limit and the random
    seed, generated when none was ever given (ClearML's server does the same and returns it)."""
    entry = _object(value if value is not None else {}, "iteration", ITERATION_KEYS)
    merged = {"order": "sequential", "infinite": False, "limit": None, "random_seed": None, **(current or {}),
              **entry}
    if merged["order"] not in ORDERS:
        raise InvalidInput.for_field("iteration.order", f"must be one of {', '.join(ORDERS)}")
    if type(merged["infinite"]) is not bool:
        raise InvalidInput.for_field("iteration.infinite", "must be true or false")
    limit = merged["limit"]
    if limit is not None and (type(limit) is not int or not 1 <= limit <= 2**63 - 1):
        raise InvalidInput.for_field("iteration.limit", "must be a positive integer or null")
    seed = merged["random_seed"]
    if seed is None:
        merged["random_seed"] = secrets.randbelow(MAX_SEED + 1)
    elif type(seed) is not int or not 0 <= seed <= MAX_SEED:
        raise InvalidInput.for_field("iteration.random_seed", f"must be an integer from 0 to {MAX_SEED}")
    return merged


# --- output ------------------------------------------------------------------------------------------------

MAX_PROJECTION = 100
MAX_PROJECTION_PATH = 255


def clean_projection(value: Any) -> list[str] | None:
    """Dotted field paths of the frame as a dataview yields it (``id``, ``sources``, ``meta.city``,
    ``dataset.version``), each once; None or an empty list: whole frames."""
    paths = _list(value, "projection", MAX_PROJECTION)
    cleaned: list[str] = []
    for index, path in enumerate(paths):
        field = f"projection[{index}]"
        if not isinstance(path, str) or not path or len(path) > MAX_PROJECTION_PATH:
            raise InvalidInput.for_field(field, f"must be a dotted field path of 1 to {MAX_PROJECTION_PATH} characters")
        if not all(part and part.isprintable() for part in path.split(".")):
            raise InvalidInput.for_field(field, "each dot-separated part must be non-empty printable text")
        if path not in cleaned:
            cleaned.append(path)
    return cleaned or None
