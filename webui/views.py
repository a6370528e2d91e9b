import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from clearml_api.credentials import credential_create, credential_for_user, credential_revoke
from clearml_api.models import ApiCredential
from hyperdatasets.access import (
    POLICY,
    Role,
    dataset_role,
    may_move_out,
    project_roles,
    projects_open_to,
    require_create_in_project,
    visible_datasets,
    visible_projects,
)
from hyperdatasets.exceptions import ServiceError
from hyperdatasets.models import DatasetTag, DatasetVersion
from hyperdatasets.selectors.datasets import dataset_list, datasets_with_summary
from hyperdatasets.selectors.frames import version_label_stats
from hyperdatasets.selectors.versions import version_head, version_list, version_parent_ids
from hyperdatasets.services.datasets import dataset_create
from webui.lookups import visible_dataset_or_404
from webui.version_tree import NODE_HEIGHT, NODE_WIDTH, version_tree


@login_required
def dataset_index(request: HttpRequest) -> HttpResponse:
    """Dataset cards, filtered by project and tag and searched by name; a form creates a dataset."""
    params = request.GET
    projects = list(visible_projects(request.user).order_by("name"))
    project = next((p for p in projects if str(p.pk) == params.get("project")), None)
    datasets = dataset_list(project=project, tag=params.get("tag") or None, name=params.get("q") or None)
    datasets = datasets_with_summary(datasets.filter(pk__in=visible_datasets(request.user).values("pk")))[:200]
    heads = {v.pk: v for v in DatasetVersion.objects.filter(pk__in=[d.current_version_id for d in datasets])}
    rows = []
    for dataset in datasets:
        head = heads.get(dataset.current_version_id)
        stats = version_label_stats(head) if head else None
        annotated = round(100 * stats["annotated"] / stats["frames"]) if stats and stats["frames"] else 0
        rows.append({"dataset": dataset, "head": head, "annotated": annotated,
                     "top_labels": list(stats["labels"].items())[:4] if stats else []})
    tags = DatasetTag.objects.filter(dataset__in=visible_datasets(request.user)).values_list("name", flat=True)
    return render(request, "webui/dataset_index.html", {
        "rows": rows, "projects": projects, "tags": sorted(set(tags)), "filters": params,
        "form_error": request.session.pop("form_error", None),
    })


@login_required
@require_POST
def dataset_new(request: HttpRequest) -> HttpResponse:
    """Create a dataset from the page's form, through the same service and rules as the API."""
    data = request.POST
    tags = [t.strip() for t in data.get("tags", "").split(",") if t.strip()]
    project_name = data.get("project", "").strip() or None
    try:
        require_create_in_project(request.user, project_name)
        dataset = dataset_create(dataset_name=data.get("name", ""), dataset_project=project_name, tags=tags,
                                 description=data.get("description", ""), raise_if_exists=True, user=request.user)
    except ServiceError as exc:
        request.session["form_error"] = exc.message
        return redirect("webui:dataset-index")
    return redirect("webui:dataset-detail", dataset.pk)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The signed-in user's page: create or rotate the API token; a new token is shown once, never again. And
    the user's ClearML API credential pairs."""
    new_token = None
    if request.method == "POST":
        Token.objects.filter(user=request.user).delete()
        new_token = Token.objects.create(user=request.user).key
    return _account_page(request, new_token=new_token)


def _account_page(request: HttpRequest, new_token: str | None = None, new_pair: dict | None = None) -> HttpResponse:
    token = Token.objects.filter(user=request.user).first()
    root = request.build_absolute_uri("/clearml")
    response = render(request, "webui/account.html", {
        "has_token": token is not None, "token_created": token.created if token else None, "new_token": new_token,
        "credentials": ApiCredential.objects.filter(user=request.user), "new_pair": new_pair,
        "clearml_api_host": root, "clearml_files_host": f"{root}/files",
    })
    if new_token or new_pair:
        response["Cache-Control"] = "no-store"  # a secret shown once is not kept by any cache
    return response


@login_required
@require_POST
def clearml_credentials(request: HttpRequest) -> HttpResponse:
    """A new ClearML API pair for the signed-in user; its secret is shown on this answer only."""
    try:
        credential, secret = credential_create(request.user, request.POST.get("label", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("webui:account")
    return _account_page(request, new_pair={"access_key": credential.access_key, "secret": secret})


@login_required
@require_POST
def clearml_credential_revoke(request: HttpRequest, credential_id) -> HttpResponse:
    try:
        credential = credential_revoke(credential_for_user(request.user, credential_id))
    except ServiceError:
        raise Http404("credential not found") from None
    messages.success(request, f"Revoked {credential.access_key}: its tokens stop working now.")
    return redirect("webui:account")


@login_required
def dataset_detail(request: HttpRequest, dataset_id) -> HttpResponse:
    """A dataset: its version graph drawn as a tree, and the same versions as a list."""
    dataset = visible_dataset_or_404(request, dataset_id)
    versions = list(version_list(dataset))
    parents = version_parent_ids(versions)
    head = version_head(dataset)
    names = {v.pk: v.name for v in versions}
    rows = [{"version": v, "parents": [names[p] for p in parents[v.pk]], "is_current": head is not None
             and v.pk == head.pk} for v in versions]
    role = dataset_role(request.user, dataset)
    drafts = [v for v in versions if v.is_draft]
    leaves = {v.pk for v in versions} - {p for ids in parents.values() for p in ids}
    return render(request, "webui/dataset_detail.html", {
        "dataset": dataset, "tree": version_tree(versions, parents, head.pk if head else None), "rows": rows,
        "head": head, "node_width": NODE_WIDTH, "node_height": NODE_HEIGHT,
        "can_write": role >= POLICY["version.create"], "can_delete": role >= POLICY["dataset.delete"],
        # The snapshot form shows only in the simple structure: one Draft, and it is the only leaf.
        "can_snapshot": role >= POLICY["version.snapshot"] and len(drafts) == 1 and leaves == {drafts[0].pk},
        "published": [v for v in versions if v.is_published], "drafts": drafts,
        "tag_text": ", ".join(t.name for t in dataset.tags.all()),
        # Moving out needs admin here (or staff); the targets are the projects the user may write in.
        "can_move": may_move_out(request.user, dataset, role),
        "move_targets": projects_open_to(request.user).exclude(pk=dataset.project_id).order_by("name"),
        "metadata_text": json.dumps(dataset.metadata, indent=2, sort_keys=True),
    })


@login_required
def project_index(request: HttpRequest) -> HttpResponse:
    """The projects the user may see, with their datasets' count, last change and the user's role."""
    projects = (visible_projects(request.user).annotate(dataset_count=Count("datasets", distinct=True),
                                                        dataview_count=Count("dataviews", distinct=True),
                                                        last_update=Max("datasets__updated")).order_by("name"))
    roles = project_roles(request.user)
    rows = []
    for project in projects:
        role = Role.ADMIN if request.user.is_superuser else roles.get(project.pk, Role.NONE)
        rows.append({"project": project, "role": role.name.lower(), "dataview_count": project.dataview_count})
    return render(request, "webui/projects.html", {"rows": rows})
