"""Every write of a dataview: create, update, publish, archive and restore, clone, move, delete; and the
start of an iteration (its snapshot of items, ``dataviews.rules``), and the removal of unused ones.

A Published dataview is read-only: an update or a delete needs ``force`` (ClearML's rule). Archiving and
moving change where the dataview is listed, not what it takes, and are allowed in either state. Each write
runs in one transaction on the dataview's locked row, so two writers never interleave their checks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dataviews import rules as dataview_rules
from dataviews import spec, streams
from dataviews.models import Dataview, DataviewItem, DataviewIteration, DataviewStatus
from hyperdatasets.exceptions import AlreadyExists, InvalidInput, StateConflict
from hyperdatasets.models import Project
from hyperdatasets.selectors.frames import db_uuid
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


def _apply_recipe(dataview: Dataview, fields: dict[str, Any], datasets=None) -> None:
    """Check the given recipe fields against the (new or stored) inputs and set them. Rules always refer to
    the inputs, so when the inputs change the stored rules are checked again."""
    if "versions" in fields:
        inputs = spec.clean_inputs(fields["versions"], datasets)
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
                    tags: list[str] | None = None, user=None, datasets=None, **recipe: Any) -> Dataview:
    """A Draft dataview. ``recipe``: ``versions``, ``filters``, ``mapping``, ``labels_enumeration``,
    ``output_rois``, ``iteration`` (see ``dataviews.spec``); its inputs are taken among ``datasets`` (all
    when None)."""
    unknown = sorted(set(recipe) - set(RECIPE_FIELDS))
    if unknown:
        raise InvalidInput.for_field(unknown[0], f"unknown field; known: {', '.join(RECIPE_FIELDS)}")
    name = clean_name("name", name)
    dataview = Dataview(name=name, description=clean_text("description", description), tags=clean_tags(tags),
                        created_by=_user_or_none(user))
    _apply_recipe(dataview, {"versions": recipe.get("versions"), **recipe}, datasets)
    with transaction.atomic():
        dataview.project = _project(project_name, user)
        return _save(dataview, create=True)


def _locked(dataview: Dataview) -> Dataview:
    return Dataview.objects.select_for_update(of=("self",)).select_related("project").get(pk=dataview.pk)


def _refuse_published(dataview: Dataview, action: str, force: bool) -> None:
    if dataview.is_published and not force:
        raise StateConflict(f"dataview {dataview.name!r} is Published and read-only; pass force=True to {action} it")


def dataview_update(dataview: Dataview, *, force: bool = False, datasets=None, **fields: Any) -> Dataview:
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
        _apply_recipe(dataview, {key: fields[key] for key in RECIPE_FIELDS if key in fields}, datasets)
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
        _drop_iterations(DataviewIteration.objects.filter(dataview=dataview))
        dataview.delete()


# --- iterations --------------------------------------------------------------------------------------------

# An iteration nobody has read for this long is removed (its snapshot with it).
ITERATION_KEPT = timedelta(days=1)
RECIPE_SNAPSHOT = ("versions", "filters", "mapping", "labels_enumeration", "output_rois")


def _drop_iterations(iterations) -> None:
    ids = list(iterations.values_list("pk", flat=True))
    if not ids:
        return
    with transaction.atomic():
        DataviewItem.objects.filter(iteration_id__in=ids).delete()
        DataviewIteration.objects.filter(pk__in=ids).delete()


def iteration_drop(run: DataviewIteration) -> None:
    """Remove a run and its snapshot (a run made for one reader, such as an export, once read)."""
    _drop_iterations(DataviewIteration.objects.filter(pk=run.pk))


def iterations_expire() -> None:
    """Remove the iterations nobody read for ``ITERATION_KEPT``."""
    _drop_iterations(DataviewIteration.objects.filter(touched__lt=timezone.now() - ITERATION_KEPT))


ITERATION_KEY_MAX = 64


def _clean_iteration_key(key: Any) -> str:
    if key is None:
        return ""
    if not isinstance(key, str) or len(key) > ITERATION_KEY_MAX or not key.isprintable():
        raise InvalidInput.for_field("key", f"must be a printable string of at most {ITERATION_KEY_MAX} characters")
    return key.strip()


def iteration_start(dataview: Dataview, *, user=None, allow_repetition: bool = False,
                    iteration: dict[str, Any] | None = None, key: str | None = None) -> DataviewIteration:
    """A run over the dataview as it is now: the items its rules take (each input version's frames, each
    once per version), their counts, and the plan of their order. ``iteration`` overrides the stored
    iteration parameters for this run (order, infinite, limit, random_seed); ``allow_repetition`` makes a
    synthetic epoch (``streams.stream_length``). With a ``key``, the run of the dataview started with that key
    is answered when there is one (as it was started: the other arguments are then ignored), so that
    processes which agree on a key share one order; ``run.started`` says whether this call started it."""
    if type(allow_repetition) is not bool:
        raise InvalidInput.for_field("allow_repetition", "must be true or false")
    key = _clean_iteration_key(key)
    parameters = spec.clean_iteration(iteration, dataview.iteration)
    iterations_expire()
    existing = _keyed_run(dataview, key)
    if existing is not None:
        return existing
    inputs = spec.inputs_from_stored(dataview.versions)
    if not inputs:
        raise InvalidInput.for_field("versions", "the dataview has no input version to iterate")
    rules = dataview_rules.recipe_rules(dataview.filters, inputs)
    try:
        run = _iteration_snapshot(dataview, user, parameters, rules, inputs, allow_repetition, key)
    except IntegrityError:
        # Another process started the run of this key meanwhile (PostgreSQL made this insert wait for its
        # commit): answer that one.
        existing = _keyed_run(dataview, key)
        if existing is None:
            raise
        return existing
    run.started = True
    return run


def dataview_inline(recipe: dict[str, Any], datasets=None) -> Dataview:
    """An unsaved dataview of a recipe given inline (``RECIPE_FIELDS``), checked as a stored one's is: to
    count or iterate, never stored."""
    unknown = sorted(set(recipe) - set(RECIPE_FIELDS))
    if unknown:
        raise InvalidInput.for_field(unknown[0], f"unknown field; known: {', '.join(RECIPE_FIELDS)}")
    dataview = Dataview(name="inline")
    _apply_recipe(dataview, {"versions": recipe.get("versions"), **recipe}, datasets)
    return dataview


def iteration_start_inline(recipe: dict[str, Any], *, user=None, datasets=None,
                           allow_repetition: bool = False) -> DataviewIteration:
    """A run over a recipe given inline (``RECIPE_FIELDS``, checked as a stored dataview's are, its inputs
    taken among ``datasets``) rather than a stored dataview: ClearML's scrolls. The run has no dataview;
    it expires as any other."""
    if type(allow_repetition) is not bool:
        raise InvalidInput.for_field("allow_repetition", "must be true or false")
    dataview = dataview_inline(recipe, datasets)
    inputs = spec.inputs_from_stored(dataview.versions)
    if not inputs:
        raise InvalidInput.for_field("versions", "the dataview has no input version to iterate")
    iterations_expire()
    rules = dataview_rules.recipe_rules(dataview.filters, inputs)
    run = _iteration_snapshot(dataview, user, dataview.iteration, rules, inputs, allow_repetition, "")
    run.started = True
    return run


def _keyed_run(dataview: Dataview, key: str) -> DataviewIteration | None:
    """The dataview's run of ``key`` (none for an empty key), marked as not started by this call."""
    run = DataviewIteration.objects.filter(dataview=dataview, key=key).first() if key else None
    if run is not None:
        run.started = False
    return run


