"""Dataview pages: a project's dataviews (table, search, archived), one dataview's editor (inputs, rules,
weights, mapping, enumeration, iteration; saved through the REST API by ``static/webui/dataview-editor.js``,
which then shows the per-rule counts and the preview grid), its actions, and its exports with progress.

Every write goes through ``dataviews.services`` (the editor's through the API, the actions' here); every read
is checked with ``dataviews.access``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dataviews import selectors, services
from dataviews.access import dataview_role, require_dataview, require_inputs_readable, visible_dataviews
from dataviews.api import DataviewExportOut, DataviewOut
from dataviews.models import Dataview, DataviewExport
from hyperdatasets.access import Role, require_create_in_project, visible_datasets, visible_projects
from hyperdatasets.exceptions import ServiceError
from hyperdatasets.models import Dataset, DatasetVersion
from hyperdatasets.storage.serving import FileLinks
from webui.version_page import thumbnail

PAGE_SIZE = 50
PREVIEW_FRAMES = 12
EDITOR_DATASETS = 500  # the datasets the editor offers as inputs (by name); more are reached by search
EDITOR_VERSIONS = 200  # versions offered per dataset, newest first
ACTIONS = {"archive": (services.dataview_archive, "Archived"), "restore": (services.dataview_restore, "Restored"),
           "publish": (services.dataview_publish, "Published")}
PAGE_ACTIONS = (*ACTIONS, "clone", "move", "delete")


def _dataview_or_404(request: HttpRequest, dataview_id) -> Dataview:
    dataview = visible_dataviews(request.user).select_related("project").filter(pk=dataview_id).first()
    if dataview is None:
        raise Http404("dataview not found")
    return dataview


@login_required
def dataview_index(request: HttpRequest) -> HttpResponse:
    """The visible dataviews, in one project or all, searched by name, archived ones apart; a form makes one."""
    params = request.GET
    projects = list(visible_projects(request.user).order_by("name"))
    project = next((p for p in projects if str(p.pk) == params.get("project")), None)
    archived = params.get("archived") == "1"
    dataviews = visible_dataviews(request.user).filter(archived=archived).select_related("project")
    if project is not None:
        dataviews = dataviews.filter(project=project)
    if params.get("q"):
        dataviews = dataviews.filter(name__icontains=params["q"])
    page = Paginator(dataviews.order_by("name", "id"), PAGE_SIZE).get_page(params.get("page"))
    rows = [{"dataview": d, "inputs": len(d.versions), "rules": len(d.filters),
             "order": (d.iteration or {}).get("order", "sequential")} for d in page]
    return render(request, "webui/dataviews.html", {
        "rows": rows, "page": page, "projects": projects, "project": project, "archived": archived,
        "filters": params, "form_error": request.session.pop("form_error", None),
    })


@login_required
@require_POST
def dataview_new(request: HttpRequest) -> HttpResponse:
    """A new empty Draft dataview from the list's form; the editor opens on it."""
    project_name = request.POST.get("project", "").strip() or None
    try:
        require_create_in_project(request.user, project_name, "project.add_dataview")
        dataview = services.dataview_create(name=request.POST.get("name", ""), project_name=project_name,
                                            user=request.user)
    except ServiceError as exc:
        request.session["form_error"] = exc.message
        return redirect("webui:dataview-index")
    return redirect("webui:dataview-detail", dataview.pk)


def _editor_datasets(user, dataview: Dataview) -> list[dict]:
    """The datasets (and their versions) the editor offers: the visible ones by name, and always the
    dataview's own inputs the user may read."""
    inputs = {entry["dataset"] for entry in dataview.versions}
    visible = visible_datasets(user).select_related("project")
    chosen = list(visible.filter(pk__in=inputs)) + list(visible.exclude(pk__in=inputs).order_by("name")
                                                         [:EDITOR_DATASETS])
    versions: dict = {}
    input_versions = {entry["version"] for entry in dataview.versions}
    for version in DatasetVersion.objects.filter(dataset__in=[d.pk for d in chosen]).order_by("-number"):
        listed = versions.setdefault(version.dataset_id, [])
        if len(listed) < EDITOR_VERSIONS or str(version.pk) in input_versions:
            listed.append({"id": str(version.pk), "name": version.name, "status": version.status})
    return [{"id": str(d.pk), "name": d.name, "project": d.project.name if d.project_id else None,
             "versions": versions.get(d.pk, [])} for d in chosen]


