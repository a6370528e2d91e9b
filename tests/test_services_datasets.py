import pytest

from hyperdatasets.exceptions import AlreadyExists, AmbiguousName, InvalidInput, NotFound, StateConflict
from hyperdatasets.models import Dataset, DatasetVersion, Project, VersionStatus
from hyperdatasets.selectors.datasets import dataset_get, dataset_list
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import (
    dataset_create,
    dataset_delete,
    dataset_update,
    version_create_new_dataset,
)
from hyperdatasets.services.snapshots import snapshot_create
from hyperdatasets.services.tags import dataset_tags_add, dataset_tags_get, dataset_tags_remove
from hyperdatasets.services.versions import version_create, version_delete, version_publish

pytestmark = pytest.mark.django_db


def test_create_gives_one_empty_draft_named_current(user):
    dataset = dataset_create(dataset_name="cars", user=user)
    versions = list(dataset.versions.all())
    assert [(v.name, v.status) for v in versions] == [("Current", VersionStatus.DRAFT)]
    assert dataset.created_by == user
    assert dataset.project is None
    assert version_head(dataset) == versions[0]


def test_create_in_project_creates_project_once():
    one = dataset_create(dataset_name="a", dataset_project="vision")
    two = dataset_create(dataset_name="b", dataset_project="vision")
    assert one.project == two.project
    assert Project.objects.filter(name="vision").count() == 1


def test_create_existing_returns_it_and_adds_tags():
    first = dataset_create(dataset_name="cars", tags=["a", "b"])
    again = dataset_create(dataset_name="cars", tags=["b", "c"])
    assert again.pk == first.pk
    assert dataset_tags_get(first) == ["a", "b", "c"]
    assert Dataset.objects.filter(name="cars").count() == 1
    assert DatasetVersion.objects.filter(dataset=first).count() == 1


def test_create_existing_with_raise_if_exists_is_refused():
    dataset_create(dataset_name="cars", dataset_project="p")
    with pytest.raises(AlreadyExists, match="'cars' already exists in project 'p'"):
        dataset_create(dataset_name="cars", dataset_project="p", raise_if_exists=True)


def test_same_name_in_other_project_is_a_new_dataset():
    one = dataset_create(dataset_name="cars", dataset_project="p1")
    two = dataset_create(dataset_name="cars", dataset_project="p2", raise_if_exists=True)
    three = dataset_create(dataset_name="cars", raise_if_exists=True)
    assert len({one.pk, two.pk, three.pk}) == 3


