"""The dataset page's actions, each through the services and the policy, reporting refusals on the page."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from hyperdatasets.access import require_dataset, require_dataset_move, visible_projects
from hyperdatasets.exceptions import InvalidInput, NotFound, ServiceError
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.datasets import parse_uuid
from hyperdatasets.services.datasets import dataset_delete, dataset_update
from hyperdatasets.services.snapshots import snapshot_create
from hyperdatasets.services.tags import dataset_tags_set
from hyperdatasets.services.versions import version_create, version_delete, version_publish
from webui.lookups import visible_dataset_or_404


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _snapshot(request, dataset):
    require_dataset(request.user, dataset, "version.snapshot")
    child = snapshot_create(dataset, publish_name=_blank_to_none(request.POST.get("publish_name")),
                            child_name=_blank_to_none(request.POST.get("child_name")), user=request.user)
    return f"Snapshot taken; {child.name!r} is the current version."


def _child(request, dataset):
    require_dataset(request.user, dataset, "version.create")
    child = version_create(dataset, version_name=request.POST.get("version_name", ""),
                           parent_version_ids=[request.POST.get("parent", "")], raise_if_exists=True,
                           user=request.user)
    return f"Created Draft {child.name!r}."


def _version(request, dataset) -> DatasetVersion:
    version_id = parse_uuid("version", request.POST.get("version", ""))
    version = DatasetVersion.objects.filter(dataset=dataset, pk=version_id).first()
    if version is None:
        raise Http404("version not found")
    return version


def _publish(request, dataset):
    require_dataset(request.user, dataset, "version.publish")
    version = version_publish(_version(request, dataset))
    return f"Published {version.name!r}; it is read-only from now on."


def _delete_version(request, dataset):
    require_dataset(request.user, dataset, "version.delete")
    version = _version(request, dataset)
    version_delete(version)
    return f"Deleted Draft {version.name!r}."


def _metadata(raw: str | None) -> dict | None:
    """The metadata field's JSON; absent means unchanged, empty means {}."""
    if raw is None:
        return None
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise InvalidInput.for_field("metadata", f"must be JSON ({exc})") from None


def _edit(request, dataset):
    require_dataset(request.user, dataset, "dataset.change")
    metadata = _metadata(request.POST.get("metadata"))
    with transaction.atomic():  # name, description, metadata and tags change together or not at all
        dataset_update(dataset, name=request.POST.get("name"), description=request.POST.get("description", ""),
                       metadata=metadata)
        dataset_tags_set(dataset, [t.strip() for t in request.POST.get("tags", "").split(",") if t.strip()])
    return "Saved."


def _move(request, dataset):
    chosen = request.POST.get("project", "").strip()
    target = None
    if chosen:
        target = visible_projects(request.user).filter(pk=parse_uuid("project", chosen)).first()
        if target is None:
            raise NotFound(f"project {chosen} does not exist")
    require_dataset_move(request.user, dataset, target)
    dataset_update(dataset, project=target, move_project=True)
    return f"Moved to {f'project {target.name!r}' if target else 'no project'}."


ACTIONS = {"snapshot": _snapshot, "child": _child, "publish": _publish, "delete-version": _delete_version,
           "edit": _edit, "move": _move}


@login_required
@require_POST
def dataset_action(request: HttpRequest, dataset_id, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("no such action")
    dataset = visible_dataset_or_404(request, dataset_id)
    try:
        messages.success(request, ACTIONS[action](request, dataset))
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("webui:dataset-detail", dataset.pk)


@login_required
@require_POST
def dataset_delete_view(request: HttpRequest, dataset_id) -> HttpResponse:
    dataset = visible_dataset_or_404(request, dataset_id)
    if request.POST.get("confirm_name") != dataset.name:
        messages.error(request, "Type the dataset's name to confirm the deletion.")
        return redirect("webui:dataset-detail", dataset.pk)
    all_versions = request.POST.get("delete_all_versions") == "on"
    sources = all_versions and request.POST.get("delete_sources") == "on"
    try:
        require_dataset(request.user, dataset, "dataset.delete_sources" if sources else "dataset.delete")
        job = dataset_delete(dataset, delete_all_versions=all_versions, force=request.POST.get("force") == "on",
                             delete_sources=sources, user=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("webui:dataset-detail", dataset.pk)
    if job is not None:
        messages.success(request, f"Deleted dataset {dataset.name!r}; its source files are being deleted.")
        return redirect("webui:deletion-job", job.pk)
    messages.success(request, f"Deleted dataset {dataset.name!r}.")
    return redirect("webui:dataset-index")
