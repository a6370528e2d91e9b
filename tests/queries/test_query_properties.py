"""Random queries, label rules and filters give the same frames from SQL as from the brute-force reference,
over random versions with inheritance (a child that updates and deletes some of its parent's frames)."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperdatasets.exceptions import InvalidInput
from hyperdatasets.queries.fields import MetaSchema
from hyperdatasets.queries.selection import selection_from
from hyperdatasets.queries.syntax import QueryError
from hyperdatasets.selectors.frame_pages import frames_page, frames_query_count
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_delete, frames_upsert
from hyperdatasets.services.versions import version_create, version_publish
from tests.queries.reference import Reference, UnknownMetaKey
from tests.queries.strategies import QUERIES, frame_docs, frame_filters

pytestmark = pytest.mark.django_db(transaction=False)
_names = itertools.count()
PROPERTY_SETTINGS = settings(max_examples=50, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@st.composite
def versions(draw):
    """(root frames, child's replacements, child's deletions)."""
    ids = [f"f{i}" for i in range(draw(st.integers(3, 12)))]
    root = [draw(frame_docs(fid)) for fid in ids]
    replaced = draw(st.lists(st.sampled_from(ids), max_size=4, unique=True))
    deleted = draw(st.lists(st.sampled_from([i for i in ids if i not in replaced] or ids), max_size=2, unique=True))
    updates = [draw(frame_docs(fid)) for fid in replaced]
    added = [draw(frame_docs(f"g{i}")) for i in range(draw(st.integers(0, 3)))]
    return root, updates + added, [d for d in deleted if d not in replaced]


def _build(spec):
    root_frames, child_frames, deleted = spec
    dataset = dataset_create(dataset_name=f"query-prop-{next(_names)}")
    root = version_head(dataset)
    assert frames_upsert(root, root_frames).failures == []
    version_publish(root)
    child = version_create(dataset, version_name="child", parent_version_names=[root.name])
    assert frames_upsert(child, child_frames).failures == []
    frames_delete(child, deleted)
    child.refresh_from_db()
    return child


def _all_frames(version):
    frames, cursor = [], None
    while True:
        page = frames_page(version, cursor=cursor, limit=1000)
        frames += page.frames
        cursor = page.next_cursor
        if cursor is None:
            return frames


def _sql_ids(version, fields, limit=7):
    """Every frame the selection takes, page by page (small pages exercise the cursors)."""
    selection = selection_from([version.dataset_id], fields)
    ids, cursor = [], None
    while True:
        page = frames_page(version, cursor=cursor, limit=limit, selection=selection)
        ids += [f["id"] for f in page.frames]
        cursor = page.next_cursor
        if cursor is None:
            return ids, frames_query_count(version, selection)


@PROPERTY_SETTINGS
@given(spec=versions(), queries=st.lists(QUERIES, min_size=1, max_size=6))
def test_frame_queries_match_the_reference(spec, queries):
    version = _build(spec)
    frames = _all_frames(version)
    reference = Reference(MetaSchema.of([version.dataset_id]).types)
    for query in queries:
        try:
            expected = [f["id"] for f in frames if reference.matches(f, query)]
        except UnknownMetaKey:
            with pytest.raises(QueryError, match="is not a meta key of this dataset"):
                _sql_ids(version, {"query": query})
            continue
        ids, count = _sql_ids(version, {"query": query})
        assert ids == expected, query
        assert count == len(expected), query


@PROPERTY_SETTINGS
@given(spec=versions(), filters=st.lists(st.lists(frame_filters(), min_size=1, max_size=3), min_size=1, max_size=4))
def test_label_rules_and_filters_match_the_reference(spec, filters):
    version = _build(spec)
    frames = _all_frames(version)
    reference = Reference(MetaSchema.of([version.dataset_id]).types)
    for group in filters:
        try:
            expected = [f["id"] for f in frames if any(reference.filter_matches(f, one) for one in group)]
        except UnknownMetaKey:
            with pytest.raises(QueryError, match="is not a meta key of this dataset"):
                _sql_ids(version, {"filters": group})
            continue
        ids, count = _sql_ids(version, {"filters": group})
        assert ids == expected, group
        assert count == len(expected), group


ORDERS = ["id", "-id", "timestamp", "-timestamp", "saved", "width", "-height", "meta.score", "-meta.score",
          "meta.city", "-meta.city", "meta.ok", "-meta.ok", "-context_id"]


def _sort_value(frame, key):
    if key == "id":
        return 0
    if key in ("timestamp", "saved"):
        return frame[key]
    if key in ("width", "height"):
        return frame["sources"][0][key]
    value = (frame.get("meta") or {}).get(key[5:])
    return int(value) if isinstance(value, bool) else value


@PROPERTY_SETTINGS
@given(spec=versions(), order=st.sampled_from(ORDERS), limit=st.integers(1, 5))
def test_orders_page_through_every_frame_in_order(spec, order, limit):
    version = _build(spec)
    frames = _all_frames(version)
    key = order.lstrip("-")
    if key.startswith("meta.") and key[5:] not in MetaSchema.of([version.dataset_id]).types:
        with pytest.raises(InvalidInput, match="is not a meta key of this dataset"):
            _sql_ids(version, {"order_by": order})
        return
    if key == "context_id":
        ordered = frames
    else:
        # Ascending: frames without the key after the others, ties by id; descending is the exact reverse.
        present = [f for f in frames if _sort_value(f, key) is not None]
        missing = [f for f in frames if _sort_value(f, key) is None]
        ordered = (sorted(present, key=lambda f: (_sort_value(f, key), f["id"]))
                   + sorted(missing, key=lambda f: f["id"]))
    expected = [f["id"] for f in (ordered[::-1] if order.startswith("-") else ordered)]
    ids, _count = _sql_ids(version, {"order_by": order}, limit=limit)
    assert ids == expected
