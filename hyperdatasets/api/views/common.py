"""What every API view shares: parsing inputs and loading objects under the caller's rights."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.views import APIView as _DrfAPIView

from hyperdatasets.access import (
    Role,
    dataset_role,
    require,
    require_deletion_job,
    require_project,
    visible_deletion_jobs,
    visible_projects,
)
from hyperdatasets.exceptions import InvalidInput, NotFound
from hyperdatasets.models import Dataset, DatasetVersion, DeletionJob, Project
from hyperdatasets.selectors.datasets import parse_uuid


class APIView(_DrfAPIView):
    """DRF's view, letting go of the request's parsed body once the response is made.

    DRF's request, view and response refer to one another (the parser and renderer contexts), so only the
    cyclic collector frees them, not the end of the request. By then a bulk write's parsed batch (10,000
    frames are some 130,000 objects) has been promoted to the oldest generation, and batch after batch piles
    up there until a full collection walks them all, in the middle of a later request. With the body
    dropped the frames go by reference counting as soon as the view returns.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        request._full_data = request._data = {}  # what ``request.data`` answers from now on
        return response


BATCH_SEMANTICS = ("invalid frames are reported in 'failures' and not saved; every valid frame of the request "
                   "is saved, in one transaction")


def parsed(serializer_class, data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["the body must be a JSON object"]})
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def query_bool(request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    # As OpenAPI writes a boolean into a query string; anything else is refused rather than guessed at.
    if raw == "true":
        return True
    if raw == "false":
        return False
    raise InvalidInput.for_field(name, "must be true or false")


def _visible(queryset, kind: str, raw_id):
    """The object with this id among those the caller may see, else NotFound (never 403)."""
    try:
        return queryset.get(pk=parse_uuid(f"{kind}_id", raw_id))
    except queryset.model.DoesNotExist:
        raise NotFound(f"{kind} {raw_id} does not exist") from None


def project_for(request, project_id, action: str) -> Project:
    project = _visible(visible_projects(request.user), "project", project_id)
    require_project(request.user, project, action)
    return project


def allowed(user, dataset: Dataset, action: str, kind: str, raw_id):
    """The caller's role on ``dataset`` decides: none is "not found", named by the id asked for (as
    ``visible_datasets`` would hide it), else ``access.require``. One lookup by key and one role query,
    where filtering by the visible datasets first built a nested query for every request."""
    role = dataset_role(user, dataset)
    if role < Role.READ:
        raise NotFound(f"{kind} {raw_id} does not exist")
    require(user, role, action, f"dataset {dataset.name!r}")


def dataset_for(request, dataset_id, action: str) -> Dataset:
    dataset = _visible(Dataset.objects.select_related("project"), "dataset", dataset_id)
    allowed(request.user, dataset, action, "dataset", dataset_id)
    return dataset


def deletion_job_for(request, job_id, action: str) -> DeletionJob:
    job = _visible(visible_deletion_jobs(request.user).select_related("project"), "job", job_id)
    require_deletion_job(request.user, job, action)
    return job


def version_for(request, version_id, action: str) -> DatasetVersion:
    version = _visible(DatasetVersion.objects.select_related("dataset", "dataset__project"), "version", version_id)
    allowed(request.user, version.dataset, action, "version", version_id)
    return version


class NameCursorPagination(CursorPagination):
    ordering = ("name", "id")
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"


class NumberCursorPagination(CursorPagination):
    ordering = ("number",)
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"


class CreatedCursorPagination(CursorPagination):
    ordering = ("-created", "id")
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"


def paginate(view, request, queryset, pagination_class, serializer_class):
    paginator = pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
