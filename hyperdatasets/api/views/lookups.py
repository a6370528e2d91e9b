"""Calls addressed by a dataset's name (or id) that answer in one round trip what would otherwise take a
lookup first: the current version, and a snapshot. The SDK's ``get_current`` and ``create_snapshot`` use them."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from hyperdatasets.access import require_dataset, visible_datasets
from hyperdatasets.api import serializers as s
from hyperdatasets.api.views.common import APIView, allowed, parsed
from hyperdatasets.exceptions import NotFound
from hyperdatasets.models import Dataset, DatasetVersion
from hyperdatasets.selectors.datasets import dataset_for_output, dataset_get, dataset_summarized
from hyperdatasets.services.snapshots import snapshot_create

DATASET_BY_NAME = [
    OpenApiParameter("dataset_name", s.NAME_PARAMETER, required=True),
    OpenApiParameter("dataset_project", s.NAME_PARAMETER, description="the project, when the name is in several"),
]


def looked_up(request, reference: dict, action: str) -> Dataset:
    """The dataset a request names, if the caller may do ``action`` to it. A name is resolved among the
    datasets the caller can see (they decide which one a name means); an id needs no such filter, the
    caller's role decides, as for every object addressed by id."""
    by_id = reference.get("dataset_id") is not None
    dataset = dataset_get(dataset_id=reference.get("dataset_id"), dataset_name=reference.get("dataset_name"),
                          project_name=reference.get("dataset_project"),
                          queryset=dataset_for_output(Dataset.objects.all() if by_id
                                                      else visible_datasets(request.user)))
    if by_id:
        allowed(request.user, dataset, action, "dataset", reference["dataset_id"])
    else:
        require_dataset(request.user, dataset, action)
    return dataset


def head_of(dataset: Dataset) -> Response:
    head = dataset_summarized(dataset)
    if head is None:
        raise NotFound(f"dataset {dataset.name!r} has no versions")
    return Response({"dataset": s.DatasetOut(dataset).data, "version": s.VersionOut(head).data})


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
        dataset.refresh_from_db(fields=["updated"])  # the snapshot touched it
        head = dataset_summarized(dataset)
        version = head if head.pk == child.pk else (
            s.versions_for_output(DatasetVersion.objects.filter(pk=child.pk)).get())
        return Response({"dataset": s.DatasetOut(dataset).data, "version": s.VersionOut(version).data}, status=201)
