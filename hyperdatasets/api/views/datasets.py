from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from hyperdatasets.access import (
    require_create_in_project,
    require_dataset_move,
    visible_datasets,
    visible_projects,
)
from hyperdatasets.api import serializers as s
from hyperdatasets.api.bodies import LimitedMultiPartParser
from hyperdatasets.api.views.common import APIView, NameCursorPagination, dataset_for, paginate, parsed, query_bool
from hyperdatasets.exceptions import NotFound
from hyperdatasets.models import Dataset
from hyperdatasets.queries.fields import MetaSchema, frame_schema
from hyperdatasets.selectors.datasets import (
    dataset_for_output,
    dataset_get,
    dataset_list,
    dataset_summarized,
    datasets_with_summary,
    parse_uuid,
)
from hyperdatasets.selectors.deletion import deletion_job_out
from hyperdatasets.services.datasets import dataset_create, dataset_delete, dataset_update, version_create_new_dataset
from hyperdatasets.services.tags import dataset_tags_add, dataset_tags_remove
from hyperdatasets.services.uploads import upload_store


def _dataset_out(request, dataset_id) -> dict:
    """A dataset the caller was allowed to see or change, as DatasetOut, in three plain queries."""
    dataset = dataset_for_output(Dataset.objects.filter(pk=dataset_id)).get()
    dataset_summarized(dataset, parents=False)
    return s.DatasetOut(dataset).data


def _create_kwargs(request, data: dict) -> dict:
    project_name = data.get("dataset_project")
    require_create_in_project(request.user, project_name)
    return {
        "dataset_name": data["dataset_name"], "dataset_project": project_name, "tags": data.get("tags"),
        "description": data.get("description"), "metadata": data.get("metadata"),
        "raise_if_exists": data.get("raise_if_exists", False), "user": request.user,
    }


LIST_FILTERS = [
    OpenApiParameter("project", OpenApiTypes.UUID, description="project id"),
    OpenApiParameter("tag", {"type": "array", "items": s.TEXT_PARAMETER}, explode=True,
                     description="a tag the datasets hold; repeated, every one of them"),
    OpenApiParameter("name", s.TEXT_PARAMETER, description="part of the name"),
    OpenApiParameter("is_example", bool),
]


class DatasetListView(APIView):
    @extend_schema(parameters=LIST_FILTERS, responses=s.paginated(s.DatasetOut), operation_id="datasets_list")
    def get(self, request):
        params = request.query_params
        project = None
        if "project" in params:
            project = visible_projects(request.user).filter(pk=parse_uuid("project", params["project"])).first()
            if project is None:
                raise NotFound(f"project {params['project']} does not exist")
        datasets = dataset_list(project=project, tags=[t for t in params.getlist("tag") if t],
                                name=params.get("name") or None)
        datasets = datasets.filter(pk__in=visible_datasets(request.user).values("pk"))
        if "is_example" in params:
            datasets = datasets.filter(is_example=query_bool(request, "is_example"))
        return paginate(self, request, datasets_with_summary(datasets), NameCursorPagination, s.DatasetOut)

    @extend_schema(request=s.DatasetCreateIn, responses={201: s.DatasetOut})
    def post(self, request):
        dataset = dataset_create(**_create_kwargs(request, parsed(s.DatasetCreateIn, request.data)))
        return Response(_dataset_out(request, dataset.pk), status=201)


class DatasetCreateNewView(APIView):
    """The create-new-dataset variant: the same rules, answering with the dataset's current version."""

    @extend_schema(request=s.DatasetCreateIn, responses={201: s.VersionOut})
    def post(self, request):
        version = version_create_new_dataset(**_create_kwargs(request, parsed(s.DatasetCreateIn, request.data)))
        version = s.versions_for_output(type(version).objects.filter(pk=version.pk)).get()
        return Response(s.VersionOut(version).data, status=201)


