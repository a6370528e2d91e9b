"""Reads of datasets and projects."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce

from hyperdatasets.exceptions import AmbiguousName, InvalidInput, NotFound
from hyperdatasets.models import Dataset, DatasetVersion, Project, VersionStatus


def parse_uuid(field: str, value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput.for_field(field, f"{value!r} is not a valid id") from None


def project_get(*, name: str | None = None, project_id: object = None) -> Project:
    try:
        if project_id is not None:
            return Project.objects.get(pk=parse_uuid("project_id", project_id))
        return Project.objects.get(name=name)
    except Project.DoesNotExist:
        raise NotFound(f"project {name or project_id!r} does not exist") from None


def dataset_get(
    *, dataset_id: object = None, dataset_name: str | None = None, project_name: str | None = None,
    queryset: QuerySet[Dataset] | None = None,
) -> Dataset:
    """One dataset by id, or by name (in a project, or by the rule for names without a project). Given an id
    and a name (or project), the dataset with that id must also carry them: each is a condition."""
    datasets = queryset if queryset is not None else Dataset.objects.all()
    datasets = datasets.select_related("project")
    if dataset_id is not None:
        conditions = {"pk": parse_uuid("dataset_id", dataset_id)}
        if dataset_name is not None:
            conditions["name"] = dataset_name
        if project_name is not None:
            conditions["project__name"] = project_name
        try:
            return datasets.get(**conditions)
        except Dataset.DoesNotExist:
            named = f" named {dataset_name!r}" if dataset_name is not None else ""
            inside = f" in project {project_name!r}" if project_name is not None else ""
            raise NotFound(f"dataset {dataset_id}{named}{inside} does not exist") from None
    if dataset_name is None:
        raise InvalidInput.for_field("dataset_name", "give dataset_name or dataset_id")
    if project_name is not None:
        try:
            return datasets.get(project__name=project_name, name=dataset_name)
        except Dataset.DoesNotExist:
            raise NotFound(f"dataset {dataset_name!r} does not exist in project {project_name!r}") from None
    return named_without_project(datasets, dataset_name, "dataset", "dataset_project")


def named_without_project(objects: QuerySet, name: str, kind: str, project_field: str):
    """The rule for a name given without a project (datasets, dataviews): the object outside any project
    that has it, else the one object of that name in any project; several are ``AmbiguousName``, naming
    ``project_field`` as the field to give."""
    outside = objects.filter(project__isnull=True, name=name).first()
    if outside is not None:
        return outside
    candidates = list(objects.filter(name=name).order_by("project__name")[:21])
    if not candidates:
        raise NotFound(f"{kind} {name!r} does not exist")
    if len(candidates) > 1:
        projects = ", ".join(repr(c.project.name) for c in candidates[:20])
        raise AmbiguousName(
            f"{kind} name {name!r} exists in several projects ({projects}); give {project_field}",
            details={project_field: [f"required: {name!r} is in projects {projects}"]},
        )
    return candidates[0]


def dataset_list(*, project: Project | None = None, tag: str | None = None, tags: Sequence[str] = (),
                 name: str | None = None) -> QuerySet[Dataset]:
    """Datasets, optionally of a project, holding ``tag`` and every one of ``tags``, named with ``name``."""
    datasets = Dataset.objects.select_related("project").prefetch_related("tags")
    if project is not None:
        datasets = datasets.filter(project=project)
    for wanted in dict.fromkeys([*([tag] if tag is not None else []), *tags]):
        datasets = datasets.filter(tags__name=wanted)
    if name is not None:
        datasets = datasets.filter(name__icontains=name)
    return datasets.order_by("name", "id")


def dataset_summarized(dataset: Dataset, *, parents: bool = True) -> DatasetVersion | None:
    """Set on ``dataset`` what ``datasets_with_summary`` annotates (version count, current version id and
    frame count) from one query over its versions, and return its current version (with ``parents``, its
    parent links prefetched, as ``VersionOut`` reads them)."""
    from hyperdatasets.selectors.versions import head_key

    versions = list(DatasetVersion.objects.filter(dataset_id=dataset.pk).select_related("created_by"))
    head = max(versions, key=head_key, default=None)
    dataset.version_count = len(versions)
    dataset.current_version_id = head.pk if head is not None else None
    dataset.current_frame_count = head.frame_count if head is not None else None
    if head is not None:
        if parents:
            prefetch_related_objects([head], "parent_links")
        head.dataset = dataset
    return head


def dataset_for_output(datasets: QuerySet[Dataset]) -> QuerySet[Dataset]:
    """What ``DatasetOut`` reads besides the summary: project, creator and tags."""
    return datasets.select_related("project", "created_by").prefetch_related("tags")


def datasets_with_summary(datasets: QuerySet[Dataset]) -> QuerySet[Dataset]:
    """Datasets with their version count and current version (id, frame count), in a fixed number of
    queries whatever the page size."""
    versions = DatasetVersion.objects.filter(dataset=OuterRef("pk"))
    head = versions.annotate(
        draft_first=Case(When(status=VersionStatus.DRAFT, then=Value(1)), default=Value(0),
                         output_field=IntegerField()),
        draft_depth=Case(When(status=VersionStatus.DRAFT, then=F("depth")), default=Value(0),
                         output_field=IntegerField()),
    ).order_by("-draft_first", "-draft_depth", "-number")
    counts = versions.order_by().values("dataset").annotate(n=Count("pk")).values("n")
    return datasets.select_related("project", "created_by").prefetch_related("tags").annotate(
        version_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0),
        current_version_id=Subquery(head.values("pk")[:1]),
        current_frame_count=Subquery(head.values("frame_count")[:1]),
    )