def test_create_new_dataset_variant_returns_current_version():
    version = version_create_new_dataset(dataset_name="myDataset Two", tags=["x"], description="d")
    assert isinstance(version, DatasetVersion)
    assert version.name == "Current" and version.status == VersionStatus.DRAFT
    assert version.dataset.description == "d"
    with pytest.raises(AlreadyExists):
        version_create_new_dataset(dataset_name="myDataset Two", raise_if_exists=True)
    assert version_create_new_dataset(dataset_name="myDataset Two").pk == version.pk


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dataset_name": ""}, "dataset_name"),
        ({"dataset_name": "   "}, "dataset_name"),
        ({"dataset_name": " lead"}, "dataset_name"),
        ({"dataset_name": "x" * 256}, "dataset_name"),
        ({"dataset_name": 5}, "dataset_name"),
        ({"dataset_name": "ok", "tags": "notalist"}, "tags"),
        ({"dataset_name": "ok", "tags": ["", "b"]}, "tags"),
        ({"dataset_name": "ok", "tags": [3]}, "tags"),
        ({"dataset_name": "ok", "metadata": [1, 2]}, "metadata"),
        ({"dataset_name": "ok", "metadata": {"x": object()}}, "metadata"),
        ({"dataset_name": "ok", "dataset_project": ""}, "dataset_project"),
        ({"dataset_name": "ok", "description": 7}, "description"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(kwargs, field):
    with pytest.raises(InvalidInput) as info:
        dataset_create(**kwargs)
    assert field in info.value.details
    assert Dataset.objects.count() == 0
    assert Project.objects.count() == 0


def test_tags_add_remove_idempotent_and_ordered():
    dataset = dataset_create(dataset_name="d")
    assert dataset_tags_add(dataset, ["coco", "dogs", "coco"]) == ["coco", "dogs"]
    assert dataset_tags_add(dataset, ["dogs", "cats"]) == ["coco", "dogs", "cats"]
    assert dataset_tags_remove(dataset, ["dogs"]) == ["coco", "cats"]
    assert dataset_tags_remove(dataset, ["dogs"]) == ["coco", "cats"]
    assert dataset_tags_add(dataset, ["dogs"]) == ["coco", "cats", "dogs"]


def test_get_by_name_prefers_dataset_outside_projects():
    outside = dataset_create(dataset_name="cars")
    dataset_create(dataset_name="cars", dataset_project="p1")
    assert dataset_get(dataset_name="cars") == outside


def test_get_by_name_unique_across_projects():
    inside = dataset_create(dataset_name="cars", dataset_project="p1")
    assert dataset_get(dataset_name="cars") == inside


def test_get_by_name_ambiguous_names_the_candidates():
    dataset_create(dataset_name="cars", dataset_project="p1")
    dataset_create(dataset_name="cars", dataset_project="p2")
    with pytest.raises(AmbiguousName) as info:
        dataset_get(dataset_name="cars")
    assert "'p1'" in info.value.message and "'p2'" in info.value.message


def test_get_not_found_and_bad_id():
    with pytest.raises(NotFound, match="'nope'"):
        dataset_get(dataset_name="nope")
    with pytest.raises(NotFound, match="project 'p'"):
        dataset_get(dataset_name="nope", project_name="p")
    with pytest.raises(InvalidInput, match="not a valid id"):
        dataset_get(dataset_id="xyz")
    with pytest.raises(NotFound, match="named 'x' does not exist"):
        dataset_get(dataset_id="5b1e8a52-7c36-4c5a-a3c2-111111111111", dataset_name="x")


def test_get_by_id_and_project():
    dataset = dataset_create(dataset_name="cars", dataset_project="p1")
    assert dataset_get(dataset_id=str(dataset.pk)) == dataset
    assert dataset_get(dataset_name="cars", project_name="p1") == dataset


def test_list_filters_by_project_tag_and_name():
    a = dataset_create(dataset_name="alpha cars", dataset_project="p1", tags=["t1"])
    b = dataset_create(dataset_name="beta", tags=["t1", "t2"])
    assert list(dataset_list(project=a.project)) == [a]
    assert list(dataset_list(tag="t1")) == [a, b]
    assert list(dataset_list(tag="t2")) == [b]
    assert list(dataset_list(name="CARS")) == [a]


def test_rename_and_move():
    dataset = dataset_create(dataset_name="cars")
    other = dataset_create(dataset_name="bikes", dataset_project="p")
    moved = dataset_update(dataset, name="autos", project=other.project, move_project=True)
    assert (moved.name, moved.project) == ("autos", other.project)
    with pytest.raises(AlreadyExists, match="'bikes' already exists in project 'p'"):
        dataset_update(moved, name="bikes")
    back = dataset_update(moved, project=None, move_project=True)
    assert back.project is None


def test_delete_without_versions_only_when_empty():
    dataset = dataset_create(dataset_name="d")
    with pytest.raises(StateConflict, match="has 1 version"):
        dataset_delete(dataset)
    version_delete(version_head(dataset))
    dataset_delete(dataset, delete_all_versions=False)
    assert not Dataset.objects.filter(pk=dataset.pk).exists()


def test_delete_all_versions_only_when_all_draft():
    dataset = dataset_create(dataset_name="d")
    version_create(dataset, version_name="root2")
    dataset_delete(dataset, delete_all_versions=True)
    assert not Dataset.objects.exists()
    assert not DatasetVersion.objects.exists()


def test_delete_with_published_needs_force():
    dataset = dataset_create(dataset_name="d")
    snapshot_create(dataset)
    with pytest.raises(StateConflict, match="1 Published version"):
        dataset_delete(dataset, delete_all_versions=True, force=False)
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 2
    dataset_delete(dataset, delete_all_versions=True, force=True, delete_sources=True)
    assert not Dataset.objects.exists() and not DatasetVersion.objects.exists()


def test_delete_sources_ignored_without_delete_all_versions():
    dataset = dataset_create(dataset_name="d")
    with pytest.raises(StateConflict):
        dataset_delete(dataset, delete_all_versions=False, delete_sources=True)
    assert Dataset.objects.filter(pk=dataset.pk).exists()


def test_delete_dataset_with_graph_of_versions():
    dataset = dataset_create(dataset_name="d")
    snap_child = snapshot_create(dataset)
    published = DatasetVersion.objects.get(dataset=dataset, status=VersionStatus.PUBLISHED)
    version_publish(snap_child)
    version_create(dataset, version_name="merge", parent_version_ids=[snap_child.pk, published.pk])
    dataset_delete(dataset, delete_all_versions=True, force=True)
    assert not DatasetVersion.objects.exists()
