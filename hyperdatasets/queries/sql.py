"""SQL pieces of a query, for PostgreSQL (``jsonb``) and SQLite (JSON1): values are always parameters.

Every predicate is TRUE or FALSE, never NULL (a missing value compares FALSE), so ``NOT`` keeps Lucene's
meaning: ``NOT meta.city:Haifa`` takes the frames without a city too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from string import Formatter
from typing import Any, NamedTuple

import orjson

from hyperdatasets.queries.syntax import ANY_RUN, ONE_CHAR


class Sql(NamedTuple):
    text: str
    params: list[Any]


@dataclass(frozen=True)
class Param:
    value: Any


TRUE, FALSE = Sql("TRUE", []), Sql("FALSE", [])
_FORMATTER = Formatter()


def sql(template: str, **parts: Sql | Param) -> Sql:
    """SQL from a template whose ``{name}`` places are SQL pieces or parameters, params kept in text order."""
    text: list[str] = []
    params: list[Any] = []
    for literal, name, _spec, _conversion in _FORMATTER.parse(template):
        text.append(literal)
        if name is not None:
            part = parts[name]
            if isinstance(part, Sql):
                text.append(part.text)
                params += part.params
            else:
                text.append("%s")
                params.append(part.value)
    return Sql("".join(text), params)


# Operands of one flat AND or OR; more are nested in balanced groups, as SQLite parses a flat chain into a
# tree as deep as it is long and refuses one deeper than 1,000.
FLAT_OPERANDS = 16


def join(pieces: list[Sql], operator: str) -> Sql:
    if not pieces:
        return TRUE if operator == "AND" else FALSE
    if len(pieces) == 1:
        return pieces[0]
    if len(pieces) > FLAT_OPERANDS:
        size = -(-len(pieces) // FLAT_OPERANDS)
        pieces = [join(pieces[i:i + size], operator) for i in range(0, len(pieces), size)]
    return Sql("(" + f" {operator} ".join(p.text for p in pieces) + ")", [x for p in pieces for x in p.params])


def negate(piece: Sql) -> Sql:
    return Sql(f"NOT {piece.text}", piece.params)


# Comparison operators a range uses, by (lower or upper bound, inclusive).
LOWER = {True: ">=", False: ">"}
UPPER = {True: "<=", False: "<"}


@dataclass
class Dialect:
    """Where a query's values are: the frame row ``e`` and, on PostgreSQL, its document parsed once per row
    (``x.d``, added to the query when a condition needs it)."""

    vendor: str
    uses_document: bool = False
    # Whether a label is on few of the version's frames (its label index then serves it on PostgreSQL).
    rare_label: Callable[[str], bool] = lambda label: False
    # The meta equalities every frame the condition takes must satisfy (its ANDed ``meta`` terms, outside
    # any OR or NOT): PostgreSQL's GIN index on ``meta`` finds the candidate rows from them.
    required_meta: list[Sql] = field(default_factory=list)
    _optional: int = 0
    _aliases: itertools.count = field(default_factory=itertools.count)

    @property
    def pg(self) -> bool:
        return self.vendor == "postgresql"

    def alias(self) -> str:
        return f"q{next(self._aliases)}"

    def document(self) -> Slot:
        self.uses_document = True
        return JsonSlot(self, Sql("x.d" if self.pg else "e.document", []), [])

    def meta(self) -> Slot:
        return JsonSlot(self, Sql("e.meta", []), [])

    def column(self, expr: str, kind: str) -> Slot:
        return ColumnSlot(self, expr, kind)

    @contextmanager
    def optional(self) -> Iterator[None]:
        """Conditions compiled inside are not required of every frame taken (an operand of OR, a NOT)."""
        self._optional += 1
        try:
            yield
        finally:
            self._optional -= 1

    def labels_contain(self, label: str) -> Sql:
        """Some ROI of the frame has the label, from the row's ``labels`` (no document parsed): on
        PostgreSQL ``@>`` (GIN-indexed) for a rare label and ``?`` for a common one (the page-order walk),
        on SQLite the ``FrameLabel`` rows."""
        if self.pg:
            if self.rare_label(label):
                return Sql("e.labels::jsonb @> %s::jsonb", [orjson.dumps([label]).decode()])
            return Sql("e.labels::jsonb ? %s", [label])
        return Sql("EXISTS (SELECT 1 FROM hyperdatasets_framelabel k WHERE k.dataset_id = e.dataset_id AND "
                   "k.frame_id = e.frame_id AND k.version_id = e.version_id AND k.label = %s)", [label])

    def label_count(self, label: str) -> Sql:
        """How many of the frame's ROIs have the label, from the row's ``labels`` (each ROI's labels once
        per ROI): no document parsed."""
        alias = self.alias()
        if self.pg:
            return Sql(f"(SELECT count(*) FROM jsonb_array_elements_text(e.labels::jsonb) AS {alias}(v) "
                       f"WHERE {alias}.v = %s)", [label])
        return Sql(f"(SELECT count(*) FROM json_each(e.labels) AS {alias} WHERE {alias}.type = 'text' "
                   f"AND {alias}.value = %s)", [label])

    def meta_equals(self, path: list[str], value: str | float | bool) -> Sql:
        """PostgreSQL: ``meta`` holds the scalar at the path (one containment test, no path walk)."""
        nested: object = value
        for key in reversed(path):
            nested = {key: nested}
        piece = Sql("e.meta @> %s::jsonb", [orjson.dumps(nested).decode()])
        if not self._optional:
            self.required_meta.append(piece)
        return piece

    def collate(self) -> str:
        """Byte (code point) order for strings, as Python and SQLite's BINARY compare them."""
        return ' COLLATE "C"' if self.pg else ""

    def like(self, parts: list[str | None]) -> tuple[str, str]:
        """(operator, pattern) for wildcard parts: PostgreSQL ``LIKE`` with ``\\`` escapes, SQLite ``GLOB``
        (case-sensitive, as Lucene is; SQLite's LIKE is not)."""
        out = []
        for part in parts:
            if part is ANY_RUN:
                out.append("%" if self.pg else "*")
            elif part == ONE_CHAR:
                out.append("_" if self.pg else "?")
            elif self.pg:
                out.append(part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
            else:
                out.append("".join(f"[{c}]" if c in "*?[" else c for c in part))
        return ("LIKE" if self.pg else "GLOB"), "".join(out)

    def elements(self, array: Slot, alias: str) -> Sql:
        """A FROM item: the elements of a JSON array (none when the value is no array)."""
        if self.pg:
            return sql("jsonb_array_elements(CASE WHEN jsonb_typeof({v}) = 'array' THEN {v} END) AS " + alias
                       + "(value)", v=array.value())
        return sql("json_each({b}, {p}) AS " + alias, b=array.base, p=Param(array.json_path()))

    def array_guard(self, array: Slot) -> Sql:
        """SQLite's json_each also walks a lone scalar: the value must be an array (PostgreSQL's CASE does it)."""
        return TRUE if self.pg else array.is_kind("array")

    def any_element(self, array: Slot, predicate) -> Sql:
        """Some element of the array satisfies ``predicate(element slot)``."""
        alias = self.alias()
        element = ElementSlot(self, alias)
        return sql("({g} AND EXISTS (SELECT 1 FROM {items} WHERE {cond}))", g=self.array_guard(array),
                   items=self.elements(array, alias), cond=predicate(element))

    def element_indexes(self, array: Slot, predicate) -> Sql:
        """The indexes (from 0, ascending) of the array's elements that satisfy ``predicate``: a JSON list."""
        alias = self.alias()
        element = ElementSlot(self, alias)
        if self.pg:
            return sql("(SELECT COALESCE(jsonb_agg(" + alias + ".o - 1 ORDER BY " + alias + ".o), '[]'::jsonb) "
                       "FROM jsonb_array_elements(CASE WHEN jsonb_typeof({v}) = 'array' THEN {v} END) "
                       "WITH ORDINALITY AS " + alias + "(value, o) WHERE {cond})", v=array.value(),
                       cond=predicate(element))
        return sql("(SELECT json_group_array(" + alias + ".key) FROM {items} WHERE {g} AND {cond})",
                   items=self.elements(array, alias), g=self.array_guard(array), cond=predicate(element))

    def count_elements(self, array: Slot, predicate) -> Sql:
        alias = self.alias()
        element = ElementSlot(self, alias)
        return sql("(SELECT count(*) FROM {items} WHERE {g} AND {cond})", items=self.elements(array, alias),
                   g=self.array_guard(array), cond=predicate(element))


_SQLITE_KINDS = {"string": ("text",), "number": ("integer", "real"), "boolean": ("true", "false"),
                 "array": ("array",), "object": ("object",), "null": ("null",)}


class Slot:
    """A value in the frame row: a column, a JSON path, or an element of a JSON array."""

    dialect: Dialect

    def is_kind(self, *kinds: str) -> Sql:
        raise NotImplementedError

    def value(self) -> Sql:
        raise NotImplementedError

    def text(self) -> Sql:
        raise NotImplementedError

    def number(self) -> Sql:
        raise NotImplementedError

    def child(self, path: list[str]) -> Slot:
        raise NotImplementedError

    # --- predicates (TRUE or FALSE, never NULL) ---------------------------------------------------------

    def string_compare(self, operator: str, value: str) -> Sql:
        collate = self.dialect.collate() if operator not in ("=", "<>") else ""
        return sql("COALESCE({k} AND {t}" + collate + f" {operator} " + "{x}, FALSE)",
                   k=self.is_kind("string"), t=self.text(), x=Param(value))

    def string_like(self, parts: list[str | None]) -> Sql:
        operator, pattern = self.dialect.like(parts)
        return sql("COALESCE({k} AND {t} " + operator + " {x}, FALSE)", k=self.is_kind("string"), t=self.text(),
                   x=Param(pattern))

    def number_compare(self, operator: str, value: float) -> Sql:
        return sql(f"COALESCE({{n}} {operator} {{x}}, FALSE)", n=self.number(), x=Param(value))

    def boolean_is(self, value: bool) -> Sql:
        raise NotImplementedError

    def present(self) -> Sql:
        raise NotImplementedError


class ColumnSlot(Slot):
    def __init__(self, dialect: Dialect, expr: str, kind: str) -> None:
        self.dialect, self.expr, self.kind = dialect, expr, kind

    def is_kind(self, *kinds: str) -> Sql:
        return TRUE if self.kind in kinds else FALSE

    def value(self) -> Sql:
        return Sql(self.expr, [])

    text = number = value

    def present(self) -> Sql:
        return TRUE


class JsonSlot(Slot):
    """A JSON path under a JSON value (``jsonb`` on PostgreSQL, JSON text on SQLite)."""

    def __init__(self, dialect: Dialect, base: Sql, path: list[str | int]) -> None:
        self.dialect, self.base, self.path = dialect, base, path  # an int is an array index, a str a key

    def child(self, path: list[str | int]) -> Slot:
        return JsonSlot(self.dialect, self.base, [*self.path, *path])

    def json_path(self) -> str:
        return "$" + "".join(f"[{key}]" if isinstance(key, int) else f'."{key}"' for key in self.path)

    def value(self) -> Sql:
        if self.dialect.pg:
            if not self.path:
                return self.base
            return sql("({b} #> {p}::text[])", b=self.base, p=Param([str(key) for key in self.path]))
        return sql("json_extract({b}, {p})", b=self.base, p=Param(self.json_path()))

    def _type(self) -> Sql:
        if self.dialect.pg:
            return sql("jsonb_typeof({v})", v=self.value())
        return sql("json_type({b}, {p})", b=self.base, p=Param(self.json_path()))

    def is_kind(self, *kinds: str) -> Sql:
        names = kinds if self.dialect.pg else tuple(n for k in kinds for n in _SQLITE_KINDS[k])
        return sql("COALESCE({t} IN (" + ", ".join(f"'{n}'" for n in names) + "), FALSE)", t=self._type())

    def text(self) -> Sql:
        return sql("({v} #>> '{{}}')", v=self.value()) if self.dialect.pg else self.value()

    def number(self) -> Sql:
        if self.dialect.pg:
            return sql("(CASE WHEN jsonb_typeof({v}) = 'number' THEN ({v})::float8 END)", v=self.value())
        return sql("(CASE WHEN {k} THEN {v} END)", k=self.is_kind("number"), v=self.value())

    def boolean_is(self, value: bool) -> Sql:
        if self.dialect.pg:
            return sql("COALESCE({v} = {x}::jsonb, FALSE)", v=self.value(), x=Param("true" if value else "false"))
        return sql("COALESCE({t} = {x}, FALSE)", t=self._type(), x=Param("true" if value else "false"))

    def present(self) -> Sql:
        """Not missing, not null and not an empty array (what Elasticsearch's ``exists`` finds)."""
        if self.dialect.pg:
            return sql("COALESCE(jsonb_typeof({v}) <> 'null' AND {v} <> '[]'::jsonb, FALSE)", v=self.value())
        return sql("COALESCE({t} <> 'null' AND ({t} <> 'array' OR json_array_length({b}, {p}) > 0), FALSE)",
                   t=self._type(), b=self.base, p=Param(self.json_path()))


class ElementSlot(Slot):
    """An element of a JSON array being walked (``alias.value``; on SQLite ``alias.type`` says its type)."""

    def __init__(self, dialect: Dialect, alias: str) -> None:
        self.dialect, self.alias = dialect, alias
        self.json = JsonSlot(dialect, Sql(f"{alias}.value", []), [])

    def child(self, path: list[str]) -> Slot:
        if not path:
            return self
        return self.json.child(path)

    def is_kind(self, *kinds: str) -> Sql:
        if self.dialect.pg:
            return self.json.is_kind(*kinds)
        names = [n for k in kinds for n in _SQLITE_KINDS[k]]
        return Sql(f"{self.alias}.type IN (" + ", ".join(f"'{n}'" for n in names) + ")", [])

    def value(self) -> Sql:
        return self.json.value()

    def text(self) -> Sql:
        return self.json.text() if self.dialect.pg else Sql(f"{self.alias}.value", [])

    def number(self) -> Sql:
        if self.dialect.pg:
            return self.json.number()
        return sql("(CASE WHEN {k} THEN " + f"{self.alias}.value END)", k=self.is_kind("number"))

    def boolean_is(self, value: bool) -> Sql:
        if self.dialect.pg:
            return self.json.boolean_is(value)
        return Sql(f"{self.alias}.type = %s", ["true" if value else "false"])

    def present(self) -> Sql:
        if self.dialect.pg:
            return self.json.present()
        return Sql(f"({self.alias}.type <> 'null' AND ({self.alias}.type <> 'array' "
                   f"OR json_array_length({self.alias}.value) > 0))", [])
