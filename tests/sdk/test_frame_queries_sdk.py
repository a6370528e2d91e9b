"""Frame queries through the SDK: iterate_frames and get_frames_count with a query, label rules, filters and an
order; the schema; the server's refusal as a ValueError carrying its message."""

import pytest

from hyperdatasets.sdk import Dataset, DatasetVersion, SingleFrame


def _frame(i: int, city: str, label: str, confidence: float) -> SingleFrame:
    frame = SingleFrame(id=f"f{i}", source=f"s3://bucket/{city}/{i}.jpg", width=100 * (i + 1), height=50,
                        metadata={"city": city, "score": i})
    frame.add_annotation(box2d_xywh=(1, 2, 3, 4), labels=[label], confidence=confidence)
    return frame


@pytest.fixture
def version(api):
    version = DatasetVersion.create_new_dataset(dataset_name="queried")
    frames = [_frame(0, "Haifa", "car", 0.95), _frame(1, "Tel Aviv", "car", 0.4), _frame(2, "Haifa", "person", 0.99),
              _frame(3, "Eilat", "car", 0.91)]
    frames[3].add_annotation(box2d_xywh=(5, 5, 5, 5), labels=["car"], confidence=0.2)
    assert version.add_frames(frames) == []
    return version


def test_iterate_and_count_with_queries_rules_and_orders(version):
    haifa = list(version.iterate_frames(query="meta.city:Haifa AND rois.confidence:[0.9 TO 1]", page_size=1))
    assert [f.id for f in haifa] == ["f0", "f2"]
    assert version.get_frames_count(query="meta.city:Haifa") == 2
    assert version.get_frames_count(label_rules=[{"label": "car", "count_range": [2, -1]}]) == 1
    assert version.get_frames_count(label_rules=[{"label": "car", "conf_range": [0.9, 1]}]) == 2
    ordered = [f.id for f in version.iterate_frames(order_by="-meta.score", page_size=3)]
    assert ordered == ["f3", "f2", "f1", "f0"]
    assert [f.id for f in version.iterate_frames(order_by="-width", query="car")] == ["f3", "f1", "f0"]
    either = [{"frame_query": "meta.city:Eilat"}, {"label_rules": [{"label": "person"}]}]
    assert sorted(f.id for f in version.iterate_frames(filters=either)) == ["f2", "f3"]
    assert version.get_frames_count(sources_query="uri:s3\\://bucket/Tel*") == 1
    assert version.get_frames_count() == 4


def test_schema_and_errors(version):
    schema = Dataset.get(dataset_name="queried").get_schema()
    assert {"path": "meta.score", "type": "number"} in schema["meta"]
    with pytest.raises(ValueError, match=r"query: at position 0: meta.colour is not a meta key"):
        version.get_frames_count(query="meta.colour:red")
    with pytest.raises(ValueError, match=r"meta.score is a number; 'high' is not a number"):
        list(version.iterate_frames(query="meta.score:high"))
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        version.get_frames_count(lable_rules=[])
