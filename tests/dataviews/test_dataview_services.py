"""The stored dataview: its recipe checked and read back exactly, ids resolved from names, the Draft and
Published rules, archive, move, clone and delete, and the admin's list and actions."""

import pytest
from django.db import IntegrityError

from dataviews.models import Dataview
from dataviews.selectors import dataview_get, dataview_list
from dataviews.services import (
    dataview_archive,
    dataview_clone,
    dataview_create,
    dataview_delete,
    dataview_move,
    dataview_publish,
    dataview_restore,
    dataview_update,
)
from hyperdatasets.exceptions import AlreadyExists, AmbiguousName, InvalidInput, NotFound, StateConflict
from hyperdatasets.models import AccessRole, ProjectAccessRule
from hyperdatasets.queries.syntax import QueryError
from hyperdatasets.selectors.versions import version_head
from hyperdatasets.services.datasets import dataset_create
from hyperdatasets.services.frames import frames_upsert
from hyperdatasets.services.versions import version_create, version_publish

pytestmark = pytest.mark.django_db

RULE = {"dataset": "street", "version": "v1", "weight": 2.5, "filter_by_roi": "label_rules",
        "label_rules": [{"label": "car AND NOT truck", "count_range": [1, 4], "conf_range": [0.5, 1],
                         "must_not": False}],
        "frame_query": "meta.city:Haifa", "sources_query": "id:front"}


@pytest.fixture
def street():
    """Dataset ``street`` with Published ``v1`` (frames with a city) and its Draft child ``v2``."""
    dataset = dataset_create(dataset_name="street", dataset_project="cars")
    root = version_head(dataset)
    assert frames_upsert(root, [{"id": "a", "sources": [{"id": "front", "uri": "s3://b/a.jpg"}],
                                 "meta": {"city": "Haifa"}}]).failures == []
    dataset.refresh_from_db()
    root.name = "v1"
    root.save(update_fields=["name"])
    v1 = version_publish(root)
    v2 = version_create(dataset, version_name="v2", parent_version_names=["v1"])
    return dataset, v1, v2


def _view(street, **changes):
    dataset, v1, v2 = street
    recipe = {"versions": [{"dataset_name": "street", "dataset_project": "cars", "version_name": "v1"},
                           {"dataset_id": str(dataset.pk), "version_id": str(v2.pk)}],
              "filters": [RULE, {"dataset": str(dataset.pk), "version": "*"}],
              "mapping": [{"source": {"dataset": "street", "labels": ["car", "van"]}, "target": "vehicle"}],
              "labels_enumeration": {"vehicle": 1, "person": 2},
              "output_rois": "only_filtered",
              "iteration": {"order": "random", "infinite": True, "limit": 5000, "random_seed": 42}}
    recipe.update(changes)
    return dataview_create(name="training", project_name="cars", description="day and night", tags=["a"],
                           **recipe)


def test_a_recipe_is_stored_by_id_and_read_back_exactly(street):
    dataset, v1, v2 = street
    view = _view(street)
    stored = Dataview.objects.get(pk=view.pk)
    assert stored.status == "draft" and stored.project.name == "cars" and stored.tags == ["a"]
    assert stored.versions == [{"dataset": str(dataset.pk), "version": str(v1.pk)},
                               {"dataset": str(dataset.pk), "version": str(v2.pk)}]
    assert stored.filters == [{**RULE, "dataset": str(dataset.pk), "version": str(v1.pk)},
                              {"dataset": str(dataset.pk), "version": "*", "weight": 1}]
    assert stored.mapping == [{"source": {"dataset": str(dataset.pk), "version": "*", "labels": ["car", "van"]},
                               "target": "vehicle"}]
    assert stored.labels_enumeration == {"vehicle": 1, "person": 2}
    assert stored.output_rois == "only_filtered"
    assert stored.iteration == {"order": "random", "infinite": True, "limit": 5000, "random_seed": 42}


def test_a_seed_is_generated_once_when_none_is_given_and_kept(street):
    view = _view(street, iteration=None)
    seed = view.iteration["random_seed"]
    assert type(seed) is int and 0 <= seed < 2**31
    assert view.iteration == {"order": "sequential", "infinite": False, "limit": None, "random_seed": seed}
    view = dataview_update(view, iteration={"order": "random"})
    assert view.iteration["random_seed"] == seed and view.iteration["order"] == "random"


