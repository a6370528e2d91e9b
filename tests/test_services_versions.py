import warnings  # noqa: F401  (documented: the service returns the warning text, the SDK emits it)

import pytest
from django.db import IntegrityError, transaction

from hyperdatasets.exceptions import AlreadyExists, InvalidInput, NotFound, StateConflict
from hyperdatasets.models import DatasetVersion, VersionStatus
from hyperdatasets.selectors.versions import version_get, version_head, version_list, version_parents
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.snapshots import snapshot_create
from hyperdatasets.services.versions import (
    version_create,
    version_delete,
    version_mask_labels_set,
    version_metadata_set,
    version_publish,
    version_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    return dataset_create(dataset_name="MyDataset")


def _published(dataset, name):
    version = version_create(dataset, version_name=name)
    return version_publish(version)


def test_create_child_from_published_parent(dataset):
    parent = _published(dataset, "PublishedVersion")
    child = version_create(dataset, version_name="NewChildVersion", parent_version_names=["PublishedVersion"])
    assert child.status == VersionStatus.DRAFT
    assert version_parents(child) == [parent]
    assert child.depth == 1


def test_create_existing_name_returns_it_or_refuses(dataset):
    _published(dataset, "P")
    child = version_create(dataset, version_name="C", parent_version_names=["P"])
    assert version_create(dataset, version_name="C", parent_version_names=["P"]).pk == child.pk
    with pytest.raises(AlreadyExists, match="'C' already exists in dataset 'MyDataset'"):
        version_create(dataset, version_name="C", parent_version_names=["P"], raise_if_exists=True)


def test_create_from_draft_parent_is_refused(dataset):
    with pytest.raises(StateConflict, match="parent version 'Current' is a Draft"):
        version_create(dataset, version_name="C", parent_version_names=["Current"])
    assert not DatasetVersion.objects.filter(name="C").exists()


def test_create_root_version_without_parents(dataset):
    root = version_create(dataset, version_name="NewRootVersion")
    assert version_parents(root) == [] and root.depth == 0


def test_create_with_several_parents_keeps_order(dataset):
    a, b = _published(dataset, "A"), _published(dataset, "B")
    child = version_create(dataset, version_name="AB", parent_version_ids=[str(b.pk), a.pk])
    assert version_parents(child) == [b, a]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"version_name": ""}, InvalidInput),
        ({"version_name": "x", "parent_version_names": ["nope"]}, NotFound),
        ({"version_name": "x", "parent_version_names": ["P", "P"]}, InvalidInput),
        ({"version_name": "x", "parent_version_names": "P"}, InvalidInput),
        ({"version_name": "x", "parent_version_ids": ["not-a-uuid"]}, InvalidInput),
        ({"version_name": "x", "parent_version_names": ["P"], "parent_version_ids": ["x"]}, InvalidInput),
        ({"version_name": "x", "metadata": "str"}, InvalidInput),
    ],
)
def test_create_refusals(dataset, kwargs, error):
    _published(dataset, "P")
    before = DatasetVersion.objects.count()
    with pytest.raises(error):
        version_create(dataset, **kwargs)
    assert DatasetVersion.objects.count() == before


def test_parent_from_other_dataset_is_not_found(dataset):
    other = dataset_create(dataset_name="Other")
    foreign = _published(other, "P")
    with pytest.raises(NotFound):
        version_create(dataset, version_name="x", parent_version_ids=[foreign.pk])


def test_head_is_longest_draft_path_then_newest(dataset):
    current = version_head(dataset)
    assert current.name == "Current"
    root = _published(dataset, "R")
    deep = version_create(dataset, version_name="deep", parent_version_ids=[root.pk])
    assert version_head(dataset) == deep
    later_root = version_create(dataset, version_name="later-root")
    assert version_head(dataset) == deep  # depth beats newness
    version_delete(deep)
    assert version_head(dataset) == later_root  # newest among equal depth


def test_head_without_drafts_is_newest_published(dataset):
    version_publish(version_head(dataset))
    second = _published(dataset, "second")
    assert version_head(dataset) == second


def test_version_lists(dataset):
    p = _published(dataset, "P")
    current = DatasetVersion.objects.get(dataset=dataset, name="Current")
    assert list(version_list(dataset)) == [current, p]
    assert list(version_list(dataset, only_published=True)) == [p]
    assert list(version_list(dataset, only_draft=True)) == [current]
    assert list(version_list(dataset, only_published=True, only_draft=True)) == []  # each filter is a condition


