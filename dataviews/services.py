"""Every write of a dataview: create, update, publish, archive and restore, clone, move, delete.

A Published dataview is read-only: an update or a delete needs ``force`` (ClearML's rule). Archiving and
moving change where the dataview is listed, not what it takes, and are allowed in either state. Each write
runs in one transaction on the dataview's locked row, so two writers never interleave their checks.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from dataviews import spec
from dataviews.models import Dataview, DataviewStatus
from hyperdatasets.exceptions import AlreadyExists, InvalidInput, StateConflict
from hyperdatasets.models import Project
from hyperdatasets.services.projects import project_create
from hyperdatasets.validation import clean_name, clean_tags, clean_text

# The recipe fields, in the order they are checked (rules refer to the inputs).
RECIPE_FIELDS = ("versions", "filters", "mapping", "labels_enumeration", "output_rois", "iteration")
EDITABLE_FIELDS = ("name", "description", "tags", *RECIPE_FIELDS)


def _user_or_none(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _project(project_name: str | None, user) -> Project | None:
    if project_name is None:
        return None
    return project_create(name=clean_name("project_name", project_name), user=user)


def _name_taken(name: str, project: Project | None) -> AlreadyExists:
    where = f" in project {project.name!r}" if project else " outside any project"
    return AlreadyExists(f"a dataview named {name!r} already exists{where}",
                         details={"name": ["must be unique in the project"]})


def _save(dataview: Dataview, *, create: bool = False) -> Dataview:
    try:
        with transaction.atomic():
            if create:
                dataview.save(force_insert=True)
            else:
                dataview.save()
    except IntegrityError:
        raise _name_taken(dataview.name, dataview.project) from None
    return dataview


def _apply_recipe(dataview: Dataview, fields: dict[str, Any]) -> None:
    """Check the given recipe fields against the (new or stored) inputs and set them. Rules always refer to
    the inputs, so when the inputs change the stored rules are checked again."""
    if "versions" in fields:
        inputs = spec.clean_inputs(fields["versions"])
        dataview.versions = spec.stored_inputs(inputs)
    else:
        inputs = spec.inputs_from_stored(dataview.versions)
    if "filters" in fields or "versions" in fields:
        dataview.filters = spec.clean_filters(fields.get("filters", dataview.filters), inputs)
    if "mapping" in fields or "versions" in fields:
        dataview.mapping = spec.clean_mapping(fields.get("mapping", dataview.mapping), inputs)
    if "labels_enumeration" in fields:
        dataview.labels_enumeration = spec.clean_enumeration(fields["labels_enumeration"])
    if "output_rois" in fields:
        dataview.output_rois = spec.clean_output_rois(fields["output_rois"])
    if "iteration" in fields or not dataview.iteration:
        dataview.iteration = spec.clean_iteration(fields.get("iteration"), dataview.iteration)


def dataview_create(*, name: str, project_name: str | None = None, description: str | None = None,
                    tags: list[str] | None = None, user=None, **recipe: Any) -> Dataview:
    """A Draft dataview. ``recipe``: ``versions``, ``filters``, ``mapping``, ``labels_enumeration``,
    ``output_rois``, ``iteration`` (see ``dataviews.spec``)."""
    unknown = sorted(set(recipe) - set(RECIPE_FIELDS))
    if unknown:
        raise InvalidInput.for_field(unknown[0], f"unknown field; known: {', '.join(RECIPE_FIELDS)}")
    name = clean_name("name", name)
    dataview = Dataview(name=name, description=clean_text("description", description), tags=clean_tags(tags),
                        created_by=_user_or_none(user))
    _apply_recipe(dataview, {"versions": recipe.get("versions"), **recipe})
    with transaction.atomic():
        dataview.project = _project(project_name, user)
        return _save(dataview, create=True)


def _locked(dataview: Dataview) -> Dataview:
    return Dataview.objects.select_for_update(of=("self",)).select_related("project").get(pk=dataview.pk)


def _refuse_published(dataview: Dataview, action: str, force: bool) -> None:
    if dataview.is_published and not force:
        raise StateConflict(f"dataview {dataview.name!r} is Published and read-only; pass force=True to {action} it")


def dataview_update(dataview: Dataview, *, force: bool = False, **fields: Any) -> Dataview:
    """Change the given fields (``EDITABLE_FIELDS``); a Published dataview only with ``force``."""
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput.for_field(unknown[0], f"cannot be changed; changeable: {', '.join(EDITABLE_FIELDS)}")
    with transaction.atomic():
        dataview = _locked(dataview)
        _refuse_published(dataview, "change", force)
        if "name" in fields:
            dataview.name = clean_name("name", fields["name"])
        if "description" in fields:
            dataview.description = clean_text("description", fields["description"])
        if "tags" in fields:
            dataview.tags = clean_tags(fields["tags"])
        _apply_recipe(dataview, {key: fields[key] for key in RECIPE_FIELDS if key in fields})
        return _save(dataview)


def dataview_publish(dataview: Dataview) -> Dataview:
    """Draft to Published, once it has inputs and a rule naming a dataset: a recipe that takes frames."""
    with transaction.atomic():
        dataview = _locked(dataview)
        if dataview.is_published:
            raise StateConflict(f"dataview {dataview.name!r} is already Published")
        if not spec.inputs_from_stored(dataview.versions):
            raise InvalidInput.for_field("versions", "a dataview needs an input version to be published")
        if not dataview.filters:
            raise InvalidInput.for_field("filters", "a dataview needs a filter rule to be published")
        dataview.status = DataviewStatus.PUBLISHED
        dataview.published = timezone.now()
        return _save(dataview)


def _set_archived(dataview: Dataview, archived: bool) -> Dataview:
    with transaction.atomic():
        dataview = _locked(dataview)
        dataview.archived = archived
        return _save(dataview)


def dataview_archive(dataview: Dataview) -> Dataview:
    return _set_archived(dataview, True)


def dataview_restore(dataview: Dataview) -> Dataview:
    return _set_archived(dataview, False)


def dataview_move(dataview: Dataview, *, project_name: str | None, user=None) -> Dataview:
    """Into another project (``None``: out of any project); the name must be free there."""
    with transaction.atomic():
        dataview = _locked(dataview)
        dataview.project = _project(project_name, user)
        return _save(dataview)


def dataview_clone(dataview: Dataview, *, name: str, project_name: str | None = None, description=None,
                   user=None) -> Dataview:
    """A Draft copy of the recipe under a new name (in ``project_name``, else the source's project)."""
    source = Dataview.objects.select_related("project").get(pk=dataview.pk)
    clone = Dataview(
        name=clean_name("name", name),
        description=source.description if description is None else clean_text("description", description),
        tags=list(source.tags), versions=source.versions, filters=source.filters, mapping=source.mapping,
        labels_enumeration=source.labels_enumeration, output_rois=source.output_rois, iteration=source.iteration,
        created_by=_user_or_none(user),
    )
    with transaction.atomic():
        clone.project = _project(project_name, user) if project_name is not None else source.project
        return _save(clone, create=True)


def dataview_delete(dataview: Dataview, *, force: bool = False) -> None:
    """Delete a Draft dataview; a Published one only with ``force``."""
    with transaction.atomic():
        dataview = _locked(dataview)
        _refuse_published(dataview, "delete", force)
        dataview.delete()
