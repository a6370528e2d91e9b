"""The candidate-first plan of a page (PostgreSQL): a query's required meta equalities find candidate rows
through the GIN index on ``meta``; the page then comes from them, in page order. It must take exactly the
frames the page-order walk takes, and only the meta terms every taken frame satisfies may narrow it."""

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from hyperdatasets.queries.fields import MetaSchema, Scope
from hyperdatasets.queries.filters import frame_filters_from, frame_filters_sql
from hyperdatasets.queries.selection import selection_from
from hyperdatasets.queries.sql import Dialect
from hyperdatasets.queries.syntax import parse
from hyperdatasets.selectors import frame_pages
from hyperdatasets.selectors.frame_pages import frames_page
from tests.queries.reference import Reference, UnknownMetaKey
from tests.queries.strategies import CITIES, QUERIES
from tests.queries.test_query_properties import PROPERTY_SETTINGS, _all_frames, _build, _sql_ids, versions

pytestmark = pytest.mark.django_db(transaction=False)
SCHEMA = MetaSchema({"city": "string", "score": "number", "ok": "boolean", "tags": "array"})


def _required(query: str) -> list[str]:
    from hyperdatasets.queries.compiler import compile_query

    dialect = Dialect("postgresql")
    compile_query(dialect, Scope("frame", SCHEMA), "query", parse(query, "query"))
    return [piece.params[0] for piece in dialect.required_meta]


@pytest.mark.parametrize(("query", "required"), [
    ("meta.city:Haifa", ['{"city":"Haifa"}']),
    ("meta.city:Haifa AND rois.confidence:[0.9 TO 1]", ['{"city":"Haifa"}']),
    ("meta.city:Haifa AND (meta.score:3 AND meta.ok:true)", ['{"city":"Haifa"}', '{"score":3.0}', '{"ok":true}']),
    ("meta.city:Haifa OR rois.confidence:[0.9 TO 1]", []),
    ("meta.city:(Haifa OR Eilat)", []),
    ("NOT meta.city:Haifa", []),
    ("rois.label:car -meta.city:Haifa", []),
    ("+meta.city:Haifa meta.ok:true", ['{"city":"Haifa"}']),
    ("meta.city:Haifa meta.ok:true", []),
    ("Haifa", []),
    ("meta.city:H*", []),
])
def test_only_the_meta_terms_every_taken_frame_satisfies_are_required(query, required):
    assert _required(query) == required


def test_filters_ored_require_nothing_and_one_filter_requires_its_terms():
    dialect = Dialect("postgresql")
    frame_filters_sql(dialect, SCHEMA, frame_filters_from([{"frame_query": "meta.city:Haifa"},
                                                           {"frame_query": "meta.city:Eilat"}]))
    assert dialect.required_meta == []
    frame_filters_sql(dialect, SCHEMA, frame_filters_from([{"frame_query": "meta.city:Haifa AND rois.label:car"}]))
    assert [p.params[0] for p in dialect.required_meta] == ['{"city":"Haifa"}']


@pytest.fixture
def plans(monkeypatch):
    """Counts the pages served by the candidate-first plan."""
    taken = []
    original = frame_pages._candidate_rows

    def spy(*args, **kwargs):
        taken.append(True)
        return original(*args, **kwargs)

    monkeypatch.setattr(frame_pages, "_candidate_rows", spy)
    return taken


def test_a_meta_and_roi_query_pages_from_the_candidates_in_order_both_ways(plans):
    """On PostgreSQL from the candidates, each page; on SQLite (no GIN index) from the walk: the same pages."""
    frames = [{"id": f"f{i:03d}", "context_id": f"ctx-{i % 7}", "timestamp": i,
               "sources": [{"id": "default", "uri": f"s3://b/{i}.jpg"}],
               "rois": [{"label": ["car"], "poly": [0, 0, 1, 0, 1, 1], "confidence": 0.95 if i % 3 else 0.5}],
               "meta": {"city": "Haifa" if i % 2 else "Eilat"}} for i in range(120)]
    child = _build((frames, [dict(frames[5], meta={"city": "Eilat"}), dict(frames[8], meta={"city": "Haifa"})],
                    ["f011"]))
    expected = sorted((f for f in _all_frames(child)
                       if f["meta"].get("city") == "Haifa" and f["rois"][0]["confidence"] >= 0.9),
                      key=lambda f: (f["context_id"], f["timestamp"], f["id"]))
    selection = selection_from([child.dataset_id], {"query": "meta.city:Haifa AND rois.confidence:[0.9 TO 1]"})
    ids, cursor = [], None
    while True:
        page = frames_page(child, cursor=cursor, limit=6, selection=selection)
        ids += [f["id"] for f in page.frames]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert ids == [f["id"] for f in expected] and len(ids) > 30
    assert "f008" in ids and "f005" not in ids and "f011" not in ids
    assert len(plans) == (-(-len(ids) // 6) if connection.vendor == "postgresql" else 0)
    middle = frames_page(child, limit=6, selection=selection).next_cursor
    back = frames_page(child, cursor=middle, limit=6, selection=selection, backward=True)
    assert [f["id"] for f in back.frames] == ids[:5][::-1]


@PROPERTY_SETTINGS
@given(spec=versions(), city=st.sampled_from(CITIES), query=QUERIES)
def test_meta_term_and_any_query_match_the_reference(spec, city, query):
    version = _build(spec)
    reference = Reference(MetaSchema.of([version.dataset_id]).types)
    full = f'meta.city:"{city}" AND ({query})'
    try:
        expected = [f["id"] for f in _all_frames(version) if reference.matches(f, full)]
    except UnknownMetaKey:
        return
    ids, count = _sql_ids(version, {"query": full})
    assert ids == expected, full
    assert count == len(expected), full
