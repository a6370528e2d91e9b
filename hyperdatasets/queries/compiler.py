"""A parsed query (luqum's tree) to one SQL condition on the frame row ``e``.

Boolean logic as Elasticsearch's ``query_string`` has it: ``AND``, ``OR``, ``NOT``, ``+`` (must), ``-``
(must not); terms side by side take the default operator (``OR``, or ``AND`` in a label rule), and with
the default ``OR`` a ``+`` term is required and the others only score (so they filter nothing), as in a
Lucene boolean query. ``AND`` binds tighter than ``OR`` (luqum's precedence).

A term on a field of the frame's ROIs or sources (``rois.confidence:[0.9 TO 1]``) is satisfied by some ROI or
source; two such terms may be satisfied by different ones (object arrays in Elasticsearch). A label rule
and a source query run over one ROI or one source: all their terms on the same one.
"""

from __future__ import annotations

from collections.abc import Callable

from luqum.tree import (
    AndOperation,
    BaseApprox,
    Boost,
    FieldGroup,
    From,
    Group,
    Item,
    Not,
    OrOperation,
    Phrase,
    Plus,
    Prohibit,
    Range,
    Regex,
    SearchField,
    To,
    UnknownOperation,
    Word,
)

from hyperdatasets.queries.fields import ANY, ARRAY, BOOLEAN, DATE, NUMBER, OBJECT, STRING, STRINGS, FieldRef, Scope
from hyperdatasets.queries.sql import (
    FALSE,
    LOWER,
    TRUE,
    UPPER,
    Dialect,
    Slot,
    Sql,
    join,
    negate,
)
from hyperdatasets.queries.syntax import (
    MAX_DEPTH,
    MAX_TERMS,
    ROUND_UP_SUFFIX,
    QueryError,
    date_millis,
    is_date,
    number_value,
    term_text,
    wildcard_parts,
)

Predicate = Callable[[Slot], Sql]
# The fields of a frame's labels: a plain term on them is answered from the row's labels.
LABEL_FIELDS = ("rois.label", "rois.label.keyword", "label", "label.keyword")


def _position(node: Item) -> int:
    return getattr(node, "pos", None) or 0


