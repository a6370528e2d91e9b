"""Frame filters as ClearML has them: ROI label rules, a frame query and a source query in one filter (all
ANDed), several filters ORed.

A label rule: ``{label: Lucene over one ROI (default field label.keyword, default operator AND),
count_range: [min, max] (-1 open), conf_range: [min, max], must_not: bool}``. Each rule of a filter is
satisfied by some ROI of the frame (different rules by different ROIs); the labels of one rule must be on the
same ROI; ``count_range`` bounds the number of ROIs that satisfy the rule; ``must_not``: no ROI does.
``filter_by_roi``: ``label_rules`` (the default when there are rules), ``no_rois`` (frames without ROIs) or
``disabled``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from luqum.tree import Item

from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.queries.compiler import compile_query, required_labels, single_label
from hyperdatasets.queries.fields import MetaSchema, Scope
from hyperdatasets.queries.sql import TRUE, Dialect, Slot, Sql, join, negate
from hyperdatasets.queries.syntax import parse

FILTER_BY_ROI = ("label_rules", "no_rois", "disabled")
MAX_FILTERS = 32
MAX_LABEL_RULES = 32
LABEL_RULE_KEYS = {"label", "count_range", "conf_range", "must_not"}
FILTER_KEYS = {"filter_by_roi", "label_rules", "frame_query", "sources_query"}


@dataclass
class LabelRule:
    label: Item | None
    field: str  # where it came from, for errors
    count_range: tuple[int | None, int | None] = (None, None)
    conf_range: tuple[float | None, float | None] = (None, None)
    must_not: bool = False


@dataclass
class FrameFilter:
    filter_by_roi: str = "disabled"
    label_rules: list[LabelRule] = field(default_factory=list)
    frame_query: Item | None = None
    sources_query: Item | None = None
    # The request fields the queries came from, for errors.
    frame_query_field: str = "frame_query"
    sources_query_field: str = "sources_query"


def _range_pair(value: Any, name: str, integer: bool) -> tuple[Any, Any]:
    """``[min, max]``, -1 (or null) for an open side."""
    if value is None:
        return None, None
    kind = "integers" if integer else "numbers from 0 to 1"
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InvalidInput.for_field(name, f"must be [min, max] ({kind}, -1 for an open side)")
    pair = []
    for item in value:
        if item is None or item == -1:
            pair.append(None)
            continue
        valid = (type(item) is int and item >= 0) if integer else (
            type(item) in (int, float) and 0 <= item <= 1)
        if not valid:
            raise InvalidInput.for_field(name, f"must be [min, max] ({kind}, -1 for an open side)")
        pair.append(item)
    if pair[0] is not None and pair[1] is not None and pair[0] > pair[1]:
        raise InvalidInput.for_field(name, "min must not be above max")
    return pair[0], pair[1]


def _object(value: Any, name: str, keys: set[str], extra: set[str]) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput.for_field(name, "must be an object")
    unknown = sorted(set(value) - keys - extra)
    if unknown:
        raise InvalidInput.for_field(name, f"unknown keys {unknown}; known: {sorted(keys)}")
    return value


def label_rule_from(value: Any, name: str) -> LabelRule:
    rule = _object(value, name, LABEL_RULE_KEYS, set())
    must_not = rule.get("must_not", False)
    if type(must_not) is not bool:
        raise InvalidInput.for_field(f"{name}.must_not", "must be true or false")
    label = rule.get("label")
    return LabelRule(parse(label, f"{name}.label") if label is not None else None, f"{name}.label",
                     _range_pair(rule.get("count_range"), f"{name}.count_range", True),
                     _range_pair(rule.get("conf_range"), f"{name}.conf_range", False), must_not)


def frame_filter_from(value: Any, name: str, extra_keys: set[str] = frozenset(),
                      aliases: dict[str, str] | None = None) -> FrameFilter:
    """A filter from its JSON (``extra_keys``: keys the caller reads itself, a dataview rule's weight, say).
    Errors name the fields as ``name.<key>`` (just ``<key>`` without a name; ``aliases`` renames keys)."""
    data = _object(value, name or "filter", FILTER_KEYS, set(extra_keys))

    def where(key: str) -> str:
        key = (aliases or {}).get(key, key)
        return f"{name}.{key}" if name else key

    rules_value = data.get("label_rules") or []
    if not isinstance(rules_value, list) or len(rules_value) > MAX_LABEL_RULES:
        raise InvalidInput.for_field(where("label_rules"), f"must be a list of at most {MAX_LABEL_RULES} rules")
    rules = [label_rule_from(rule, f"{where('label_rules')}[{i}]") for i, rule in enumerate(rules_value)]
    mode = data.get("filter_by_roi") or ("label_rules" if rules else "disabled")
    if mode not in FILTER_BY_ROI:
        raise InvalidInput.for_field(where("filter_by_roi"), f"must be one of {', '.join(FILTER_BY_ROI)}")
    queries = {}
    for key in ("frame_query", "sources_query"):
        text = data.get(key)
        queries[key] = parse(text, where(key)) if text is not None else None
    return FrameFilter(mode, rules, queries["frame_query"], queries["sources_query"], where("frame_query"),
                       where("sources_query"))


def frame_filters_from(value: Any, name: str = "filters", extra_keys: set[str] = frozenset()) -> list[FrameFilter]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_FILTERS:
        raise InvalidInput.for_field(name, f"must be a list of 1 to {MAX_FILTERS} filters")
    return [frame_filter_from(item, f"{name}[{i}]", extra_keys) for i, item in enumerate(value)]


# --- SQL -------------------------------------------------------------------------------------------------


def _roi_predicate(dialect: Dialect, schema: MetaSchema, rule: LabelRule):
    low, high = rule.conf_range

    def predicate(roi: Slot) -> Sql:
        pieces = [compile_query(dialect, Scope("rois", schema), rule.field, rule.label, element=roi)]
        confidence = roi.child(["confidence"])
        if low is not None:
            pieces.append(confidence.number_compare(">=", low))
        if high is not None:
            pieces.append(confidence.number_compare("<=", high))
        return join(pieces, "AND")
    return predicate


def _label_rule_sql(dialect: Dialect, schema: MetaSchema, rule: LabelRule) -> Sql:
    low, high = rule.count_range
    label = single_label(rule.label) if rule.conf_range == (None, None) else None
    if label is not None:
        # One plain label and no confidence range: the row's labels answer, without the document.
        if rule.must_not:
            return negate(dialect.labels_contain(label))
        if low is None and high is None or (low == 1 and high is None):
            return dialect.labels_contain(label)
        low = 1 if low is None else low
        count = dialect.label_count(label)
        counted = (Sql(f"{count.text} >= %s", [*count.params, low]) if high is None
                   else Sql(f"{count.text} BETWEEN %s AND %s", [*count.params, low, high]))
        return join([dialect.labels_contain(label), counted], "AND") if low > 0 else counted
    rois = dialect.document().child(["rois"])
    predicate = _roi_predicate(dialect, schema, rule)
    if rule.must_not:
        return negate(dialect.any_element(rois, predicate))
    # The rule's plain labels, checked first from the row's labels: most frames go without a document read.
    needed = [dialect.labels_contain(label) for label in dict.fromkeys(required_labels(rule.label))]
    if low is None and high is None or (low == 1 and high is None):
        return join([Sql("e.roi_count > 0", []), *needed, dialect.any_element(rois, predicate)], "AND")
    # An open minimum is 1: an include rule needs some ROI; an explicit 0 takes frames with none too.
    low = 1 if low is None else low
    count = dialect.count_elements(rois, predicate)
    if high is None:
        counted = Sql(f"{count.text} >= %s", [*count.params, low])
    else:
        counted = Sql(f"{count.text} BETWEEN %s AND %s", [*count.params, low, high])
    return join([*needed, counted], "AND") if low > 0 else counted


def roi_indexes_sql(dialect: Dialect, schema: MetaSchema, frame_filter: FrameFilter) -> Sql | None:
    """The indexes of the frame's ROIs the filter's label rules matched (some include rule holds on the ROI),
    as a JSON list; None when the filter picks no ROIs (disabled, or only ``must_not`` rules)."""
    if frame_filter.filter_by_roi == "no_rois":
        return Sql("'[]'::jsonb" if dialect.pg else "'[]'", [])
    include = [rule for rule in frame_filter.label_rules if not rule.must_not]
    if frame_filter.filter_by_roi != "label_rules" or not include:
        return None
    predicates = [_roi_predicate(dialect, schema, rule) for rule in include]
    rois = dialect.document().child(["rois"])
    return dialect.element_indexes(rois, lambda roi: join([p(roi) for p in predicates], "OR"))


def frame_filter_sql(dialect: Dialect, schema: MetaSchema, frame_filter: FrameFilter) -> Sql:
    pieces: list[Sql] = []
    if frame_filter.filter_by_roi == "no_rois":
        pieces.append(Sql("e.roi_count = 0", []))
    elif frame_filter.filter_by_roi == "label_rules":
        pieces += [_label_rule_sql(dialect, schema, rule) for rule in frame_filter.label_rules]
    if frame_filter.frame_query is not None:
        pieces.append(compile_query(dialect, Scope("frame", schema), frame_filter.frame_query_field,
                                    frame_filter.frame_query))
    if frame_filter.sources_query is not None:
        sources = dialect.document().child(["sources"])
        scope = Scope("sources", schema)
        field_name = frame_filter.sources_query_field
        pieces.append(dialect.any_element(sources, lambda source: compile_query(
            dialect, scope, field_name, frame_filter.sources_query, element=source)))
    return join(pieces, "AND") if pieces else TRUE


def frame_filters_sql(dialect: Dialect, schema: MetaSchema, filters: list[FrameFilter]) -> Sql:
    """The filters ORed: a frame passes when one of them takes it."""
    if len(filters) == 1:
        return frame_filter_sql(dialect, schema, filters[0])
    with dialect.optional():
        return join([frame_filter_sql(dialect, schema, f) for f in filters], "OR") if filters else TRUE