@login_required
def dataview_detail(request: HttpRequest, dataview_id) -> HttpResponse:
    dataview = _dataview_or_404(request, dataview_id)
    role = dataview_role(request.user, dataview)
    try:
        require_inputs_readable(request.user, dataview.versions)
        inputs_readable = True
    except ServiceError:
        inputs_readable = False
    exports = DataviewExport.objects.filter(dataview=dataview)[:20]
    return render(request, "webui/dataview_detail.html", {
        "dataview": dataview, "recipe": DataviewOut(dataview).data,
        "datasets": _editor_datasets(request.user, dataview) if inputs_readable else [],
        "can_change": role >= Role.WRITE, "inputs_readable": inputs_readable,
        "exports": [DataviewExportOut(job).data for job in exports],
        "move_targets": visible_projects(request.user).order_by("name"),
    })


@login_required
def dataview_preview(request: HttpRequest, dataview_id) -> HttpResponse:
    """The first frames of the dataview as it is stored, in sequential order, as a thumbnail grid."""
    dataview = _dataview_or_404(request, dataview_id)
    error, frames = None, []
    try:
        require_inputs_readable(request.user, dataview.versions)
        run = services.iteration_start(
            dataview, user=request.user, key=f"preview {dataview.updated.isoformat()}",
            iteration={"order": "sequential", "infinite": False, "limit": PREVIEW_FRAMES})
        batch = selectors.iteration_batch(run, batch_size=PREVIEW_FRAMES)
        links: dict[str, FileLinks] = {}
        datasets = {str(d.pk): d for d in Dataset.objects.filter(
            pk__in={f["dataset"]["id"] for f in batch.frames})}
        for frame in batch.frames:
            dataset_id = frame["dataset"]["id"]
            if dataset_id not in links:
                links[dataset_id] = FileLinks(request.user, datasets[dataset_id])
            frames.append(thumbnail(frame, frame["dataset"]["version"], links[dataset_id]))
    except ServiceError as exc:
        error = exc.message
    return render(request, "webui/_dataview_preview.html", {"frames": frames, "error": error})


@login_required
@require_POST
def dataview_action(request: HttpRequest, dataview_id, action: str) -> HttpResponse:
    """Archive, restore, publish, clone, move and delete from the page, through the services."""
    if action not in PAGE_ACTIONS:
        raise Http404(f"no dataview action {action!r}")
    dataview = _dataview_or_404(request, dataview_id)
    data = request.POST
    try:
        if action in ACTIONS:
            require_dataview(request.user, dataview, "dataview.change")
            change, done = ACTIONS[action]
            change(dataview)
            messages.success(request, f"{done} dataview {dataview.name!r}.")
        elif action == "clone":
            require_dataview(request.user, dataview, "dataview.view")
            project_name = data.get("project", "").strip() or None
            require_create_in_project(request.user, project_name, "project.add_dataview")
            clone = services.dataview_clone(dataview, name=data.get("name", ""), project_name=project_name,
                                            user=request.user)
            messages.success(request, f"Cloned into {clone.name!r}.")
            return redirect("webui:dataview-detail", clone.pk)
        elif action == "move":
            require_dataview(request.user, dataview, "dataview.change")
            project_name = data.get("project", "").strip() or None
            require_create_in_project(request.user, project_name, "project.add_dataview")
            services.dataview_move(dataview, project_name=project_name, user=request.user)
            messages.success(request, f"Moved to {project_name or 'no project'}.")
        elif action == "delete":
            require_dataview(request.user, dataview, "dataview.delete")
            services.dataview_delete(dataview, force=data.get("force") == "on")
            messages.success(request, f"Deleted dataview {dataview.name!r}.")
            return redirect("webui:dataview-index")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("webui:dataview-detail", dataview.pk)
