from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from annotations.mask_labels import MASK_LABELS_KEY
from hyperdatasets.api import serializers as s
from hyperdatasets.api.views.common import (
    APIView,
    NumberCursorPagination,
    dataset_for,
    paginate,
    parsed,
    query_bool,
    version_for,
)
from hyperdatasets.exceptions import NotFound
from hyperdatasets.models import DatasetVersion
from hyperdatasets.selectors.versions import version_get, version_head, version_list
from hyperdatasets.services.snapshots import snapshot_create
from hyperdatasets.services.tags import version_tags_add, version_tags_remove
from hyperdatasets.services.versions import (
    version_create,
    version_delete,
    version_mask_labels_set,
    version_metadata_set,
    version_publish,
    version_update,
)


def _version_out(version_id) -> dict:
    return s.VersionOut(s.versions_for_output(DatasetVersion.objects.filter(pk=version_id)).get()).data


class DatasetVersionListView(APIView):
    @extend_schema(parameters=[OpenApiParameter("only_published", bool), OpenApiParameter("only_draft", bool)],
                   responses=s.paginated(s.VersionOut), operation_id="datasets_versions_list")
    def get(self, request, dataset_id):
        dataset = dataset_for(request, dataset_id, "version.view")
        versions = version_list(dataset, only_published=query_bool(request, "only_published"),
                                only_draft=query_bool(request, "only_draft"))
        return paginate(self, request, s.versions_for_output(versions), NumberCursorPagination, s.VersionOut)

    @extend_schema(request=s.VersionCreateIn, responses={201: s.VersionOut})
    def post(self, request, dataset_id):
        dataset = dataset_for(request, dataset_id, "version.create")
        data = parsed(s.VersionCreateIn, request.data)
        version = version_create(
            dataset, version_name=data["version_name"], parent_version_names=data.get("parent_version_names"),
            parent_version_ids=data.get("parent_version_ids"), raise_if_exists=data.get("raise_if_exists", False),
            metadata=data.get("metadata"), comment=data.get("comment"), user=request.user)
        return Response(_version_out(version.pk), status=201)


class DatasetVersionLookupView(APIView):
    @extend_schema(parameters=[OpenApiParameter("version_name", s.NAME_PARAMETER),
                               OpenApiParameter("version_id", OpenApiTypes.UUID)],
                   responses=s.VersionLookupOut)
    def get(self, request, dataset_id):
        dataset = dataset_for(request, dataset_id, "version.view")
        lookup = version_get(dataset, version_name=request.query_params.get("version_name"),
                             version_id=request.query_params.get("version_id"))
        return Response({"version": _version_out(lookup.version.pk), "warning": lookup.warning})


class DatasetHeadView(APIView):
    @extend_schema(responses=s.VersionOut)
    def get(self, request, dataset_id):
        dataset = dataset_for(request, dataset_id, "version.view")
        head = version_head(dataset)
        if head is None:
            raise NotFound(f"dataset {dataset.name!r} has no versions")
        return Response(_version_out(head.pk))


class DatasetSnapshotView(APIView):
    @extend_schema(request=s.SnapshotIn, responses={201: s.VersionOut})
    def post(self, request, dataset_id):
        dataset = dataset_for(request, dataset_id, "version.snapshot")
        data = parsed(s.SnapshotIn, request.data)
        child = snapshot_create(dataset, publish_name=data.get("publish_name"), child_name=data.get("child_name"),
                                child_metadata=data.get("child_metadata"), child_comment=data.get("child_comment"),
                                user=request.user)
        return Response(_version_out(child.pk), status=201)


class VersionDetailView(APIView):
    @extend_schema(responses=s.VersionOut)
    def get(self, request, version_id):
        return Response(_version_out(version_for(request, version_id, "version.view").pk))

    @extend_schema(request=s.VersionUpdateIn, responses=s.VersionOut)
    def patch(self, request, version_id):
        version = version_for(request, version_id, "version.change")
        data = parsed(s.VersionUpdateIn, request.data)
        version_update(version, name=data.get("name"), comment=data.get("comment"))
        return Response(_version_out(version.pk))

    @extend_schema(responses={204: None})
    def delete(self, request, version_id):
        version_delete(version_for(request, version_id, "version.delete"))
        return Response(status=204)


class VersionPublishView(APIView):
    @extend_schema(request=None, responses=s.VersionOut)
    def post(self, request, version_id):
        version = version_publish(version_for(request, version_id, "version.publish"))
        return Response(_version_out(version.pk))


class _VersionTagsView(APIView):
    change_tags = None  # the tags service this endpoint runs

    @extend_schema(request=s.TagsIn, responses=s.VersionOut,
                   description="A Draft version's tags (ordered, each once; idempotent); 409 on a Published one.")
    def post(self, request, version_id):
        version = version_for(request, version_id, "version.change")
        type(self).change_tags(version, parsed(s.TagsIn, request.data)["tags"])
        return Response(_version_out(version.pk))


class VersionTagsAddView(_VersionTagsView):
    change_tags = version_tags_add


class VersionTagsRemoveView(_VersionTagsView):
    change_tags = version_tags_remove


class VersionMetadataView(APIView):
    @extend_schema(responses=s.MetadataIO)
    def get(self, request, version_id):
        return Response({"metadata": version_for(request, version_id, "version.view").metadata})

    @extend_schema(request=s.MetadataIO, responses=s.MetadataIO)
    def put(self, request, version_id):
        version = version_for(request, version_id, "version.change")
        version = version_metadata_set(version, parsed(s.MetadataIO, request.data)["metadata"])
        return Response({"metadata": version.metadata})


class VersionMaskLabelsView(APIView):
    @extend_schema(responses=s.MaskLabelsIO)
    def get(self, request, version_id):
        version = version_for(request, version_id, "version.view")
        stored = version.metadata.get(MASK_LABELS_KEY, {}).get("_all_", [])
        return Response({"mask_labels": stored})

    @extend_schema(request=s.MaskLabelsIO, responses=s.MaskLabelsIO)
    def put(self, request, version_id):
        version = version_for(request, version_id, "version.change")
        entries = parsed(s.MaskLabelsIO, request.data)["mask_labels"]
        version = version_mask_labels_set(version, {"_all_": [{"value": e["value"], "labels": e["labels"]}
                                                              for e in entries]})
        return Response({"mask_labels": version.metadata[MASK_LABELS_KEY]["_all_"]})
