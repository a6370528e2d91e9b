from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hyperdatasets.access import visible_datasets
from hyperdatasets.selectors.datasets import dataset_list
from hyperdatasets.selectors.versions import version_head


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
