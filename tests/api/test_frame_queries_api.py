"""The frames list and count with queries, label rules, filters and orders; the schema; every error case."""

from urllib.parse import urlencode

import orjson
import pytest

from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db

FRAMES = [
    {"id": "h1", "sources": [{"id": "default", "uri": "s3://b/city/h1.jpg", "width": 1920, "height": 1080}],
     "meta": {"city": "Haifa", "score": 9, "updated": "2024-10-25T10:00:00", "night": False},
     "rois": [{"label": ["car"], "confidence": 0.95, "poly": [0, 0, 5, 0, 5, 5, 0, 5]},
              {"label": ["car", "partly_occluded"], "confidence": 0.5, "poly": [0, 0, 5, 0, 5, 5, 0, 5]},
              {"label": ["person"], "confidence": 0.99, "poly": [0, 0, 5, 0, 5, 5, 0, 5]}]},
    {"id": "t1", "sources": [{"id": "default", "uri": "s3://b/city/t1.jpg", "width": 640, "height": 480}],
     "meta": {"city": "Tel Aviv", "score": 2.5, "updated": "2024-10-30T23:00:00", "night": True},
     "rois": [{"label": ["car"], "confidence": 0.7, "poly": [0, 0, 5, 0, 5, 5, 0, 5]}]},
    {"id": "e1", "sources": [{"id": "front", "uri": "gs://c/e1.png", "width": 100, "height": 100},
                             {"id": "rear", "uri": "gs://c/e1r.png", "width": 3000, "height": 2000}],
     "meta": {"city": "Eilat", "updated": "2024-11-02"}, "rois": []},
]


@pytest.fixture
def version(clients, dataset):
    head = clients["write"].get(f"/api/datasets/{dataset.pk}/head/").json()
    response = clients["write"].post(f"/api/versions/{head['id']}/frames/", orjson.dumps({"frames": FRAMES}),
                                     content_type="application/json")
    assert response.json()["saved"] == 3
    return head["id"]


def _ids(client, version, **params):
    response = client.get(f"/api/versions/{version}/frames/?" + urlencode(params))
    assert response.status_code == 200, response.content
    return [f["id"] for f in response.json()["frames"]]


def _count(client, version, **params):
    response = client.get(f"/api/versions/{version}/frames/count/?" + urlencode(params))
    assert response.status_code == 200, response.content
    return response.json()["count"]


@pytest.mark.parametrize(("query", "expected"), [
    ('meta.city:(Haifa OR "Tel Aviv")', ["h1", "t1"]),
    ("meta.city:haifa", []),  # keyword semantics: exact, case-sensitive
    ("meta.score:[3 TO *]", ["h1"]),
    ("meta.score:{* TO 9}", ["t1"]),
    ("meta.updated:[2024-10-20 TO 2024-10-30]", ["h1", "t1"]),  # the 30th, all of it
    ("meta.updated:[2024-10-20 TO 2024-10-30}", ["h1"]),
    ("meta.updated:[2024-10-25T08:00:00 TO 2024-10-25T10:00:00]", ["h1"]),
    ("meta.night:true", ["t1"]),
    ("_exists_:meta.score", ["h1", "t1"]),
    ("NOT _exists_:meta.score", ["e1"]),
    ("sources.uri:s3\\://b/city/*", ["h1", "t1"]),
    ("sources.uri:*.pn?", ["e1"]),
    ("sources.width:>2000", ["e1"]),
    ("rois.confidence:[0.9 TO 1]", ["h1"]),
    ("rois.label:person AND rois.confidence:[0.9 TO 1]", ["h1"]),
    ("label.keyword:car -meta.city:Haifa", ["t1"]),
    ("car Eilat", ["e1", "h1", "t1"]),  # default field *, default operator OR
    ("+car Haifa", ["h1", "t1"]),  # + must; the other only scores
    ("id:h1 OR id:e1", ["e1", "h1"]),
    ("context_id:gs*", ["e1"]),
])
def test_queries(clients, version, query, expected):
    client = clients["read"]
    assert _ids(client, version, query=query) == expected
    assert _count(client, version, query=query) == len(expected)


def test_label_rules_same_roi_counts_confidence_and_must_not(clients, version):
    client = clients["read"]

    def rules(*items, **extra):
        return {"label_rules": orjson.dumps(list(items)).decode(), **extra}

    # Labels of one rule on the same ROI: only h1 has a ROI that is car and partly_occluded.
    assert _ids(client, version, **rules({"label": "car partly_occluded"})) == ["h1"]
    assert _ids(client, version, **rules({"label": "car person"})) == []
    # Rules ANDed, each satisfied by some ROI.
    assert _ids(client, version, **rules({"label": "car"}, {"label": "person"})) == ["h1"]
    assert _ids(client, version, **rules({"label": "car", "count_range": [2, 4]})) == ["h1"]
    assert _ids(client, version, **rules({"label": "car", "count_range": [-1, 1]})) == ["t1"]
    assert _ids(client, version, **rules({"label": "car", "conf_range": [0.9, 1]})) == ["h1"]
    assert _ids(client, version, **rules({"label": "person", "must_not": True})) == ["e1", "t1"]
    assert _ids(client, version, **rules({"label": "car"}, query="meta.score:<5")) == ["t1"]
    assert _ids(client, version, filter_by_roi="no_rois") == ["e1"]
    assert _ids(client, version, sources_query="id:rear AND width:>2000") == ["e1"]
    assert _ids(client, version, sources_query="id:front AND width:>2000") == []  # one source holds both
    filters = [{"frame_query": "meta.city:Eilat"}, {"label_rules": [{"label": "person"}]}]
    assert _ids(client, version, filters=orjson.dumps(filters).decode()) == ["e1", "h1"]  # ORed
    assert _count(client, version, filters=orjson.dumps(filters).decode()) == 2


