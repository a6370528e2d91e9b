import re

import pytest

from hyperdatasets.exceptions import AlreadyExists, InvalidInput, StateConflict
from hyperdatasets.models import DatasetVersion, VersionStatus
from hyperdatasets.selectors.versions import version_head, version_parents
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.snapshots import snapshot_create
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
