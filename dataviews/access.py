"""Who may do what to a dataview: its project's rules (``hyperdatasets.access.POLICY``); outside any project,
every signed-in user may read and change it, and its creator is its admin (as a dataset outside projects).
Reading its frames (counts, iterations) also needs read on every dataset it takes frames from: a dataview
never lends its inputs."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from dataviews.models import Dataview
from hyperdatasets.access import AccessDenied, Role, dataset_role, project_role, require, visible_projects
from hyperdatasets.exceptions import NotFound
from hyperdatasets.models import Dataset


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def dataview_role(user, dataview: Dataview) -> Role:
    if not _signed_in(user):
        return Role.NONE
    if dataview.project_id is not None:
        return project_role(user, dataview.project)
    if user.is_superuser or dataview.created_by_id == user.pk:
        return Role.ADMIN
    return Role.WRITE


def visible_dataviews(user) -> QuerySet[Dataview]:
    if not _signed_in(user):
        return Dataview.objects.none()
    if user.is_superuser:
        return Dataview.objects.all()
    return Dataview.objects.filter(Q(project__isnull=True) | Q(project__in=visible_projects(user).values("pk")))


def require_dataview(user, dataview: Dataview, action: str, raw_id=None) -> None:
    """The action's role on the dataview; none at all is "not found" (never forbidden)."""
    role = dataview_role(user, dataview)
    if role < Role.READ:
        raise NotFound(f"dataview {raw_id if raw_id is not None else dataview.pk} does not exist")
    require(user, role, action, f"dataview {dataview.name!r}")


def require_inputs_readable(user, stored_versions: list[dict]) -> None:
    """Every input dataset of the recipe (stored form) may be read by ``user``."""
    ids = {entry["dataset"] for entry in stored_versions}
    for dataset in Dataset.objects.filter(pk__in=ids).select_related("project"):
        if dataset_role(user, dataset) < Role.READ:
            raise AccessDenied("the dataview takes frames from a dataset you may not read")