class DatasetLookupView(APIView):
    @extend_schema(parameters=[OpenApiParameter("dataset_name", s.NAME_PARAMETER, required=True),
                               OpenApiParameter("dataset_project", s.NAME_PARAMETER)], responses=s.DatasetOut)
    def get(self, request):
        dataset = dataset_get(dataset_name=request.query_params.get("dataset_name"),
                              project_name=request.query_params.get("dataset_project"),
                              queryset=dataset_for_output(visible_datasets(request.user)))
        dataset_summarized(dataset, parents=False)
        return Response(s.DatasetOut(dataset).data)


class DatasetDetailView(APIView):
    @extend_schema(responses=s.DatasetOut)
    def get(self, request, dataset_id):
        return Response(_dataset_out(request, dataset_for(request, dataset_id, "dataset.view").pk))

    @extend_schema(request=s.DatasetUpdateIn, responses=s.DatasetOut)
    def patch(self, request, dataset_id):
        dataset = dataset_for(request, dataset_id, "dataset.change")
        data = parsed(s.DatasetUpdateIn, request.data)
        move = "project_id" in data
        target = None
        if move and data["project_id"] is not None:
            target = visible_projects(request.user).filter(pk=data["project_id"]).first()
            if target is None:
                raise NotFound(f"project {data['project_id']} does not exist")
        if move:
            require_dataset_move(request.user, dataset, target)
        dataset_update(dataset, name=data.get("name"), description=data.get("description"),
                       metadata=data.get("metadata"), project=target, move_project=move)
        return Response(_dataset_out(request, dataset.pk))

    @extend_schema(parameters=[OpenApiParameter("delete_all_versions", bool), OpenApiParameter("force", bool),
                               OpenApiParameter("delete_sources", bool)],
                   responses={200: s.DeleteDatasetOut, 202: s.DeleteDatasetOut})
    def delete(self, request, dataset_id):
        delete_all = query_bool(request, "delete_all_versions")
        delete_sources = delete_all and query_bool(request, "delete_sources")
        dataset = dataset_for(request, dataset_id, "dataset.delete_sources" if delete_sources else "dataset.delete")
        job = dataset_delete(dataset, delete_all_versions=delete_all, force=query_bool(request, "force"),
                             delete_sources=delete_sources, user=request.user)
        body = {"deleted": True, "dataset_id": dataset.pk, "delete_sources": delete_sources,
                "job": s.DeletionJobOut(deletion_job_out(job)).data if job is not None else None}
        if job is None:
            return Response(body)
        location = reverse("api-deletion-job", kwargs={"job_id": job.pk})
        return Response(body, status=202, headers={"Location": location})


class _DatasetTagsView(APIView):
    change_tags = None  # the tags service this endpoint runs

    @extend_schema(request=s.TagsIn, responses=s.DatasetOut)
    def post(self, request, dataset_id):
        dataset = dataset_for(request, dataset_id, "dataset.change")
        type(self).change_tags(dataset, parsed(s.TagsIn, request.data)["tags"])
        return Response(_dataset_out(request, dataset.pk))


class DatasetTagsAddView(_DatasetTagsView):
    change_tags = dataset_tags_add


class DatasetTagsRemoveView(_DatasetTagsView):
    change_tags = dataset_tags_remove


class DatasetUploadView(APIView):
    parser_classes = [LimitedMultiPartParser]

    @extend_schema(request={"multipart/form-data": s.UploadIn}, responses={201: s.UploadOut})
    def post(self, request, dataset_id):
        dataset = dataset_for(request, dataset_id, "uploads.create")
        fields = {"file": request.data.get("file"), "kind": request.data.get("kind", "source")}
        if "path" in request.data:
            fields["path"] = request.data.get("path")
        data = parsed(s.UploadIn, fields)
        upload = data["file"]
        stored = upload_store(dataset, kind=data["kind"], filename=upload.name, fileobj=upload, size=upload.size,
                              content_type=upload.content_type, path=data.get("path"))
        return Response(stored.as_dict(), status=201)




class DatasetSchemaView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT,
                   description="The dataset's frame schema: every field a query can name with its type "
                               "(string, number, date, boolean, strings, array, any, object), and the meta keys "
                               "its frames have.")
    def get(self, request, dataset_id):
        dataset = dataset_for(request, dataset_id, "dataset.view")
        return Response(frame_schema(MetaSchema.of([dataset.pk])))
