"""A brute-force evaluator of the query language over frame documents (plain Python, no SQL): the oracle
the SQL compiler is checked against. It reads luqum's tree and the documented semantics only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from luqum.thread import parse
from luqum.tree import (
    AndOperation,
    Boost,
    FieldGroup,
    From,
    Group,
    Not,
    OrOperation,
    Phrase,
    Plus,
    Prohibit,
    Range,
    SearchField,
    To,
    UnknownOperation,
    Word,
)

COLUMNS = {"id": ("id", "string"), "context_id": ("context_id", "string"), "timestamp": ("timestamp", "number"),
           "saved": ("saved", "date"), "updated": ("saved", "date")}
SOURCE = {"id": "string", "uri": "string", "content_type": "string", "width": "number", "height": "number",
          "timestamp": "number", "preview.uri": "string", "preview.content_type": "string",
          "preview.width": "number", "preview.height": "number", "preview.timestamp": "number"}
ROI = {"label": "strings", "label.keyword": "strings", "confidence": "number", "id": "string", "sources": "strings"}
META = {"string": "string", "number": "number", "boolean": "boolean", "array": "array", "object": "object"}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _text(term) -> str:
    return _unescape(term.value[1:-1] if isinstance(term, Phrase) else term.value)


def _number(text: str) -> float | None:
    if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        return float(text)
    return None


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _get(value: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _wildcard(raw: str) -> re.Pattern | None:
    out, wild, i = [], False, 0
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw):
            out.append(re.escape(raw[i + 1]))
            i += 2
            continue
        if char in "*?":
            wild = True
            out.append(".*" if char == "*" else ".")
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL) if wild else None


_DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2}))?)?)?)?")


def _millis(text: str, up: bool) -> float | None:
    found = _DATE.fullmatch(text)
    if not found:
        return None
    y, mo, d, h, mi, s = found.groups()
    start = datetime(int(y), int(mo), int(d or 1), int(h or 0), int(mi or 0), int(s or 0), tzinfo=UTC)
    if not up:
        return start.timestamp() * 1000
    if s is not None:
        end = start + timedelta(seconds=1)
    elif mi is not None:
        end = start + timedelta(minutes=1)
    elif h is not None:
        end = start + timedelta(hours=1)
    elif d is not None:
        end = start + timedelta(days=1)
    else:
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
    return end.timestamp() * 1000 - 1


class UnknownMetaKey(LookupError):
    """The query names a meta key no frame of the dataset has: the server refuses it."""


class Reference:
    def __init__(self, meta_types: dict[str, str]) -> None:
        self.meta_types = meta_types

    # fields: (type, getter of the values: a list of (value) for "some element" semantics)
    def _field(self, name: str, scope: str):
        if scope == "rois":
            rest = name.removeprefix("rois.")
            return self._element(rest, ROI, "rois", inside=True)
        if scope == "sources":
            rest = name.removeprefix("sources.").removeprefix("source.")
            return self._element(rest, SOURCE, "sources", inside=True)
        if name in COLUMNS:
            key, kind = COLUMNS[name]
            return kind, lambda doc: [doc.get(key)]
        if name.startswith("meta."):
            kind = self.meta_types.get(name[5:])
            if kind is None:
                return "unknown-meta", None
            return META.get(kind, "any"), lambda doc: [_get(doc.get("meta"), name[5:].split("."))]
        for prefix in ("sources.", "source."):
            if name.startswith(prefix):
                return self._element(name[len(prefix):], SOURCE, "sources", inside=False)
        if name.startswith("rois."):
            return self._element(name[5:], ROI, "rois", inside=False)
        if name in ("label", "label.keyword"):
            return self._element(name, ROI, "rois", inside=False)
        raise ValueError(name)

    @staticmethod
    def _element(rest: str, known: dict, collection: str, inside: bool):
        if rest in known:
            kind = known[rest]
            path = ["label"] if rest == "label.keyword" else rest.split(".")
        elif rest.startswith("meta."):
            kind, path = "any", rest.split(".")
        else:
            raise ValueError(rest)
        if inside:
            return kind, lambda element: [_get(element, path)]
        return kind, lambda doc: [_get(el, path) for el in (doc.get(collection) or [])]

    def _defaults(self, scope: str, numeric: bool, boolean: bool) -> list[str]:
        if scope == "rois":
            return ["label.keyword"]
        if scope == "sources":
            return ["id", "uri", "content_type"] + (["width", "height", "timestamp"] if numeric else [])
        names = ["id", "context_id", "rois.label", "sources.id", "sources.uri", "sources.content_type"]
        if numeric:
            names.append("timestamp")
        kinds = {"string", "array", "any"} | ({"number"} if numeric else set()) | ({"boolean"} if boolean else set())
        return names + [f"meta.{p}" for p in sorted(self.meta_types)
                        if META.get(self.meta_types[p], "any") in kinds]

    # --- values ---------------------------------------------------------------------------------------

    @staticmethod
    def _scalar_term(kind: str, value: Any, term) -> bool:
        text = _text(term)
        pattern = _wildcard(term.value) if isinstance(term, Word) else None
        if kind == "any":
            if pattern is not None:
                return isinstance(value, str) and pattern.fullmatch(value) is not None
            number = _number(text)
            return ((isinstance(value, str) and value == text) or (number is not None and _is_num(value)
                    and value == number) or (text.lower() in ("true", "false") and isinstance(value, bool)
                    and value == (text.lower() == "true")))
        if pattern is not None:
            return isinstance(value, str) and pattern.fullmatch(value) is not None
        if kind == "string":
            return isinstance(value, str) and value == text
        if kind == "number":
            return _is_num(value) and value == _number(text)
        if kind == "date":
            number = _number(text)
            low, high = (number, number) if number is not None else (_millis(text, False), _millis(text, True))
            return _is_num(value) and low <= value <= high
        if kind == "boolean":
            return isinstance(value, bool) and value == (text.lower() == "true")
        raise AssertionError(kind)

    @staticmethod
    def _in_range(kind: str, value: Any, low, high, include_low, include_high) -> bool:
        def bound_value(text, up):
            if kind == "string":
                return text + "\U0010ffff" if up and _DATE.fullmatch(text) else text
            if kind == "date":
                number = _number(text)
                return number if number is not None else _millis(text, up)
            return _number(text)
        if kind == "string" and not isinstance(value, str):
            return False
        if kind in ("number", "date") and not _is_num(value):
            return False
        if low is not None:
            bound = bound_value(low, not include_low)
            if not (value >= bound if include_low else value > bound):
                return False
        if high is not None:
            bound = bound_value(high, include_high)
            if not (value <= bound if include_high else value < bound):
                return False
        return True

    @staticmethod
    def _present(value: Any) -> bool:
        return value is not None and value != []

    def _values_match(self, kind: str, values: list, check) -> bool:
        """``check(scalar kind, value)`` on the values, through lists as the field type says."""
        for value in values:
            if kind in ("strings", "array"):
                element_kind = "string" if kind == "strings" else "any"
                if isinstance(value, list) and any(check(element_kind, el) for el in value):
                    return True
            elif kind == "any":
                if check("any", value) or (isinstance(value, list) and any(check("any", el) for el in value)):
                    return True
            elif check(kind, value):
                return True
        return False

    # --- tree -----------------------------------------------------------------------------------------

    def matches(self, doc: dict, query: str | None, scope: str = "frame") -> bool:
        if query is None or not query.strip():
            return True
        tree = parse(query)
        self._refuse_unknown_keys(tree, scope)
        return self._eval(tree, doc, None, scope)

    def _refuse_unknown_keys(self, node, scope) -> None:
        if isinstance(node, SearchField) and node.name != "_exists_" and self._field(node.name, scope)[1] is None:
            raise UnknownMetaKey(node.name)
        for child in node.children:
            self._refuse_unknown_keys(child, scope)

    def _eval(self, node, doc, field, scope) -> bool:
        if isinstance(node, SearchField):
            if node.name == "_exists_":
                kind, get = self._field(_text(node.expr), scope)
                return get is not None and any(self._present(v) for v in get(doc))
            return self._eval(node.expr, doc, node.name, scope)
        if isinstance(node, Group | FieldGroup | Boost):
            return self._eval(node.expr, doc, field, scope)
        if isinstance(node, AndOperation):
            return all(self._eval(c, doc, field, scope) for c in node.operands)
        if isinstance(node, OrOperation):
            return any(self._eval(c, doc, field, scope) for c in node.operands)
        if isinstance(node, UnknownOperation):
            must, should, must_not = [], [], []
            for child in node.operands:
                if isinstance(child, Prohibit | Not):
                    must_not.append(child.a)
                elif isinstance(child, Plus) or scope == "rois":
                    must.append(child)
                else:
                    should.append(child)
            if any(self._eval(c, doc, field, scope) for c in must_not):
                return False
            if not all(self._eval(c, doc, field, scope) for c in must):
                return False
            return bool(must) or not should or any(self._eval(c, doc, field, scope) for c in should)
        if isinstance(node, Not | Prohibit):
            return not self._eval(node.a, doc, field, scope)
        if isinstance(node, Plus):
            return self._eval(node.a, doc, field, scope)
        if isinstance(node, Range | From | To):
            if isinstance(node, Range):
                low, high, il, ih = node.low, node.high, node.include_low, node.include_high
            elif isinstance(node, From):
                low, high, il, ih = node.a, None, node.include, True
            else:
                low, high, il, ih = None, node.a, True, node.include
            low, high = self._bound_text(low), self._bound_text(high)
            kind, get = self._field(field, scope)
            if low is None and high is None:
                return any(self._present(v) for v in get(doc))
            if kind in ("array", "any"):
                numeric = all(b is None or _number(b) is not None for b in (low, high))
                return self._values_match(kind, get(doc), lambda k, v: self._in_range(
                    "number" if numeric else "string", v, low, high, il, ih))
            return self._values_match(kind, get(doc), lambda k, v: self._in_range(
                "string" if k == "string" else k, v, low, high, il, ih))
        if isinstance(node, Word | Phrase):
            if field is None:
                if isinstance(node, Word) and node.value == "*":
                    return True
                text = _text(node)
                names = self._defaults(scope, _number(text) is not None, text.lower() in ("true", "false"))
                return any(self._eval(node, doc, name, scope) for name in names)
            kind, get = self._field(field, scope)
            if isinstance(node, Word) and node.value == "*":
                return any(self._present(v) for v in get(doc))
            return self._values_match(kind, get(doc), lambda k, v: self._scalar_term(k, v, node))
        raise AssertionError(type(node))

    @staticmethod
    def _bound_text(node) -> str | None:
        if node is None or (isinstance(node, Word) and node.value == "*"):
            return None
        if isinstance(node, Prohibit):  # luqum reads the minus of [-1 TO 3] as a prohibition
            return "-" + _text(node.a)
        return _text(node)

    # --- filters --------------------------------------------------------------------------------------

    def roi_matches(self, roi: dict, rule: dict) -> bool:
        """One ROI holds a label rule's label query and confidence range."""
        confidence = roi.get("confidence")
        low, high = rule.get("conf_range") or (None, None)
        low = None if low in (None, -1) else low
        high = None if high in (None, -1) else high
        if (low is not None or high is not None) and not _is_num(confidence):
            return False
        if low is not None and confidence < low or high is not None and confidence > high:
            return False
        return self.matches(roi, rule.get("label"), "rois")

    def rule_matches(self, doc: dict, rule: dict) -> bool:
        count = sum(1 for roi in doc.get("rois") or [] if self.roi_matches(roi, rule))
        if rule.get("must_not"):
            return count == 0
        low, high = rule.get("count_range") or (None, None)
        low = None if low in (None, -1) else low
        high = None if high in (None, -1) else high
        if low is None and high is None:
            return count > 0
        return (1 if low is None else low) <= count and (high is None or count <= high)

    def filter_matches(self, doc: dict, frame_filter: dict) -> bool:
        for text, scope in [(frame_filter.get("frame_query"), "frame"), (frame_filter.get("sources_query"), "sources"),
                            *((r.get("label"), "rois") for r in frame_filter.get("label_rules") or [])]:
            if text is not None and text.strip():
                self._refuse_unknown_keys(parse(text), scope)
        mode = frame_filter.get("filter_by_roi") or ("label_rules" if frame_filter.get("label_rules") else "disabled")
        if mode == "no_rois" and doc.get("rois"):
            return False
        if mode == "label_rules" and not all(self.rule_matches(doc, r) for r in frame_filter.get("label_rules") or []):
            return False
        if not self.matches(doc, frame_filter.get("frame_query")):
            return False
        sources_query = frame_filter.get("sources_query")
        if sources_query is not None and not any(self.matches(s, sources_query, "sources")
                                                 for s in doc.get("sources") or []):
            return False
        return True
