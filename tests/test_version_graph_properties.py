"""Random sequences of version-graph operations against a small in-memory model of the rules."""

import itertools
import re
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from hyperdatasets.exceptions import AlreadyExists, InvalidInput, NotFound, ServiceError, StateConflict
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.versions import version_get, version_head, version_parent_ids
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.snapshots import snapshot_create
from hyperdatasets.services.tags import dataset_tags_add, dataset_tags_get, dataset_tags_remove
from hyperdatasets.services.versions import version_create, version_delete, version_publish, version_update

NAMES = st.sampled_from(["A", "B", "C", "Current", "s1", "s2"])
TAGS = st.lists(st.sampled_from(["t1", "t2", "t3", "t4"]), max_size=4)
SNAPSHOT_NAME = re.compile(r"^snapshot \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")
_counter = itertools.count()


@dataclass
class ModelVersion:
    name: str
    number: int
    published: bool = False
    parents: list[str] = field(default_factory=list)  # by name at the time, kept in sync on rename
    depth: int = 0


class VersionGraph(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dataset = dataset_create(dataset_name=f"prop-{next(_counter)}")
        head = version_head(self.dataset)
        self.ids: dict[str, object] = {"Current": head.pk}  # model name -> db id
        self.versions: dict[str, ModelVersion] = {"Current": ModelVersion("Current", 1)}
        self.next_number = 2
        self.tags: list[str] = []

    # --- the model's rules -------------------------------------------------------------------------------
    def _children(self, name: str) -> list[str]:
        return [v.name for v in self.versions.values() if name in v.parents]

    def _model_head(self) -> str | None:
        drafts = [v for v in self.versions.values() if not v.published]
        pool = drafts or list(self.versions.values())
        if not pool:
            return None
        return max(pool, key=lambda v: (v.depth, v.number) if drafts else (v.number,)).name

    def _expect(self, expected_error, call):
        if expected_error is None:
            return call()
        with pytest.raises(expected_error):
            call()
        return None

    # --- rules -------------------------------------------------------------------------------------------
    @rule(name=NAMES, data=st.data(), raise_if_exists=st.booleans())
    def create_version(self, name, data, raise_if_exists):
        # Mostly existing versions (so graphs grow deep), sometimes a missing one.
        parents = data.draw(st.lists(st.sampled_from([*self.versions, "missing"]), max_size=3), label="parents")
        error = None
        if len(set(parents)) != len(parents):  # bad input is refused before the name is looked up
            error = InvalidInput
        elif name in self.versions:
            error = AlreadyExists if raise_if_exists else None
            if error is None:
                got = version_create(self.dataset, version_name=name, parent_version_names=parents)
                assert got.pk == self.ids[name]
                return
        else:
            for parent in parents:
                if parent not in self.versions:
                    error = NotFound
                    break
                if not self.versions[parent].published:
                    error = StateConflict
                    break
        call = lambda: version_create(  # noqa: E731
            self.dataset, version_name=name, parent_version_names=parents, raise_if_exists=raise_if_exists
        )
        created = self._expect(error, call)
        if created is not None:
            depth = max((self.versions[p].depth + 1 for p in parents), default=0)
            self.versions[name] = ModelVersion(name, self.next_number, parents=list(parents), depth=depth)
            self.next_number += 1
            self.ids[name] = created.pk

    @rule(name=NAMES)
    def publish(self, name):
        if name not in self.versions:
            return
        version = DatasetVersion.objects.get(pk=self.ids[name])
        error = StateConflict if self.versions[name].published else None
        if self._expect(error, lambda: version_publish(version)) is not None:
            self.versions[name].published = True

    @rule(name=NAMES)
    def delete(self, name):
        if name not in self.versions:
            return
        version = DatasetVersion.objects.get(pk=self.ids[name])
        if self.versions[name].published:
            self._expect(StateConflict, lambda: version_delete(version))
            return
        assert not self._children(name), "a Draft never has children"
        version_delete(version)
        del self.versions[name]
        del self.ids[name]

    @rule(name=NAMES, new_name=NAMES)
    def rename(self, name, new_name):
        if name not in self.versions:
            return
        version = DatasetVersion.objects.get(pk=self.ids[name])
        error = None
        if self.versions[name].published:
            error = StateConflict
        elif new_name != name and new_name in self.versions:
            error = AlreadyExists
        if self._expect(error, lambda: version_update(version, name=new_name)) is not None:
            self._rename(name, new_name)

    def _rename(self, old, new):
        if old == new:
            return
        model = self.versions.pop(old)
        model.name = new
        self.versions[new] = model
        self.ids[new] = self.ids.pop(old)
        for v in self.versions.values():
            v.parents = [new if p == old else p for p in v.parents]

    @rule(publish_name=st.one_of(st.none(), NAMES), child_name=st.one_of(st.none(), NAMES))
    def snapshot(self, publish_name, child_name):
        drafts = [v.name for v in self.versions.values() if not v.published]
        leaves = [v.name for v in self.versions.values() if not self._children(v.name)]
        child = child_name or "Current"
        error = None
        if len(drafts) != 1 or set(leaves) != {drafts[0]}:
            error = StateConflict
        else:
            current = drafts[0]
            taken = set(self.versions) - {current}
            if publish_name is not None and publish_name in taken:
                error = AlreadyExists
            elif child == publish_name or child in taken:
                error = AlreadyExists
        call = lambda: snapshot_create(self.dataset, publish_name=publish_name, child_name=child_name)  # noqa: E731
        created = self._expect(error, call)
        if created is None:
            return
        current = drafts[0]
        snap_name = DatasetVersion.objects.get(pk=self.ids[current]).name
        if publish_name is None:
            assert SNAPSHOT_NAME.match(snap_name)
        else:
            assert snap_name == publish_name
        self._rename(current, snap_name)
        self.versions[snap_name].published = True
        depth = self.versions[snap_name].depth + 1
        self.versions[child] = ModelVersion(child, self.next_number, parents=[snap_name], depth=depth)
        self.next_number += 1
        self.ids[child] = created.pk

    @rule(add=TAGS, remove=TAGS)
    def tags_change(self, add, remove):
        dataset_tags_add(self.dataset, add)
        for tag in add:
            if tag not in self.tags:
                self.tags.append(tag)
        dataset_tags_remove(self.dataset, remove)
        self.tags = [t for t in self.tags if t not in remove]

    # --- invariants --------------------------------------------------------------------------------------
    @invariant()
    def database_matches_model(self):
        rows = list(DatasetVersion.objects.filter(dataset=self.dataset))
        by_id = {row.pk: row for row in rows}
        assert set(by_id) == set(self.ids.values())
        parents = version_parent_ids(rows)
        for name, model in self.versions.items():
            row = by_id[self.ids[name]]
            assert row.name == name
            assert row.is_published == model.published
            assert row.depth == model.depth
            assert parents[row.pk] == [self.ids[p] for p in model.parents]
        head = version_head(self.dataset)
        expected = self._model_head()
        assert (head.name if head else None) == expected
        if expected is not None:
            lookup = version_get(self.dataset)
            assert lookup.version.name == expected
            assert (lookup.warning is not None) == (len(self.versions) > 1)
        assert dataset_tags_get(self.dataset) == self.tags


@pytest.mark.django_db
def test_version_graph_matches_model():
    run_state_machine_as_test(
        VersionGraph,
        settings=settings(
            max_examples=80, stateful_step_count=30, deadline=None,  # a leg's budget (docs: under 25 min in all)
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )


def test_errors_share_one_hierarchy():
    for error in (AlreadyExists, InvalidInput, NotFound, StateConflict):
        assert issubclass(error, ServiceError)