@pytest.mark.parametrize(("changes", "field"), [
    ({"versions": [{"dataset_name": "street"}]}, "versions[0].version_id"),
    ({"versions": [{"version_name": "v1"}]}, "versions[0].dataset_id"),
    ({"versions": [{"dataset_name": "street", "version_name": "v1", "colour": 1}]}, "versions[0]"),
    ({"versions": [{"dataset_name": "street", "version_name": "v1"}] * 2}, "versions[1]"),
    ({"versions": "street"}, "versions"),
    ({"filters": [dict(RULE, dataset="elsewhere")]}, "filters[0].dataset"),
    ({"filters": [dict(RULE, version="v9")]}, "filters[0].version"),
    ({"filters": [dict(RULE, dataset="*", version="v1")]}, "filters[0].version"),
    ({"filters": [{"dataset": "*"}]}, "filters"),
    ({"filters": [dict(RULE, weight=0)]}, "filters[0].weight"),
    ({"filters": [dict(RULE, weight=True)]}, "filters[0].weight"),
    ({"filters": [dict(RULE, weight=float("inf"))]}, "filters[0].weight"),
    ({"filters": [dict(RULE, colour="red")]}, "filters[0]"),
    ({"filters": [dict(RULE, filter_by_roi="some")]}, "filters[0].filter_by_roi"),
    ({"filters": [dict(RULE, label_rules=[{"label": "car", "count_range": [3, 1]}])]},
     "filters[0].label_rules[0].count_range"),
    ({"mapping": [{"source": {"labels": []}, "target": "x"}]}, "mapping[0].source.labels"),
    ({"mapping": [{"source": {"labels": ["car"]}, "target": " "}]}, "mapping[0].target"),
    ({"mapping": [{"source": {"dataset": "nope", "labels": ["car"]}, "target": "x"}]}, "mapping[0].source.dataset"),
    ({"labels_enumeration": {"car": True}}, "labels_enumeration.car"),
    ({"labels_enumeration": {"car": 2**40}}, "labels_enumeration.car"),
    ({"labels_enumeration": ["car"]}, "labels_enumeration"),
    ({"output_rois": "some"}, "output_rois"),
    ({"iteration": {"order": "shuffled"}}, "iteration.order"),
    ({"iteration": {"limit": 0}}, "iteration.limit"),
    ({"iteration": {"random_seed": -1}}, "iteration.random_seed"),
    ({"iteration": {"infinite": "yes"}}, "iteration.infinite"),
    ({"iteration": {"jump": 3}}, "iteration"),
    ({"colour": "red"}, "colour"),
])
def test_bad_recipes_are_refused_naming_the_field_and_nothing_is_stored(street, changes, field):
    with pytest.raises(InvalidInput) as caught:
        _view(street, **changes)
    assert field in caught.value.details, caught.value.details
    assert not Dataview.objects.exists()


def test_queries_are_checked_against_the_meta_schema_of_the_rules_datasets(street):
    with pytest.raises(QueryError) as caught:
        _view(street, filters=[dict(RULE, frame_query="meta.weather:rain")])
    assert "filters[0].frame_query" in caught.value.details
    assert "is not a meta key" in caught.value.message
    with pytest.raises(QueryError, match="filters\\[0\\].label_rules\\[0\\].label"):
        _view(street, filters=[dict(RULE, label_rules=[{"label": "car AND ("}])])


def test_inputs_that_do_not_exist_are_not_found(street):
    with pytest.raises(NotFound, match="'nowhere'"):
        _view(street, versions=[{"dataset_name": "nowhere", "version_name": "v1"}])
    with pytest.raises(NotFound, match="'v7'"):
        _view(street, versions=[{"dataset_name": "street", "version_name": "v7"}])


def test_names_are_unique_in_a_project_and_outside_projects(street):
    _view(street)
    with pytest.raises(AlreadyExists, match="'training' already exists in project 'cars'"):
        _view(street)
    other = dataview_create(name="training", project_name="bikes")
    loose = dataview_create(name="training")
    with pytest.raises(AlreadyExists, match="outside any project"):
        dataview_create(name="training")
    with pytest.raises(AlreadyExists):
        dataview_move(other, project_name="cars")
    second = dataview_create(name="second", project_name="bikes")
    with pytest.raises(AlreadyExists):
        dataview_update(second, name="training")
    assert Dataview.objects.get(pk=second.pk).name == "second"
    assert dataview_get(name="training") == loose
    assert dataview_get(name="training", project_name="bikes") == other
    dataview_delete(loose)
    with pytest.raises(AmbiguousName, match="'bikes', 'cars'.*give project_name"):
        dataview_get(name="training")
    with pytest.raises(NotFound):
        dataview_get(dataview_id="5d8e8a51-8d5a-4b0e-9d43-2a9f6f3f0c11")


def test_the_database_refuses_a_second_name_in_a_project(street):
    view = _view(street)
    with pytest.raises(IntegrityError):
        Dataview.objects.create(name=view.name, project=view.project)