class Compiler:
    """Compiles queries of one scope; ``element`` is the ROI or source a label rule or source query runs on."""

    def __init__(self, dialect: Dialect, scope: Scope, field: str, element: Slot | None = None) -> None:
        self.dialect, self.scope, self.field, self.element = dialect, scope, field, element
        self.terms = 0

    def _count_terms(self, node: Item, count: int) -> None:
        self.terms += count
        if self.terms > MAX_TERMS:
            raise self._error(node, f"compiles to more than {MAX_TERMS} conditions (a term without a field "
                                    "searches every string field); name fields or split the query")

    def compile(self, tree: Item | None) -> Sql:
        return TRUE if tree is None else self._node(tree, None, 0)

    def _error(self, node: Item, reason: str) -> QueryError:
        return QueryError(self.field, _position(node), reason)

    # --- structure -----------------------------------------------------------------------------------------

    def _node(self, node: Item, ref: FieldRef | None, depth: int) -> Sql:
        if depth > MAX_DEPTH:
            raise self._error(node, f"nests more than {MAX_DEPTH} levels deep")
        depth += 1
        if isinstance(node, SearchField):
            return self._search_field(node, ref, depth)
        if isinstance(node, Group | FieldGroup):
            return self._node(node.expr, ref, depth)
        if isinstance(node, AndOperation):
            return join([self._node(child, ref, depth) for child in node.operands], "AND")
        if isinstance(node, OrOperation):
            with self.dialect.optional():
                return join([self._node(child, ref, depth) for child in node.operands], "OR")
        if isinstance(node, UnknownOperation):
            return self._implicit(node, ref, depth)
        if isinstance(node, Not | Prohibit):
            with self.dialect.optional():
                return negate(self._node(node.a, ref, depth))
        if isinstance(node, Plus):
            return self._node(node.a, ref, depth)
        if isinstance(node, Boost):  # scoring only
            return self._node(node.expr, ref, depth)
        if isinstance(node, Regex):
            raise self._error(node, "regular expressions are not supported; use the wildcards * and ?")
        if isinstance(node, BaseApprox):
            raise self._error(node, "fuzzy and proximity searches (~) are not supported")
        if isinstance(node, Range):
            return self._range(node, ref, self._bound(node.low), self._bound(node.high),
                               node.include_low, node.include_high)
        if isinstance(node, From):
            return self._range(node, ref, self._bound(node.a), None, node.include, True)
        if isinstance(node, To):
            return self._range(node, ref, None, self._bound(node.a), True, node.include)
        if isinstance(node, Word | Phrase):
            return self._term(node, ref)
        raise self._error(node, f"{type(node).__name__} is not supported here")

    def _implicit(self, node: UnknownOperation, ref: FieldRef | None, depth: int) -> Sql:
        """Terms side by side: a Lucene boolean query of must, should and must-not clauses."""
        must, should, must_not = [], [], []
        for child in node.operands:
            if isinstance(child, Prohibit | Not):
                with self.dialect.optional():
                    must_not.append(self._node(child.a, ref, depth))
            elif isinstance(child, Plus) or self.scope.default_operator == "AND":
                must.append(self._node(child, ref, depth))
            else:
                with self.dialect.optional():
                    should.append(self._node(child, ref, depth))
        pieces = list(must)
        if should and not must:
            pieces.append(join(should, "OR"))
        if must_not:
            pieces.append(negate(join(must_not, "OR")))
        return join(pieces, "AND")

    def _search_field(self, node: SearchField, outer: FieldRef | None, depth: int) -> Sql:
        if outer is not None:
            raise self._error(node, f"field {node.name!r} inside the field group of {outer.name!r}")
        if node.name == "_exists_":
            if not isinstance(node.expr, Word | Phrase):
                raise self._error(node, "_exists_ takes a field name, e.g. _exists_:meta.weather")
            name = term_text(node.expr)
            found = self.scope.resolve(name)
            if isinstance(found, str):  # a meta key no frame of the dataset has
                return FALSE
            if found is None:
                raise self._unknown(node, name)
            return self._on(found, lambda slot: slot.present())
        found = self.scope.resolve(node.name)
        if isinstance(found, str):
            raise self._error(node, found)
        if found is None:
            raise self._unknown(node, node.name)
        if '"' in node.name:
            raise self._error(node, "a field name cannot hold a double quote")
        return self._node(node.expr, found, depth)

    def _unknown(self, node: Item, name: str) -> QueryError:
        return self._error(node, f"unknown field {name!r} (fields: id, context_id, timestamp, saved, updated, "
                                 "meta.<key>, sources.<field>, rois.<field>; see the dataset's schema)")

    def _on(self, ref: FieldRef, predicate: Predicate) -> Sql:
        """``predicate`` on the field's value; on a field of the ROIs or sources, on some ROI or source."""
        if ref.where == "column":
            return predicate(self.dialect.column(ref.path[0], "number" if ref.type in (NUMBER, DATE) else "string"))
        if ref.where == "meta":
            return predicate(self.dialect.meta().child(list(ref.path)))
        if self.element is not None:
            return predicate(self.element.child(list(ref.path)))
        items = self.dialect.document().child([ref.where])
        return self.dialect.any_element(items, lambda element: predicate(element.child(list(ref.path))))

    # --- terms ---------------------------------------------------------------------------------------------

    def _term(self, node: Word | Phrase, ref: FieldRef | None) -> Sql:
        text = term_text(node)
        if ref is None:
            if isinstance(node, Word) and node.value == "*":
                return TRUE
            numeric, boolean = number_value(text) is not None, text.lower() in ("true", "false")
            fields = self.scope.default_fields(numeric, boolean)
            with self.dialect.optional():
                return join([self._term(node, field) for field in fields], "OR")
        self._count_terms(node, 1)
        if isinstance(node, Word) and node.value == "*":
            return self._on(ref, lambda slot: slot.present())
        parts = wildcard_parts(node) if isinstance(node, Word) else None
        kind = ref.type
        if parts is None and ref.name in LABEL_FIELDS and self.element is None:
            return self.dialect.labels_contain(text)
        if parts is None and ref.where == "meta" and self.dialect.pg and kind in (STRING, NUMBER, BOOLEAN):
            value = self._scalar(node, ref, text)
            return self.dialect.meta_equals(list(ref.path), value)
        if kind == OBJECT:
            raise self._error(node, f"{ref.name} is an object: name a key inside it, or use _exists_")
        if parts is not None:
            if kind in (NUMBER, DATE, BOOLEAN):
                raise self._error(node, f"wildcards apply to strings; {ref.name} is a {kind}")

            def predicate(slot: Slot) -> Sql:
                return slot.string_like(parts)
        elif kind in (STRING, STRINGS):
            def predicate(slot: Slot) -> Sql:
                return slot.string_compare("=", text)
        elif kind == NUMBER:
            number = self._scalar(node, ref, text)

            def predicate(slot: Slot) -> Sql:
                return slot.number_compare("=", number)
        elif kind == DATE:
            low, high = self._date_span(node, ref, text)

            def predicate(slot: Slot) -> Sql:
                return join([slot.number_compare(">=", low), slot.number_compare("<=", high)], "AND")
        elif kind == BOOLEAN:
            truth = self._scalar(node, ref, text)

            def predicate(slot: Slot) -> Sql:
                return slot.boolean_is(truth)
        else:
            predicate = self._untyped_term(text)
        return self._on(ref, self._through_lists(kind, predicate))

    def _scalar(self, node: Item, ref: FieldRef, text: str) -> str | float | bool:
        """The term's value for a typed field (refused when it is not of the field's type)."""
        if ref.type == NUMBER:
            number = number_value(text)
            if number is None:
                raise self._error(node, f"{ref.name} is a number; {text!r} is not a number")
            return number
        if ref.type == BOOLEAN:
            if text.lower() not in ("true", "false"):
                raise self._error(node, f"{ref.name} is a boolean; {text!r} is neither true nor false")
            return text.lower() == "true"
        return text

    def _untyped_term(self, text: str) -> Predicate:
        """A term on JSON of any type: a string equal to the text, a number equal to it, or a boolean."""
        number = number_value(text)

        def predicate(slot: Slot) -> Sql:
            pieces = [slot.string_compare("=", text)]
            if number is not None:
                pieces.append(slot.number_compare("=", number))
            if text.lower() in ("true", "false"):
                pieces.append(slot.boolean_is(text.lower() == "true"))
            return join(pieces, "OR")
        return predicate

    def _through_lists(self, kind: str, predicate: Predicate) -> Predicate:
        """A list field matches when one of its elements does; an untyped value when it or an element does."""
        if kind in (STRINGS, ARRAY):
            return lambda slot: self.dialect.any_element(slot, predicate)
        if kind == ANY:
            return lambda slot: join([predicate(slot), self.dialect.any_element(slot, predicate)], "OR")
        return predicate

    def _date_span(self, node: Item, ref: FieldRef, text: str) -> tuple[float, float]:
        number = number_value(text)
        if number is not None:
            return number, number
        low, high = date_millis(text, False), date_millis(text, True)
        if low is None or high is None:
            raise self._error(node, f"{ref.name} is a date; {text!r} is neither epoch milliseconds nor an ISO date")
        return low, high

    # --- ranges --------------------------------------------------------------------------------------------

    @staticmethod
    def _bound(node: Item) -> tuple[Item, str] | None:
        if isinstance(node, Word) and node.value == "*":
            return None
        if isinstance(node, Prohibit | Plus) and isinstance(node.a, Word):
            # luqum reads the minus of [-1 TO 3] as a prohibition
            return node, node.op + term_text(node.a)
        if not isinstance(node, Word | Phrase):
            return node, None
        return node, term_text(node)

    def _range(self, node: Item, ref: FieldRef | None, low, high, include_low: bool, include_high: bool) -> Sql:
        if ref is None:
            raise self._error(node, "a range needs a field, e.g. meta.score:[1 TO 5]")
        for bound in (low, high):
            if bound is not None and bound[1] is None:
                raise self._error(bound[0], "a range bound must be a value or *")
        self._count_terms(node, 1)
        if low is None and high is None:
            return self._on(ref, lambda slot: slot.present())
        kind = ref.type
        if kind in (OBJECT, BOOLEAN):
            raise self._error(node, f"{ref.name} is a {kind}: it has no range")
        if kind in (ARRAY, ANY):
            numeric = all(b is None or number_value(b[1]) is not None for b in (low, high))
            scalar = NUMBER if numeric else STRING
        else:
            scalar = STRING if kind == STRINGS else kind
        limits = [(low, LOWER[include_low], not include_low), (high, UPPER[include_high], include_high)]
        checks: list[tuple[str, object]] = []
        for bound, operator, round_up in limits:
            if bound is None:
                continue
            bound_node, text = bound
            if scalar == STRING:
                # A date bound rounded up takes every text it begins: [2024-10-20 TO 2024-10-30] takes
                # "2024-10-30T12:00:00".
                checks.append((operator, text + ROUND_UP_SUFFIX if round_up and is_date(text) else text))
            elif scalar == NUMBER:
                number = number_value(text)
                if number is None:
                    raise self._error(bound_node, f"{ref.name} is a number; {text!r} is not a number")
                checks.append((operator, number))
            else:  # DATE
                number = number_value(text)
                millis = number if number is not None else date_millis(text, round_up)
                if millis is None:
                    raise self._error(bound_node, f"{ref.name} is a date; {text!r} is neither epoch milliseconds "
                                                  "nor an ISO date")
                checks.append((operator, millis))

        def predicate(slot: Slot) -> Sql:
            if scalar == STRING:
                return join([slot.string_compare(op, value) for op, value in checks], "AND")
            return join([slot.number_compare(op, value) for op, value in checks], "AND")
        return self._on(ref, self._through_lists(kind, predicate))


