"""Calls addressed by a dataset's name (or id) that answer in one round trip what would otherwise take a
lookup first: the current version, and a snapshot. The SDK's ``get_current`` and ``create_snapshot`` use them."""

from drf_spectacular.types import OpenApiTypes
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

DATASET_REFERENCE = [
    OpenApiParameter("dataset_id", OpenApiTypes.UUID, description="the dataset's id, or give its name"),
    OpenApiParameter("dataset_name", str), OpenApiParameter("dataset_project", str),
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


class DatasetLookupHeadView(APIView):
    @extend_schema(parameters=DATASET_REFERENCE, responses=s.DatasetAndVersionOut)
    def get(self, request):
        dataset = looked_up(request, request.query_params, "version.view")
        if dataset.current_version_id is None:
            raise NotFound(f"dataset {dataset.name!r} has no versions")
        return Response(dataset_and_version(dataset, dataset.current_version_id))


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
