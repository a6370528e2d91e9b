"""Frame resolution and diffs over random version graphs and edits, against a brute-force model."""

import itertools
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.frame_pages import frames_page
from hyperdatasets.selectors.frames import frames_get, version_label_stats, versions_diff
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_delete, frames_upsert
from hyperdatasets.services.versions import version_create, version_publish, version_update
from tests.factories import frame

FRAME_IDS = ["a", "b", "c", "d", "e", "f"]
CONTEXT = {"a": "z", "b": "m", "c": "m", "d": "a", "e": "q", "f": "a"}
_counter = itertools.count()


class FrameGraph(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dataset = dataset_create(dataset_name=f"frames-prop-{next(_counter)}")
        self.ids = {"v0": version_update(version_head(self.dataset), name="v0").pk}
        self.frames: dict[str, dict[str, str]] = {"v0": {}}  # version -> frame id -> label token
        self.published: set[str] = set()
        self.tokens = itertools.count()

    def _version(self, name):
        return DatasetVersion.objects.get(pk=self.ids[name])

    def _drafts(self):
        return [n for n in self.frames if n not in self.published]

    @rule(data=st.data(), ids=st.lists(st.sampled_from(FRAME_IDS), min_size=1, max_size=4))
    def upsert(self, data, ids):
        drafts = self._drafts()
        if not drafts:
            return
        name = data.draw(st.sampled_from(drafts))
        batch, expected = [], {}
        for fid in ids:
            token = f"t{next(self.tokens)}"
            batch.append(frame(fid, labels=[[token]], context_id=CONTEXT[fid]))
            expected[fid] = token  # the last frame with an id wins
        result = frames_upsert(self._version(name), batch)
        assert result.failures == []
        self.frames[name].update(expected)

    @rule(data=st.data(), ids=st.lists(st.sampled_from(FRAME_IDS), min_size=1, max_size=3))
    def delete(self, data, ids):
        drafts = self._drafts()
        if not drafts:
            return
        name = data.draw(st.sampled_from(drafts))
        result = frames_delete(self._version(name), ids)
        held = self.frames[name]
        assert sorted(result.deleted) == sorted({i for i in ids if i in held})
        for fid in ids:
            held.pop(fid, None)

    @rule(data=st.data())
    def publish(self, data):
        drafts = self._drafts()
        if drafts:
            name = data.draw(st.sampled_from(drafts))
            version_publish(self._version(name))
            self.published.add(name)

    @rule(data=st.data())
    def create_child(self, data):
        published = sorted(self.published)
        # Mostly merges of two or more parents once there are some: they hold the subtle cases.
        most = min(3, len(published))
        parents = data.draw(st.lists(st.sampled_from(published), min_size=min(most, 2), max_size=most,
                                     unique=True)) if published else []
        name = f"v{len(self.frames)}"
        child = version_create(self.dataset, version_name=name, parent_version_names=parents)
        self.ids[name] = child.pk
        union: dict[str, str] = {}
        for parent in reversed(parents):  # earlier parents win
            union.update(self.frames[parent])
        self.frames[name] = union

    @invariant()
    def every_version_matches_model(self):
        for name, expected in self.frames.items():
            version = self._version(name)
            got, cursor = [], None
            while True:
                page = frames_page(version, cursor=cursor, limit=2)
                got += page.frames
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert [f["id"] for f in got] == sorted(expected, key=lambda i: (CONTEXT[i], i))
            assert {f["id"]: f["rois"][0]["label"][0] for f in got} == expected
            assert set(frames_get(version, FRAME_IDS)) == set(expected)
            assert version.frame_count == len(expected)
            assert version_label_stats(version)["labels"] == dict(Counter(expected.values()))
            for token in set(expected.values()):
                page = frames_page(version, label=token, limit=10)
                assert [f["id"] for f in page.frames] == sorted(
                    (i for i, t in expected.items() if t == token), key=lambda i: (CONTEXT[i], i))

    @invariant()
    def diffs_match_model(self):
        names = sorted(self.frames)
        for base_name, target_name in zip(names, names[1:] + names[:1], strict=True):
            base, target = self.frames[base_name], self.frames[target_name]
            expected = sorted(
                [("added", i) for i in target if i not in base]
                + [("removed", i) for i in base if i not in target]
                + [("modified", i) for i in base if i in target and base[i] != target[i]]
            )
            got = sorted(versions_diff(self._version(base_name), self._version(target_name)))
            assert got == expected


@pytest.mark.django_db
def test_frame_resolution_and_diffs_match_model():
    run_state_machine_as_test(
        FrameGraph,
        # 60 runs of up to 30 steps a leg: the suite's largest single cost on PostgreSQL (about 100 s at 100 runs).
        settings=settings(max_examples=60, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]),
    )
