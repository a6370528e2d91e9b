import re

import pytest

from hyperdatasets.exceptions import AlreadyExists, InvalidInput, StateConflict
from hyperdatasets.models import DatasetVersion, VersionStatus
from hyperdatasets.selectors.versions import version_head, version_parents
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.snapshots import snapshot_create, version_publish_and_branch
from hyperdatasets.services.versions import version_create, version_publish

pytestmark = pytest.mark.django_db

TIMESTAMP_NAME = re.compile(r"^snapshot \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$")


@pytest.fixture
def dataset():
    return dataset_create(dataset_name="MyDataset")


def test_snapshot_publishes_in_place_with_timestamp_name(dataset):
    before = version_head(dataset)
    child = snapshot_create(dataset)
    snap = DatasetVersion.objects.get(pk=before.pk)
    assert snap.status == VersionStatus.PUBLISHED
    assert TIMESTAMP_NAME.match(snap.name), snap.name
    assert child.name == "Current" and child.status == VersionStatus.DRAFT
    assert child.pk != before.pk
    assert version_parents(child) == [snap]
    assert version_head(dataset) == child


def test_snapshot_publish_name_child_name_metadata_comment(dataset):
    before = version_head(dataset)
    child = snapshot_create(
        dataset, publish_name="NewSnapshotName", child_name="NewCurrentVersionName",
        child_metadata={"abc": "1234", "def": "5678"}, child_comment="some text comment",
    )
    assert DatasetVersion.objects.get(pk=before.pk).name == "NewSnapshotName"
    assert child.name == "NewCurrentVersionName"
    assert child.metadata == {"abc": "1234", "def": "5678"}
    assert child.comment == "some text comment"


def test_snapshots_form_a_line(dataset):
    first = snapshot_create(dataset, publish_name="s1")
    second = snapshot_create(dataset, publish_name="s2")
    assert version_parents(second)[0].pk == first.pk
    assert second.depth == 2
    names = list(DatasetVersion.objects.filter(dataset=dataset).order_by("number").values_list("name", "status"))
    assert names == [("s1", "published"), ("s2", "published"), ("Current", "draft")]


def test_snapshot_refused_with_two_drafts(dataset):
    version_create(dataset, version_name="second-draft")
    with pytest.raises(StateConflict, match="several Draft versions"):
        snapshot_create(dataset)
    assert DatasetVersion.objects.filter(dataset=dataset, status="published").count() == 0


def test_snapshot_refused_without_draft(dataset):
    version_publish(version_head(dataset))
    with pytest.raises(StateConflict, match="0 Draft versions"):
        snapshot_create(dataset)


def test_snapshot_refused_when_draft_is_not_only_leaf(dataset):
    child = snapshot_create(dataset, publish_name="s1")
    version_publish(child)
    version_create(dataset, version_name="branch", parent_version_names=["s1"])
    # One Draft ("branch"), but the Published "Current" is a second leaf: advanced structure.
    with pytest.raises(StateConflict, match="not in the simple version structure"):
        snapshot_create(dataset)


def test_snapshot_name_clashes(dataset):
    snapshot_create(dataset, publish_name="s1")
    with pytest.raises(AlreadyExists, match="'s1' already exists"):
        snapshot_create(dataset, publish_name="s1")
    with pytest.raises(AlreadyExists, match="'s1' already exists"):
        snapshot_create(dataset, child_name="s1")
    with pytest.raises(AlreadyExists, match="both 'x'"):
        snapshot_create(dataset, publish_name="x", child_name="x")
    assert version_head(dataset).name == "Current"


@pytest.mark.parametrize(
    "kwargs",
    [{"publish_name": ""}, {"child_name": " "}, {"child_metadata": [1]}, {"child_comment": 5}],
)
def test_snapshot_bad_input(dataset, kwargs):
    with pytest.raises(InvalidInput):
        snapshot_create(dataset, **kwargs)
    assert version_head(dataset).status == VersionStatus.DRAFT


# --- ClearML's publish_and_create_child_version: any Draft, in any version structure ------------------------


def test_publish_and_branch_names_the_snapshot_after_the_version_and_the_child_after_it(dataset):
    root = version_head(dataset)
    version_publish(root)
    left = version_create(dataset, version_name="left", parent_version_ids=[root.pk])
    version_create(dataset, version_name="right", parent_version_ids=[root.pk])  # a second leaf: not "simple"
    child = version_publish_and_branch(left)
    snap = DatasetVersion.objects.get(pk=left.pk)
    assert snap.name == "snapshot 1 (left)" and snap.status == VersionStatus.PUBLISHED
    assert child.name == "left" and child.status == VersionStatus.DRAFT and version_parents(child) == [snap]
    again = version_publish_and_branch(child)
    assert DatasetVersion.objects.get(pk=child.pk).name == "snapshot 2 (left)" and again.name == "left"
    named = version_publish_and_branch(again, publish_name="release", child_name="next", child_comment="c")
    assert DatasetVersion.objects.get(pk=again.pk).name == "release" and named.name == "next"
    with pytest.raises(StateConflict):
        version_publish_and_branch(DatasetVersion.objects.get(pk=again.pk))
    with pytest.raises(AlreadyExists):
        version_publish_and_branch(named, publish_name="release")
    assert DatasetVersion.objects.get(pk=named.pk).status == VersionStatus.DRAFT  # nothing half-done


def test_a_dataset_can_be_created_without_its_first_version():
    empty = dataset_create(dataset_name="bare", initial_version=False)
    assert not DatasetVersion.objects.filter(dataset=empty).exists()
