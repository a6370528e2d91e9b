from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from hyperdatasets.access import dataset_role, visible_datasets
from hyperdatasets.selectors.datasets import dataset_list
from hyperdatasets.selectors.versions import version_head, version_list, version_parent_ids
from webui.version_tree import NODE_HEIGHT, NODE_WIDTH, version_tree


@login_required
def dataset_index(request: HttpRequest) -> HttpResponse:
    datasets = dataset_list().filter(pk__in=visible_datasets(request.user).values("pk"))
    datasets = datasets.annotate(version_count=Count("versions", distinct=True))
    rows = [{"dataset": d, "head": version_head(d)} for d in datasets[:200]]
    return render(request, "webui/dataset_index.html", {"rows": rows})


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The signed-in user's page: create or rotate the API token; a new token is shown once, never again."""
    from rest_framework.authtoken.models import Token

    new_token = None
    if request.method == "POST":
        Token.objects.filter(user=request.user).delete()
        new_token = Token.objects.create(user=request.user).key
    token = Token.objects.filter(user=request.user).first()
    return render(request, "webui/account.html", {
        "has_token": token is not None, "token_created": token.created if token else None, "new_token": new_token,
    })


@login_required
def dataset_detail(request: HttpRequest, dataset_id) -> HttpResponse:
    """A dataset: its version graph drawn as a tree, and the same versions as a list."""
    dataset = visible_datasets(request.user).select_related("project").filter(pk=dataset_id).first()
    if dataset is None:
        raise Http404("dataset not found")
    versions = list(version_list(dataset))
    parents = version_parent_ids(versions)
    head = version_head(dataset)
    names = {v.pk: v.name for v in versions}
    rows = [{"version": v, "parents": [names[p] for p in parents[v.pk]], "is_current": head is not None
             and v.pk == head.pk} for v in versions]
    return render(request, "webui/dataset_detail.html", {
        "dataset": dataset, "tree": version_tree(versions, parents, head.pk if head else None), "rows": rows,
        "head": head, "node_width": NODE_WIDTH, "node_height": NODE_HEIGHT, "role": dataset_role(request.user, dataset),
    })