def test_orders_and_their_cursors(clients, version):
    client = clients["read"]
    assert _ids(client, version, order_by="-meta.score") == ["e1", "h1", "t1"]  # missing first, descending
    assert _ids(client, version, order_by="meta.score") == ["t1", "h1", "e1"]
    assert _ids(client, version, order_by="width") == ["e1", "t1", "h1"]
    assert _ids(client, version, order_by="-id") == ["t1", "h1", "e1"]
    assert _ids(client, version, order_by="meta.city") == ["e1", "h1", "t1"]
    first = client.get(f"/api/versions/{version}/frames/?order_by=-meta.city&limit=2").json()
    assert [f["id"] for f in first["frames"]] == ["t1", "h1"]
    rest = client.get(f"/api/versions/{version}/frames/?order_by=-meta.city&limit=2&cursor={first['next_cursor']}")
    assert [f["id"] for f in rest.json()["frames"]] == ["e1"] and rest.json()["next_cursor"] is None
    # A cursor of one order is refused by another.
    other = client.get(f"/api/versions/{version}/frames/?order_by=meta.city&cursor={first['next_cursor']}")
    assert other.status_code == 404 and error_of(other)["code"] == "invalid_cursor"


def test_schema(clients, dataset, version):
    response = clients["read"].get(f"/api/datasets/{dataset.pk}/schema/")
    assert response.status_code == 200
    body = response.json()
    assert {"path": "meta.score", "type": "number"} in body["meta"]
    assert {"path": "meta.city", "type": "string"} in body["meta"]
    assert {"path": "rois.confidence", "type": "number"} in body["fields"]
    assert {"path": "saved", "type": "date"} in body["fields"]
    assert clients["outsider"].get(f"/api/datasets/{dataset.pk}/schema/").status_code == 404


@pytest.mark.parametrize(("params", "field", "rule"), [
    ({"query": "meta.city:(Haifa"}, "query", "at position 16: unexpected end of expression"),
    ({"query": "a AND"}, "query", "at position 5"),
    ({"query": "meta.nope:1"}, "query", "at position 0: meta.nope is not a meta key of this dataset"),
    ({"query": "colour:red"}, "query", "unknown field 'colour'"),
    ({"query": "meta.score:high"}, "query", "meta.score is a number; 'high' is not a number"),
    ({"query": "meta.score:[a TO 5]"}, "query", "meta.score is a number; 'a' is not a number"),
    ({"query": "meta.score:9*"}, "query", "wildcards apply to strings; meta.score is a number"),
    ({"query": "meta.night:maybe"}, "query", "meta.night is a boolean"),
    ({"query": "meta.night:[a TO b]"}, "query", "meta.night is a boolean: it has no range"),
    ({"query": "saved:[yesterday TO *]"}, "query", "saved is a date"),
    ({"query": "meta.city:/Hai.*/"}, "query", "regular expressions are not supported"),
    ({"query": "meta.city:Haifa~1"}, "query", "fuzzy and proximity searches"),
    ({"query": "[1 TO 5]"}, "query", "a range needs a field"),
    ({"query": "meta.city:(meta.score:1)"}, "query", "inside the field group"),
    ({"query": "_exists_:(a b)"}, "query", "_exists_ takes a field name"),
    ({"query": "(" * 70 + "a" + ")" * 70}, "query", "nests more than 64 levels deep"),
    ({"query": "x" * 10_001}, "query", "at most 10000 characters"),
    ({"sources_query": "colour:red"}, "sources_query", "unknown field 'colour'"),
    ({"label_rules": "not json"}, "label_rules", "is not JSON"),
    ({"label_rules": '[{"label": "car AND ("}]'}, "label_rules[0].label", "at position"),
    ({"label_rules": '[{"label": "car", "count_range": [3, 1]}]'}, "label_rules[0].count_range",
     "min must not be above max"),
    ({"label_rules": '[{"label": "car", "count_range": [1]}]'}, "label_rules[0].count_range", "[min, max]"),
    ({"label_rules": '[{"label": "car", "conf_range": [0, 2]}]'}, "label_rules[0].conf_range", "0 to 1"),
    ({"label_rules": '[{"label": "car", "must_not": "yes"}]'}, "label_rules[0].must_not", "true or false"),
    ({"label_rules": '[{"lable": "car"}]'}, "label_rules[0]", "unknown keys ['lable']"),
    ({"label_rules": '{"label": "car"}'}, "label_rules", "must be a list"),
    ({"filter_by_roi": "some"}, "filter_by_roi", "must be one of label_rules, no_rois, disabled"),
    ({"filters": "[]"}, "filters", "must be a list of 1 to 32 filters"),
    ({"filters": '[{"frame_query": "meta.score:x"}]'}, "filters[0].frame_query", "is not a number"),
    ({"order_by": "colour"}, "order_by", "must be one of"),
    ({"order_by": "meta.nope"}, "order_by", "is not a meta key"),
])
def test_errors_name_the_field_and_the_rule(clients, version, params, field, rule):
    for path in ("", "count/"):
        response = clients["read"].get(f"/api/versions/{version}/frames/{path}?" + urlencode(params))
        assert response.status_code == 400, response.content
        error = error_of(response)
        assert field in error["details"], error
        assert any(rule in message for message in error["details"][field]) or rule in error["message"], error


def test_values_are_parameters_never_sql(clients, version):
    client = clients["read"]
    for text in ["meta.city:\"x' OR '1'='1\"", "meta.city:x\\)\\)\\;DROP", "sources.uri:*'*", 'id:"a\\"b"']:
        assert _ids(client, version, query=text) == []
    assert _count(client, version) == 3