def _iteration_snapshot(dataview, user, parameters, rules, inputs, allow_repetition, key) -> DataviewIteration:
    with transaction.atomic():
        run = DataviewIteration.objects.create(
            dataview=None if dataview._state.adding else dataview,
            recipe={field: getattr(dataview, field) for field in RECIPE_SNAPSHOT},
            order=parameters["order"], random_seed=parameters["random_seed"], key=key,
            weights=[rule.weight for rule in rules], created_by=_user_or_none(user))
        insert = dataview_rules.snapshot_sql(db_uuid(run.pk), inputs, rules, connection.vendor)
        masks: list[tuple[int, int]] = []
        with connection.cursor() as db:
            if insert is not None:
                db.execute(insert.text, insert.params)
                if connection.vendor == "postgresql":
                    # Fresh statistics for the batches' lookups (autovacuum may be off, or not yet there):
                    # without them the planner takes the new rows for none and filters instead of seeking.
                    db.execute("ANALYZE dataviews_dataviewitem")
                db.execute("SELECT mask, count(*) FROM dataviews_dataviewitem WHERE iteration_id = %s GROUP BY mask",
                           [db_uuid(run.pk)])
                masks = db.fetchall()
        counts = dataview_rules.counts_from_masks(masks, len(rules))
        run.repeat, run.length = streams.stream_length(
            counts.total, counts.sizes, run.weights, infinite=parameters["infinite"], limit=parameters["limit"],
            allow_repetition=allow_repetition)
        run.sizes, run.rule_counts, run.total = counts.sizes, counts.rule_counts, counts.total
        run.save(update_fields=["repeat", "length", "sizes", "rule_counts", "total"])
    return run


def iteration_touch(run: DataviewIteration) -> None:
    """Mark the iteration used (at most once a minute), so that it is kept."""
    now = timezone.now()
    if now - run.touched > timedelta(minutes=1):
        DataviewIteration.objects.filter(pk=run.pk).update(touched=now)
        run.touched = now