def compile_query(dialect: Dialect, scope: Scope, field: str, tree: Item | None,
                  element: Slot | None = None) -> Sql:
    return Compiler(dialect, scope, field, element).compile(tree)


def required_labels(tree: Item | None) -> list[str]:
    """Labels a ROI must have to satisfy a label rule's query (its plain label terms that are ANDed at
    the top): a frame without all of them in its labels cannot satisfy the rule. Others: none known."""
    if tree is None:
        return []
    if isinstance(tree, Group):
        return required_labels(tree.expr)
    if isinstance(tree, SearchField):
        if tree.name.removeprefix("rois.") in ("label", "label.keyword") and isinstance(tree.expr, Word | Phrase):
            return required_labels(tree.expr)
        return []
    if isinstance(tree, Word | Phrase):
        return [term_text(tree)] if not (isinstance(tree, Word) and wildcard_parts(tree) is not None) else []
    if isinstance(tree, AndOperation | UnknownOperation):  # side by side is AND in a label rule
        return [label for child in tree.operands if not isinstance(child, Prohibit | Not)
                for label in required_labels(child.a if isinstance(child, Plus) else child)]
    return []



def single_label(tree: Item | None) -> str | None:
    """The label when a label rule's query is exactly one plain label (``car``, ``"Bus Stop"``,
    ``label.keyword:car``): a ROI satisfies it when it has that label, which the row's labels tell."""
    while isinstance(tree, Group):
        tree = tree.expr
    if isinstance(tree, SearchField):
        if tree.name.removeprefix("rois.") not in ("label", "label.keyword"):
            return None
        tree = tree.expr
    if isinstance(tree, Phrase) or (isinstance(tree, Word) and wildcard_parts(tree) is None):
        return term_text(tree)
    return None
