"""Calls addressed by a dataset's name (or id) that answer in one round trip what would otherwise take a
lookup first: the current version, and a snapshot. The SDK's ``get_current`` and ``create_snapshot`` use them."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from hyperdatasets.access import require_dataset, visible_datasets
from hyperdatasets.api import serializers as s
from hyperdatasets.api.views.common import parsed
from hyperdatasets.exceptions import NotFound
from hyperdatasets.models import Dataset, DatasetVersion
from hyperdatasets.selectors.datasets import dataset_get, datasets_with_summary
from hyperdatasets.services.snapshots import snapshot_create

DATASET_BY_NAME = [
    OpenApiParameter("dataset_name", s.NAME_PARAMETER, required=True),
    OpenApiParameter("dataset_project", s.NAME_PARAMETER, description="the project, when the name is in several"),
]


def looked_up(request, reference: dict, action: str) -> Dataset:
    """The dataset a request names, with its summary (one query), if the caller may do ``action`` to it."""
    dataset = dataset_get(dataset_id=reference.get("dataset_id"), dataset_name=reference.get("dataset_name"),
                          project_name=reference.get("dataset_project"),
                          queryset=datasets_with_summary(visible_datasets(request.user)))
    require_dataset(request.user, dataset, action)
    return dataset


def dataset_and_version(dataset: Dataset, version_id) -> dict:
    version = s.versions_for_output(DatasetVersion.objects.filter(pk=version_id)).get()
    return {"dataset": s.DatasetOut(dataset).data, "version": s.VersionOut(version).data}


def head_of(dataset: Dataset) -> Response:
    if dataset.current_version_id is None:
        raise NotFound(f"dataset {dataset.name!r} has no versions")
    return Response(dataset_and_version(dataset, dataset.current_version_id))


class DatasetLookupHeadView(APIView):
    @extend_schema(parameters=DATASET_BY_NAME, responses=s.DatasetAndVersionOut,
                   description="The dataset named so and its current version.")
    def get(self, request):
        reference = {"dataset_name": request.query_params.get("dataset_name", ""),
                     "dataset_project": request.query_params.get("dataset_project")}
        return head_of(looked_up(request, reference, "version.view"))


class DatasetCurrentView(APIView):
    @extend_schema(responses=s.DatasetAndVersionOut, description="The dataset and its current version.")
    def get(self, request, dataset_id):
        return head_of(looked_up(request, {"dataset_id": dataset_id}, "version.view"))


class DatasetLookupSnapshotView(APIView):
    @extend_schema(request=s.SnapshotByReferenceIn, responses={201: s.DatasetAndVersionOut})
    def post(self, request):
        data = parsed(s.SnapshotByReferenceIn, request.data)
        dataset = looked_up(request, data, "version.snapshot")
        child = snapshot_create(dataset, publish_name=data.get("publish_name"), child_name=data.get("child_name"),
                                child_metadata=data.get("child_metadata"), child_comment=data.get("child_comment"),
                                user=request.user)
        summary = datasets_with_summary(Dataset.objects.filter(pk=dataset.pk)).get()
        return Response(dataset_and_version(summary, child.pk), status=201)