def test_a_published_dataview_is_read_only_unless_forced(street):
    view = dataview_publish(_view(street))
    assert view.status == "published" and view.published is not None
    with pytest.raises(StateConflict, match="Published and read-only; pass force=True to change"):
        dataview_update(view, description="new")
    with pytest.raises(StateConflict, match="to delete"):
        dataview_delete(view)
    with pytest.raises(StateConflict, match="already Published"):
        dataview_publish(view)
    assert Dataview.objects.get(pk=view.pk).description == "day and night"
    view = dataview_update(view, description="new", force=True)
    assert Dataview.objects.get(pk=view.pk).description == "new"
    archived = dataview_archive(view)
    assert archived.archived and list(dataview_list(project=view.project)) == []
    assert list(dataview_list(project=view.project, archived=True)) == [view]
    assert not dataview_restore(view).archived
    dataview_delete(view, force=True)
    assert not Dataview.objects.exists()


def test_a_dataview_without_inputs_or_rules_cannot_be_published(street):
    empty = dataview_create(name="empty")
    with pytest.raises(InvalidInput, match="versions: a dataview needs an input version"):
        dataview_publish(empty)
    no_rules = _view(street, filters=[])
    with pytest.raises(InvalidInput, match="filters: a dataview needs a filter rule"):
        dataview_publish(no_rules)


def test_changing_the_inputs_checks_the_stored_rules_again_atomically(street):
    dataset, v1, v2 = street
    view = _view(street)
    with pytest.raises(InvalidInput) as caught:
        dataview_update(view, versions=[{"dataset_id": str(dataset.pk), "version_id": str(v2.pk)}])
    assert "filters[0].version" in caught.value.details
    assert Dataview.objects.get(pk=view.pk).versions == view.versions
    view = dataview_update(view, versions=[{"dataset_id": str(dataset.pk), "version_id": str(v2.pk)}],
                           filters=[{"dataset": "street", "version": "v2", "frame_query": "meta.city:Haifa"}])
    assert view.filters == [{"dataset": str(dataset.pk), "version": str(v2.pk), "weight": 1,
                             "frame_query": "meta.city:Haifa"}]


def test_clone_makes_a_draft_copy_and_move_changes_the_project(street):
    view = dataview_publish(_view(street))
    clone = dataview_clone(view, name="training copy")
    assert clone.status == "draft" and clone.project == view.project and clone.pk != view.pk
    for field in ("versions", "filters", "mapping", "labels_enumeration", "output_rois", "iteration", "tags"):
        assert getattr(clone, field) == getattr(view, field)
    moved = dataview_move(view, project_name="elsewhere")
    assert moved.project.name == "elsewhere" and moved.status == "published"
    assert dataview_move(moved, project_name=None).project is None


def test_admin_lists_visible_dataviews_and_publishes_through_the_service(street, client, superuser, user):
    view = _view(street)
    hidden = dataview_create(name="secret", project_name="closed")
    client.force_login(superuser)
    page = client.get("/admin/dataviews/dataview/")
    assert page.status_code == 200 and b"training" in page.content and b"secret" in page.content
    response = client.post("/admin/dataviews/dataview/", {"action": "publish", "_selected_action": [str(view.pk)]})
    assert response.status_code == 302
    assert Dataview.objects.get(pk=view.pk).status == "published"
    user.is_staff = True
    user.save()
    from django.contrib.auth.models import Permission
    user.user_permissions.add(Permission.objects.get(codename="view_dataview"))
    ProjectAccessRule.objects.create(project=view.project, user=user, role=AccessRole.READ)
    client.force_login(user)
    page = client.get("/admin/dataviews/dataview/")
    assert page.status_code == 200 and b"training" in page.content and b"secret" not in page.content
    assert client.get(f"/admin/dataviews/dataview/{hidden.pk}/change/").status_code == 302
    client.post("/admin/dataviews/dataview/", {"action": "archive", "_selected_action": [str(view.pk)]})
    assert not Dataview.objects.get(pk=view.pk).archived  # read on the project is not write


def test_inputs_are_taken_only_among_the_given_datasets(street):
    """A caller's visible datasets bound what a recipe may name: any other is not found, by id or by name."""
    dataset, v1, _v2 = street
    from hyperdatasets.models import Dataset

    hidden = Dataset.objects.exclude(pk=dataset.pk)
    for entry in ({"dataset_id": str(dataset.pk), "version_id": str(v1.pk)},
                  {"dataset_name": "street", "dataset_project": "cars", "version_name": "v1"}):
        with pytest.raises(NotFound):
            dataview_create(name="scoped", versions=[entry], datasets=hidden)
    view = dataview_create(name="scoped", versions=[{"dataset_name": "street", "version_name": "v1"}],
                           datasets=Dataset.objects.all())
    with pytest.raises(NotFound):
        dataview_update(view, versions=[{"dataset_id": str(dataset.pk), "version_id": str(v1.pk)}], datasets=hidden)
    assert dataview_get(dataview_id=view.pk).versions == [{"dataset": str(dataset.pk), "version": str(v1.pk)}]