def test_get_by_name_id_and_head_with_warning(dataset):
    lookup = version_get(dataset)
    assert lookup.version.name == "Current" and lookup.warning is None
    p = _published(dataset, "P")
    lookup = version_get(dataset)
    assert lookup.version.name == "Current"
    assert "2 versions" in lookup.warning
    assert version_get(dataset, version_name="P").version == p
    assert version_get(dataset, version_id=str(p.pk)).version == p
    with pytest.raises(NotFound, match="'nope' does not exist in dataset 'MyDataset'"):
        version_get(dataset, version_name="nope")
    assert version_get(dataset, version_name="P", version_id=p.pk).version == p  # both: each is a condition
    with pytest.raises(NotFound, match="named 'Current' does not exist"):
        version_get(dataset, version_name="Current", version_id=p.pk)


def test_get_head_of_dataset_without_versions(dataset):
    version_delete(version_head(dataset))
    with pytest.raises(NotFound, match="has no versions"):
        version_get(dataset)


def test_publish_then_read_only_for_ever(dataset):
    version = version_head(dataset)
    published = version_publish(version)
    assert published.status == VersionStatus.PUBLISHED and published.published is not None
    with pytest.raises(StateConflict, match="already Published"):
        version_publish(version)
    with pytest.raises(StateConflict, match="Published and read-only"):
        version_update(version, name="renamed")
    with pytest.raises(StateConflict, match="Published and read-only"):
        version_metadata_set(version, {"a": 1})
    with pytest.raises(StateConflict, match="Published and read-only"):
        version_mask_labels_set(version, {(0, 0, 0): ["bg"]})
    with pytest.raises(StateConflict, match="Published and read-only"):
        version_delete(version)
    fresh = DatasetVersion.objects.get(pk=version.pk)
    assert (fresh.name, fresh.metadata, fresh.status) == ("Current", {}, VersionStatus.PUBLISHED)


def test_database_refuses_update_of_published_row(dataset):
    version = version_publish(version_head(dataset))
    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetVersion.objects.filter(pk=version.pk).update(name="sneaky")
    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetVersion.objects.filter(pk=version.pk).update(status=VersionStatus.DRAFT, published=None)
    assert DatasetVersion.objects.get(pk=version.pk).name == "Current"


def test_delete_draft_version(dataset):
    version = version_create(dataset, version_name="tmp")
    version_delete(version)
    assert not DatasetVersion.objects.filter(pk=version.pk).exists()


def test_update_draft_and_name_clash(dataset):
    version = version_create(dataset, version_name="tmp")
    updated = version_update(version, name="renamed", comment="c", metadata={"k": "v"})
    assert (updated.name, updated.comment, updated.metadata) == ("renamed", "c", {"k": "v"})
    with pytest.raises(AlreadyExists, match="'Current' already exists"):
        version_update(version, name="Current")


def test_metadata_set_replaces_and_validates(dataset):
    version = version_head(dataset)
    assert version_metadata_set(version, {"a": 1}).metadata == {"a": 1}
    assert version_metadata_set(version, {"b": 2}).metadata == {"b": 2}
    with pytest.raises(InvalidInput, match="metadata"):
        version_metadata_set(version, ["no"])
    with pytest.raises(InvalidInput, match="metadata"):
        version_metadata_set(version, None)


def test_mask_labels_stored_exactly_as_documented(dataset):
    version = version_head(dataset)
    version_metadata_set(version, {"keep": True})
    version_mask_labels_set(version, {(0, 0, 0): ["background"], (1, 1, 1): ["person", "sitting"], (2, 2, 2): ["cat"]})
    stored = DatasetVersion.objects.get(pk=version.pk).metadata
    assert stored["mask_labels"] == {
        "_all_": [
            {"value": [0, 0, 0], "labels": ["background"]},
            {"value": [1, 1, 1], "labels": ["person", "sitting"]},
            {"value": [2, 2, 2], "labels": ["cat"]},
        ]
    }
    assert stored["keep"] is True


@pytest.mark.parametrize(
    "mapping",
    [
        {(0, 0): ["x"]},
        {(0, 0, 256): ["x"]},
        {(-1, 0, 0): ["x"]},
        {(0.5, 0, 0): ["x"]},
        {(True, 0, 0): ["x"]},
        {"abc": ["x"]},
        {(0, 0, 0): []},
        {(0, 0, 0): "background"},
        {(0, 0, 0): [""]},
        {(0, 0, 0): [3]},
        ["not", "a", "mapping"],
        {"_all_": [{"value": [0, 0, 0]}]},
    ],
)
def test_mask_labels_refusals(dataset, mapping):
    version = version_head(dataset)
    with pytest.raises(InvalidInput) as info:
        version_mask_labels_set(version, mapping)
    assert "mask_labels" in info.value.details
    assert "mask_labels" not in DatasetVersion.objects.get(pk=version.pk).metadata


def test_snapshot_child_inherits_structure(dataset):
    child = snapshot_create(dataset, child_name="Next")
    assert version_parents(child)[0].status == VersionStatus.PUBLISHED
