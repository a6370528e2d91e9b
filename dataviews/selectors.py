"""Reads of dataviews: one by id or by name, a project's list."""

from __future__ import annotations

from django.db.models import QuerySet

from dataviews.models import Dataview
from hyperdatasets.exceptions import NotFound
from hyperdatasets.selectors.datasets import named_without_project, parse_uuid


def dataview_get(*, dataview_id: object = None, name: str | None = None, project_name: str | None = None,
                 queryset: QuerySet[Dataview] | None = None) -> Dataview:
    """By id, or by name (in a project; without one, the dataview outside any project, else the one dataview
    of that name in any project)."""
    dataviews = (queryset if queryset is not None else Dataview.objects.all()).select_related("project")
    if dataview_id is not None:
        try:
            return dataviews.get(pk=parse_uuid("dataview_id", dataview_id))
        except Dataview.DoesNotExist:
            raise NotFound(f"dataview {dataview_id} does not exist") from None
    if name is None:
        raise NotFound("give a dataview id or name")
    if project_name is not None:
        found = dataviews.filter(project__name=project_name, name=name).first()
        if found is None:
            raise NotFound(f"dataview {name!r} does not exist in project {project_name!r}")
        return found
    return named_without_project(dataviews, name, "dataview", "project_name")


def dataview_list(*, project=None, archived: bool | None = False) -> QuerySet[Dataview]:
    """A project's dataviews (all projects' with ``project`` None), by name; ``archived`` None for both."""
    dataviews = Dataview.objects.select_related("project")
    if project is not None:
        dataviews = dataviews.filter(project=project)
    if archived is not None:
        dataviews = dataviews.filter(archived=archived)
    return dataviews.order_by("name", "id")
