"""The fields a query names, their types and where their values are.

Types: ``string`` (compared exactly, as Elasticsearch's ``keyword``), ``number``, ``date`` (epoch
milliseconds, also compared with ISO dates), ``boolean``, ``strings`` (a list of strings: a term matches
any of them), ``array`` and ``any`` (JSON of any type, matched by the term's own type: numbers against
numbers, text against strings), ``object`` (not comparable; ``_exists_`` only). A frame's ``meta`` keys
have the type the dataset's writes recorded (one JSON type per key path); ``sources.meta`` and
``rois.meta`` are untyped (``any``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hyperdatasets.models import DatasetMetaField

STRING, NUMBER, DATE, BOOLEAN, STRINGS, ARRAY, ANY, OBJECT = (
    "string", "number", "date", "boolean", "strings", "array", "any", "object")
META_TYPES = {"string": STRING, "number": NUMBER, "boolean": BOOLEAN, "array": ARRAY, "object": OBJECT}

# Frame columns: (SQL expression on the row ``e``, type). ``updated`` is ``saved``: every write of a frame
# stores it anew.
COLUMNS = {"id": ("e.frame_id", STRING), "context_id": ("e.context_id", STRING), "timestamp": ("e.timestamp", NUMBER),
           "saved": ("e.saved", DATE), "updated": ("e.saved", DATE)}
SOURCE_FIELDS = {"id": STRING, "uri": STRING, "content_type": STRING, "width": NUMBER, "height": NUMBER,
                 "timestamp": NUMBER, "preview.uri": STRING, "preview.content_type": STRING,
                 "preview.width": NUMBER, "preview.height": NUMBER, "preview.timestamp": NUMBER}
ROI_FIELDS = {"label": STRINGS, "label.keyword": STRINGS, "confidence": NUMBER, "id": STRING, "sources": STRINGS}
ROI_PATHS = {"label.keyword": ["label"]}


@dataclass(frozen=True)
class FieldRef:
    """A resolved field: ``where`` is ``column`` (``path`` holds the SQL expression), ``meta`` (a path in the
    row's meta), or ``rois`` / ``sources`` (a path inside one element of that list)."""

    name: str
    type: str
    where: str
    path: tuple[Any, ...]


class MetaSchema:
    """The meta key paths of a dataset (or of several) and their types."""

    def __init__(self, types: dict[str, str]) -> None:
        self.types = types

    @classmethod
    def of(cls, dataset_ids: list[Any]) -> MetaSchema:
        rows = DatasetMetaField.objects.filter(dataset_id__in=dataset_ids).values_list("path", "type")
        types: dict[str, str] = {}
        for path, kind in rows:
            # Datasets of one query may disagree on a key's type: it is then compared as untyped JSON.
            types[path] = kind if types.get(path, kind) == kind else "any"
        return cls(types)

    def type_of(self, path: str) -> str | None:
        kind = self.types.get(path)
        return None if kind is None else META_TYPES.get(kind, ANY)


def _element_field(collection: str, rest: str, known: dict[str, str]) -> FieldRef | None:
    if rest in known:
        return FieldRef(f"{collection}.{rest}", known[rest], collection, tuple(ROI_PATHS.get(rest, rest.split("."))))
    if rest.startswith("meta.") and len(rest) > 5:
        return FieldRef(f"{collection}.{rest}", ANY, collection, tuple(rest.split(".")))
    return None


class Scope:
    """Which document a query runs over: ``frame`` (a frame query), or one ROI (``rois``, a label rule) or
    one source (``sources``, a source query) of a frame."""

    def __init__(self, kind: str, schema: MetaSchema) -> None:
        self.kind = kind
        self.schema = schema

    @property
    def default_operator(self) -> str:
        return "AND" if self.kind == "rois" else "OR"

    def resolve(self, name: str) -> FieldRef | None | str:
        """The field, None when no such field exists, or a reason it cannot be compared."""
        if self.kind == "rois":
            rest = name.removeprefix("rois.")
            return _element_field("rois", rest, ROI_FIELDS)
        if self.kind == "sources":
            rest = name.removeprefix("sources.").removeprefix("source.")
            return _element_field("sources", rest, SOURCE_FIELDS)
        if name in COLUMNS:
            expr, kind = COLUMNS[name]
            return FieldRef(name, kind, "column", (expr,))
        if name.startswith("meta.") and len(name) > 5:
            path = name[5:]
            kind = self.schema.type_of(path)
            if kind is None:
                return f"{name} is not a meta key of this dataset"
            return FieldRef(name, kind, "meta", tuple(path.split(".")))
        for prefix in ("sources.", "source."):
            if name.startswith(prefix):
                return _element_field("sources", name[len(prefix):], SOURCE_FIELDS)
        if name.startswith("rois."):
            return _element_field("rois", name[5:], ROI_FIELDS)
        if name in ("label", "label.keyword"):
            return _element_field("rois", name, ROI_FIELDS)
        return None

    def default_fields(self, numeric: bool, boolean: bool) -> list[FieldRef]:
        """The fields a term without a field searches: Elasticsearch's ``*`` (every field of the term's
        kind); a label rule searches ``label.keyword``."""
        if self.kind == "rois":
            return [self.resolve("label.keyword")]
        if self.kind == "sources":
            names = ["id", "uri", "content_type"] + (["width", "height", "timestamp"] if numeric else [])
            return [self.resolve(n) for n in names]
        names = ["id", "context_id", "rois.label", "sources.id", "sources.uri", "sources.content_type"]
        if numeric:
            names.append("timestamp")
        kinds = {STRING, ARRAY, ANY} | ({NUMBER} if numeric else set()) | ({BOOLEAN} if boolean else set())
        names += [f"meta.{path}" for path in sorted(self.schema.types) if self.schema.type_of(path) in kinds]
        return [self.resolve(n) for n in names]


def frame_schema(schema: MetaSchema) -> dict[str, Any]:
    """Every field a frame query can name, with its type, and the dataset's meta keys."""
    fields = [{"path": name, "type": kind} for name, (_expr, kind) in COLUMNS.items()]
    fields += [{"path": f"sources.{name}", "type": kind} for name, kind in SOURCE_FIELDS.items()]
    fields.append({"path": "sources.meta.*", "type": ANY})
    fields += [{"path": f"rois.{name}", "type": kind} for name, kind in ROI_FIELDS.items()]
    fields.append({"path": "rois.meta.*", "type": ANY})
    meta = [{"path": f"meta.{path}", "type": schema.type_of(path)} for path in sorted(schema.types)]
    return {"fields": fields + meta, "meta": meta}
