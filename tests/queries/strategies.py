"""Random frames and random queries from the language's grammar, for the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

CITIES = ["Haifa", "Tel Aviv", "haifa", "Eilat", "Ako", "Zürich", "b*c"]
LABELS = ["car", "person", "Bus Stop", "blue", "Car"]
TAGS = ["x", "y", "night", 3, 7]
DATES = ["2024-10-19", "2024-10-20", "2024-10-20T08:30:00", "2024-10-21T23:59:59", "2024-10-30T12:00:00",
         "2024-11-01"]


def _maybe(strategy):
    return st.one_of(st.none(), strategy)


@st.composite
def frame_docs(draw, frame_id: str):
    meta = {}
    for key, strategy in (("city", st.sampled_from(CITIES)), ("score", st.one_of(st.integers(-3, 10),
                                                                                  st.sampled_from([0.5, 2.5, 9.75]))),
                          ("ok", st.booleans()), ("tags", st.lists(st.sampled_from(TAGS), max_size=3)),
                          ("when", st.sampled_from(DATES)), ("obj", st.fixed_dictionaries({"k": st.sampled_from(
                              ["a", "b"])}))):
        value = draw(_maybe(strategy))
        if value is not None:
            meta[key] = value
    sources = [{"id": "default", "uri": f"s3://b/{draw(st.sampled_from(['a', 'ab', 'b']))}/{frame_id}.jpg",
                "width": draw(st.sampled_from([320, 640, 1920])), "height": 480}]
    if draw(st.booleans()):
        sources[0]["id"] = "front"
        sources.append({"id": "rear", "uri": f"gs://c/{frame_id}.png", "width": 100, "height": 100,
                        "meta": {"angle": draw(st.sampled_from([0, 45, 90]))}})
    source_ids = [s["id"] for s in sources]
    rois = []
    for _ in range(draw(st.integers(0, 4))):
        roi = {"label": draw(st.lists(st.sampled_from(LABELS), min_size=0, max_size=2, unique=True)),
               "sources": [draw(st.sampled_from(source_ids))], "poly": [0, 0, 10, 0, 10, 10, 0, 10]}
        confidence = draw(_maybe(st.sampled_from([0.1, 0.5, 0.85, 0.9, 1])))
        if confidence is not None:
            roi["confidence"] = confidence
        roi_meta = {}
        if draw(st.booleans()):
            roi_meta["occluded"] = draw(st.booleans())
        if draw(st.booleans()):
            roi_meta["n"] = draw(st.integers(0, 5))
        if roi_meta:
            roi["meta"] = roi_meta
        rois.append(roi)
    doc = {"id": frame_id, "sources": sources, "rois": rois, "meta": meta,
           "context_id": draw(st.sampled_from(["ctx-a", "ctx-b"])), "timestamp": draw(st.sampled_from([0, 5, 10]))}
    return doc


def _phrase_or_word(text: str) -> str:
    if any(c in text for c in ' *?:"()[]{}\\/+-!^~&|'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _range(low: str, high: str, include_low: bool, include_high: bool) -> str:
    return f"{'[' if include_low else '{'}{low} TO {high}{']' if include_high else '}'}"


NUMBERS = ["-1", "0", "2.5", "3", "7", "10"]

ATOMS = st.one_of(
    st.sampled_from(CITIES).map(lambda c: f"meta.city:{_phrase_or_word(c)}"),
    st.sampled_from(["H*", "*a", "?ko", "Tel*", "b\\*c", "Z*"]).map(lambda p: f"meta.city:{p}"),
    st.tuples(st.sampled_from(["*", *NUMBERS]), st.sampled_from(["*", *NUMBERS]), st.booleans(),
              st.booleans()).map(lambda t: f"meta.score:{_range(*t)}"),
    st.tuples(st.sampled_from([">", ">=", "<", "<="]), st.sampled_from(NUMBERS)).map(
        lambda t: f"meta.score:{t[0]}{t[1]}".replace("-", "\\-")),  # luqum reads >-1 only escaped
    st.sampled_from(NUMBERS).map(lambda n: f"meta.score:{n}"),
    st.sampled_from(["true", "false"]).map(lambda b: f"meta.ok:{b}"),
    st.sampled_from(["x", "night", "3", "7", "n*"]).map(lambda t: f"meta.tags:{t}"),
    st.tuples(st.sampled_from(["*", "2024-10-20", "2024-10-20T08:00:00", "2024-10"]),
              st.sampled_from(["*", "2024-10-21", "2024-10-30", "2024-10-20T09:00:00"]), st.booleans(),
              st.booleans()).map(lambda t: f"meta.when:{_range(*t)}"),
    st.sampled_from(["a", "b"]).map(lambda v: f"meta.obj.k:{v}"),
    st.sampled_from(LABELS).map(lambda lab: f"rois.label:{_phrase_or_word(lab)}"),
    st.sampled_from(LABELS).map(lambda lab: f"label:{_phrase_or_word(lab)}"),
    st.tuples(st.sampled_from(["0", "0.5", "0.9"]), st.sampled_from(["0.85", "1", "*"]), st.booleans(),
              st.booleans()).map(lambda t: f"rois.confidence:{_range(*t)}"),
    st.sampled_from(["true", "false"]).map(lambda b: f"rois.meta.occluded:{b}"),
    st.sampled_from([">2", "3", "[1 TO 4}"]).map(lambda v: f"rois.meta.n:{v}"),
    st.sampled_from(["front", "rear", "default"]).map(lambda s: f"sources.id:{s}"),
    st.sampled_from(["s3\\://b/a*", "*.png", "gs\\://c/*", "s3\\://b/a?/*"]).map(lambda u: f"sources.uri:{u}"),
    st.sampled_from([">500", "[100 TO 640]", "1920"]).map(lambda w: f"sources.width:{w}"),
    st.sampled_from(["45", "[1 TO 90]"]).map(lambda a: f"sources.meta.angle:{a}"),
    st.sampled_from(["meta.tags", "meta.city", "meta.obj", "meta.obj.k", "rois.meta.n", "sources.meta.angle",
                     "meta.nothing"]).map(lambda f: f"_exists_:{f}"),
    st.sampled_from(["ctx-a", "ctx-*"]).map(lambda c: f"context_id:{c}"),
    st.sampled_from(["[0 TO 5]", "10", ">0"]).map(lambda t: f"timestamp:{t}"),
    st.sampled_from(["f1", "f2", "f*"]).map(lambda i: f"id:{i}"),
    st.sampled_from(["car", "Haifa", "night", "3", '"Bus Stop"', "true"]),
    st.just("meta.city:(Haifa OR \"Tel Aviv\")"),
    st.just("saved:[2020-01-01 TO *]"),
)


def _combine(children):
    return st.one_of(
        st.tuples(children, children).map(lambda t: f"({t[0]} AND {t[1]})"),
        st.tuples(children, children).map(lambda t: f"({t[0]} OR {t[1]})"),
        children.map(lambda c: f"NOT ({c})"),
        st.tuples(children, children).map(lambda t: f"({t[0]} -({t[1]}))"),
        st.tuples(children, children).map(lambda t: f"(+({t[0]}) {t[1]})"),
        st.tuples(children, children).map(lambda t: f"({t[0]} {t[1]})"),
    )


QUERIES = st.recursive(ATOMS, _combine, max_leaves=5)

LABEL_QUERIES = st.one_of(
    st.sampled_from(LABELS).map(_phrase_or_word),
    st.tuples(st.sampled_from(LABELS), st.sampled_from(LABELS)).map(
        lambda t: f"{_phrase_or_word(t[0])} {_phrase_or_word(t[1])}"),
    st.tuples(st.sampled_from(LABELS), st.sampled_from(LABELS)).map(
        lambda t: f"{_phrase_or_word(t[0])} OR {_phrase_or_word(t[1])}"),
    st.sampled_from(["c*", "label:car AND meta.occluded:true", "NOT person", "rois.meta.n:>1", "sources:rear"]),
)


@st.composite
def label_rules(draw):
    rule = {}
    if draw(st.booleans()):
        rule["label"] = draw(LABEL_QUERIES)
    if draw(st.booleans()):
        low = draw(st.sampled_from([-1, 0, 1, 2]))
        rule["count_range"] = [low, draw(st.sampled_from([-1, max(low, 1), max(low, 3)]))]
    if draw(st.booleans()):
        rule["conf_range"] = draw(st.sampled_from([[0.8, 1], [0, 0.5], [-1, 0.9], [0.9, -1]]))
    if draw(st.integers(0, 3)) == 0:
        rule["must_not"] = True
    return rule


@st.composite
def frame_filters(draw):
    frame_filter = {}
    mode = draw(st.sampled_from([None, "label_rules", "no_rois", "disabled"]))
    if mode:
        frame_filter["filter_by_roi"] = mode
    if mode in (None, "label_rules") and draw(st.booleans()):
        frame_filter["label_rules"] = draw(st.lists(label_rules(), min_size=1, max_size=3))
    if draw(st.booleans()):
        frame_filter["frame_query"] = draw(QUERIES)
    if draw(st.integers(0, 2)) == 0:
        frame_filter["sources_query"] = draw(st.sampled_from(
            ["id:front AND width:>500", "uri:gs\\://*", "sources.meta.angle:45", "rear", "width:[100 TO 320]"]))
    return frame_filter
