"""Any text as a query, label rule, filter list or order: a page and a count, or a refusal that names the
field (InvalidInput, a 400); never a database error."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.queries.selection import selection_from
from hyperdatasets.selectors.frame_pages import frames_page, frames_query_count
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from tests.factories import frame

pytestmark = pytest.mark.django_db
_names = itertools.count()

PIECES = ["meta.city", "meta.n", "meta.ok", "meta.o", "meta.o.k", "rois.label", "rois.confidence", "sources.uri",
          "sources.meta.a", "rois.meta.b", "label", "id", "saved", "timestamp", "_exists_", ":", "(", ")", "[", "]",
          "{", "}", " TO ", " AND ", " OR ", " NOT ", "-", "+", "*", "?", '"', "\\", "/", "~", "^", ">", ">=", "<",
          "2024-10-20", "2024-13-45T99", "1e400", "-0", "0.5", "x", "é", "\x00", "'", ";", "%", "_", "'; DROP"]
TEXT = st.one_of(st.lists(st.sampled_from(PIECES), max_size=12).map("".join), st.text(max_size=40))


@pytest.fixture
def version():
    dataset = dataset_create(dataset_name=f"fuzz-{next(_names)}")
    head = version_head(dataset)
    frames_upsert(head, [frame("a", labels=[["car"]], meta={"city": "Haifa", "n": 1, "ok": True, "o": {"k": "v"}}),
                         frame("b", meta={"city": "Eilat", "n": 2.5})])
    return head


def _run(version, fields):
    try:
        selection = selection_from([version.dataset_id], fields)
        frames_page(version, limit=5, selection=selection)
        frames_query_count(version, selection)
    except InvalidInput as exc:
        assert exc.details and all(isinstance(v, list) for v in exc.details.values())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, where=st.sampled_from(["query", "sources_query", "order_by", "label", "filters"]))
def test_any_text_answers_or_is_refused(version, text, where):
    if where == "label":
        _run(version, {"label_rules": [{"label": text, "count_range": [1, 3]}]})
    elif where == "filters":
        _run(version, {"filters": text})
        _run(version, {"filters": [{"frame_query": text, "sources_query": text}]})
    else:
        _run(version, {where: text})


def test_huge_queries_are_refused_or_answered(version):
    _run(version, {"query": " OR ".join(f"meta.city:c{i}" for i in range(1500))})
    _run(version, {"query": " ".join(["Haifa"] * 400)})
    _run(version, {"query": "NOT " * 200 + "a"})
    _run(version, {"query": "(" * 3000 + "a" + ")" * 3000})
