"""What every API view shares: parsing inputs and loading objects under the caller's rights."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

from hyperdatasets.access import require_dataset, require_project, visible_datasets, visible_projects
from hyperdatasets.exceptions import InvalidInput, NotFound
from hyperdatasets.models import Dataset, DatasetVersion, Project
from hyperdatasets.selectors.datasets import parse_uuid

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
    value = raw.strip().lower()
    if value in {"1", "true", "yes"}:
        return True
    if value in {"0", "false", "no", ""}:
        return False
    raise InvalidInput.for_field(name, "must be true or false")


def project_for(request, project_id, action: str) -> Project:
    try:
        project = visible_projects(request.user).get(pk=parse_uuid("project_id", project_id))
    except Project.DoesNotExist:
        raise NotFound(f"project {project_id} does not exist") from None
    require_project(request.user, project, action)
    return project


def dataset_for(request, dataset_id, action: str) -> Dataset:
    try:
        dataset = visible_datasets(request.user).select_related("project").get(
            pk=parse_uuid("dataset_id", dataset_id))
    except Dataset.DoesNotExist:
        raise NotFound(f"dataset {dataset_id} does not exist") from None
    require_dataset(request.user, dataset, action)
    return dataset


def version_for(request, version_id, action: str) -> DatasetVersion:
    try:
        version = DatasetVersion.objects.select_related("dataset", "dataset__project").get(
            pk=parse_uuid("version_id", version_id), dataset__in=visible_datasets(request.user).values("pk"))
    except DatasetVersion.DoesNotExist:
        raise NotFound(f"version {version_id} does not exist") from None
    require_dataset(request.user, version.dataset, action)
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


def paginate(view, request, queryset, pagination_class, serializer_class):
    paginator = pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
