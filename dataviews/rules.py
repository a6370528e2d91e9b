"""A dataview's rules as SQL: for each input version, its resolved frames with a ``mask`` of the rules that take
each one (bit ``r`` for rule ``r``), built from the query engine's filters and the version's frame rows
(``hyperdatasets.selectors.frame_pages.frame_rows``). Counts and iteration snapshots read the same rows.

A dataview without filter rules takes every frame of its inputs (one rule: every dataset, every version).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dataviews import spec
from hyperdatasets.queries.fields import MetaSchema
from hyperdatasets.queries.filters import FrameFilter, frame_filter_from, frame_filter_sql, roi_indexes_sql
from hyperdatasets.queries.sql import Dialect, Sql
from hyperdatasets.selectors.frame_pages import frame_rows, version_dialect

EVERY_FRAME = {"dataset": spec.ANY, "version": spec.ANY, "weight": 1}


@dataclass
class Rule:
    index: int
    frame_filter: FrameFilter
    weight: float
    inputs: list[int]  # indexes into the dataview's inputs
    schema: MetaSchema


def recipe_rules(filters: list[dict[str, Any]], inputs: list[spec.Input]) -> list[Rule]:
    """The stored filter rules (or the one rule that takes every frame), with the inputs each applies to."""
    rules = []
    for index, stored in enumerate(filters or [EVERY_FRAME]):
        applies = [k for k, i in enumerate(inputs)
                   if stored["dataset"] in (spec.ANY, i.dataset_id) and stored["version"] in (spec.ANY, i.version_id)]
        frame_filter = frame_filter_from(stored, f"filters[{index}]", spec.RULE_KEYS)
        schema = MetaSchema.of(sorted({inputs[k].dataset_id for k in applies}))
        rules.append(Rule(index, frame_filter, stored.get("weight", 1), applies, schema))
    return rules


def _masked_rows(inputs: list[spec.Input], rules: list[Rule], every: bool = False) -> Sql | None:
    """``SELECT rid, ctx, ts, fid, vi, mask``: every input's frames some rule takes (UNION ALL), or None; with
    ``every``, all of the inputs' frames, mask 0 for those no rule takes. The mask is computed once a row: a
    filter on it would otherwise copy the whole expression into the scan's condition."""
    selects = []
    for k, entry in enumerate(inputs):
        applying = [rule for rule in rules if k in rule.inputs]
        if not applying:
            continue
        dialect = version_dialect(entry.version)
        conditions = [frame_filter_sql(dialect, rule.schema, rule.frame_filter) for rule in applying]
        rows = frame_rows(entry.version, dialect)  # after compiling: it reads whether the document is used
        mask = Sql(" + ".join(f"CASE WHEN {c.text} THEN {1 << rule.index} ELSE 0 END"
                              for c, rule in zip(conditions, applying, strict=True)),
                   [p for c in conditions for p in c.params])
        row = (f"SELECT e.id AS rid, e.context_id AS ctx, e.timestamp AS ts, e.frame_id AS fid, {k} AS vi, "
               f"({mask.text}) AS mask{rows.text}")
        if every:
            selects.append(Sql(row, [*mask.params, *rows.params]))
        else:
            fence = " OFFSET 0" if dialect.pg else " LIMIT -1 OFFSET 0"  # not flattened into the filter
            selects.append(Sql(f"SELECT * FROM ({row}{fence}) z{k} WHERE z{k}.mask <> 0",
                               [*mask.params, *rows.params]))
    if not selects:
        return None
    return Sql(" UNION ALL ".join(s.text for s in selects), [p for s in selects for p in s.params])


@dataclass
class Counts:
    """``rule_counts``: the frames each rule takes on its own; ``sizes``: the items each rule holds in an
    iteration (a frame several rules take belongs to the first); ``total``: the items, each counted once."""

    rule_counts: list[int]
    sizes: list[int]
    total: int


def counts_from_masks(masks: list[tuple[int, int]], rule_count: int) -> Counts:
    """The counts from the number of items of each mask (mask 0, frames no rule takes, is left out)."""
    rule_counts, sizes = [0] * rule_count, [0] * rule_count
    total = 0
    for mask, count in masks:
        if not mask:
            continue
        total += count
        first = (mask & -mask).bit_length() - 1
        sizes[first] += count
        for r in range(rule_count):
            if mask >> r & 1:
                rule_counts[r] += count
    return Counts(rule_counts, sizes, total)


def count_sql(inputs: list[spec.Input], rules: list[Rule]) -> Sql | None:
    """The items of each mask, over every frame of the inputs (mask 0 included: grouping on the mask alone
    computes it once a row, and leaves the scan free to run in parallel workers)."""
    rows = _masked_rows(inputs, rules, every=True)
    if rows is None:
        return None
    return Sql(f"SELECT u.mask, count(*) FROM ({rows.text}) u GROUP BY u.mask", rows.params)


def snapshot_sql(iteration_id: Any, inputs: list[spec.Input], rules: list[Rule], vendor: str) -> Sql | None:
    """The INSERT of an iteration's items: ``seq`` in (context_id, timestamp, frame id, input) order (code
    point order on both databases), each item's first rule and its place among that rule's items."""
    rows = _masked_rows(inputs, rules)
    if rows is None:
        return None
    collate = ' COLLATE "C"' if vendor == "postgresql" else ""
    order = f"w.ctx{collate}, w.ts, w.fid{collate}, w.vi"
    first = "CASE " + " ".join(f"WHEN u.mask & {1 << r.index} <> 0 THEN {r.index}" for r in rules) + " END"
    return Sql(
        "INSERT INTO dataviews_dataviewitem (iteration_id, seq, rule, rule_pos, frame_row, input_index, mask) "
        f"SELECT %s, row_number() OVER (ORDER BY {order}) - 1, w.rule, "
        f"row_number() OVER (PARTITION BY w.rule ORDER BY {order}) - 1, w.rid, w.vi, w.mask "
        f"FROM (SELECT u.*, {first} AS rule FROM ({rows.text}) u) w",
        [iteration_id, *rows.params])


def roi_choice_sql(rules: list[Rule], vendor: str) -> Sql:
    """Per item row (``i`` the item, ``e`` its frame row, ``x.d`` its document on PostgreSQL), the indexes of
    the ROIs its rule matched: JSON, null for every ROI (a rule without label rules)."""
    dialect = Dialect(vendor)
    whens = []
    for rule in rules:
        indexes = roi_indexes_sql(dialect, rule.schema, rule.frame_filter)
        if indexes is not None:
            whens.append(Sql(f"WHEN {rule.index} THEN {indexes.text}", indexes.params))
    if not whens:
        return Sql("NULL", [])
    return Sql(f"CASE i.rule {' '.join(w.text for w in whens)} END", [p for w in whens for p in w.params])

