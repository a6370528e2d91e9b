"""The dataviews' REST face: the stored dataview (list, create, read, change, delete, publish, archive, restore,
clone, move), its counts, and its iterations (start one; read it batch by batch, in shards). Every write and
read goes through ``dataviews.services`` and ``dataviews.selectors``; rights are ``dataviews.access``."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from dataviews import exports, selectors, services, spec
from dataviews.access import dataview_role, require_dataview, require_inputs_readable, visible_dataviews
from dataviews.models import Dataview, DataviewExport, DataviewIteration, ExportFormat, ExportStatus, OutputRois
from hyperdatasets.access import AccessDenied, Role, require_create_in_project, visible_datasets, visible_projects
from hyperdatasets.api import serializers as s
from hyperdatasets.api.views.common import (
    APIView,
    CreatedCursorPagination,
    NameCursorPagination,
    paginate,
    parsed,
    query_bool,
)
from hyperdatasets.exceptions import NotFound
from hyperdatasets.selectors.datasets import parse_uuid
from hyperdatasets.storage.serving import FILE_CSP
from hyperdatasets.validation import MAX_TAGS

# --- bodies ------------------------------------------------------------------------------------------------


class StrictIntegerField(serializers.IntegerField):
    """An integer, and only a JSON integer: "5", 5.0 and true are refused rather than converted."""

    def to_internal_value(self, data):
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


def _objects(most: int, help_text: str) -> serializers.ListField:
    return serializers.ListField(child=serializers.DictField(), required=False, max_length=most, help_text=help_text)


class _RecipeIn(serializers.Serializer):
    description = s.text_field(required=False, allow_blank=True)
    tags = serializers.ListField(child=s.name_field(), required=False, max_length=MAX_TAGS)
    versions = _objects(spec.MAX_INPUTS, "input versions: {dataset_id or dataset_name (+ dataset_project), "
                                         "version_id or version_name}")
    filters = _objects(spec.MAX_RULES, "filter rules (ORed): {dataset, version, weight, filter_by_roi, label_rules, "
                                       "frame_query, sources_query}; docs/dataviews.md")
    mapping = _objects(spec.MAX_MAPPING_RULES, "label mapping rules: {source: {dataset, version, labels}, target}")
    labels_enumeration = serializers.DictField(child=StrictIntegerField(min_value=-(2**31), max_value=2**31 - 1),
                                               required=False)
    output_rois = serializers.ChoiceField(choices=OutputRois.values, required=False)
    iteration = serializers.DictField(required=False, help_text="{order, infinite, limit, random_seed}")


class DataviewCreateIn(_RecipeIn):
    name = s.name_field()
    project_name = s.name_field(required=False, allow_null=True)


class DataviewUpdateIn(_RecipeIn):
    name = s.name_field(required=False)
    force = s.StrictBooleanField(required=False, default=False, help_text="change a Published dataview")


class DataviewCloneIn(serializers.Serializer):
    name = s.name_field()
    project_name = s.name_field(required=False, allow_null=True)
    description = s.text_field(required=False, allow_blank=True, allow_null=True)


class DataviewMoveIn(serializers.Serializer):
    project_name = s.name_field(allow_null=True, help_text="null: out of any project")


class DataviewIterationIn(serializers.Serializer):
    allow_repetition = s.StrictBooleanField(required=False, default=False,
                                            help_text="a synthetic epoch: under-represented rules repeat")
    iteration = serializers.DictField(required=False, help_text="this run's {order, infinite, limit, random_seed}")
    key = s.StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=services.ITERATION_KEY_MAX,
                            help_text="a name for the run: the dataview's run of that key is answered (200) when "
                                      "there is one, so that processes agreeing on a key share one order")


PROJECTION_HELP = ("dotted field paths to keep in each frame (e.g. id, sources, meta.city, dataset.version); "
                   "none: whole frames")


class DataviewNextIn(serializers.Serializer):
    projection = serializers.ListField(child=s.StrictCharField(max_length=spec.MAX_PROJECTION_PATH), required=False,
                                       allow_null=True, max_length=spec.MAX_PROJECTION, help_text=PROJECTION_HELP)
    cursor = s.StrictCharField(required=False, allow_null=True, max_length=100_000,
                               help_text="the position a previous batch returned; none: the start")
    batch_size = StrictIntegerField(required=False, default=500, min_value=1, max_value=selectors.MAX_BATCH)
    worker_index = StrictIntegerField(required=False, default=0, min_value=0, max_value=selectors.MAX_WORKERS - 1)
    num_workers = StrictIntegerField(required=False, default=1, min_value=1, max_value=selectors.MAX_WORKERS)


class DataviewExportIn(serializers.Serializer):
    format = serializers.ChoiceField(choices=ExportFormat.values, required=False, default=ExportFormat.JSONL,
                                     help_text="json: one array of frames; jsonl: a frame per line")
    projection = serializers.ListField(child=s.StrictCharField(max_length=spec.MAX_PROJECTION_PATH), required=False,
                                       allow_null=True, max_length=spec.MAX_PROJECTION, help_text=PROJECTION_HELP)


# --- answers -----------------------------------------------------------------------------------------------


class DataviewOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    project_id = serializers.UUIDField(allow_null=True)
    project_name = serializers.CharField(source="project.name", allow_null=True, default=None)
    description = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=["draft", "published"])
    archived = serializers.BooleanField()
    versions = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    filters = serializers.ListField(child=serializers.DictField())
    mapping = serializers.ListField(child=serializers.DictField())
    labels_enumeration = serializers.DictField(child=serializers.IntegerField())
    output_rois = serializers.ChoiceField(choices=OutputRois.values)
    iteration = serializers.DictField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()
    published = serializers.DateTimeField(allow_null=True)


class DataviewRuleCountOut(serializers.Serializer):
    rule_index = serializers.IntegerField()
    count = serializers.IntegerField(help_text="the frames the rule takes on its own")
    share = serializers.IntegerField(help_text="the items that belong to it in an iteration (the first rule "
                                               "that takes a frame has it)")


class DataviewCountOut(serializers.Serializer):
    total = serializers.IntegerField()
    rules = DataviewRuleCountOut(many=True)


class DataviewIterationOut(serializers.Serializer):
    id = serializers.UUIDField()
    dataview_id = serializers.UUIDField()
    order = serializers.ChoiceField(choices=list(spec.ORDERS))
    random_seed = serializers.IntegerField()
    repeat = serializers.BooleanField()
    length = serializers.IntegerField(allow_null=True, help_text="the stream's items; null: endless")
    total = serializers.IntegerField()
    rules = DataviewRuleCountOut(many=True)
    key = serializers.CharField(help_text="the run's key (empty: none)")


class DataviewBatchOut(serializers.Serializer):
    frames = serializers.ListField(child=serializers.DictField())
    cursor = serializers.CharField()
    eof = serializers.BooleanField()
    random_seed = serializers.IntegerField()
    frames_returned = serializers.IntegerField()
    items = serializers.IntegerField(help_text="stream items in this batch (frame_per_roi yields one frame per ROI)")


class DataviewExportOut(serializers.Serializer):
    id = serializers.UUIDField()
    dataview_id = serializers.UUIDField()
    format = serializers.ChoiceField(choices=ExportFormat.values)
    projection = serializers.ListField(child=serializers.CharField(), allow_null=True)
    status = serializers.ChoiceField(choices=ExportStatus.values)
    total = serializers.IntegerField(allow_null=True, help_text="the items to write (null until the job has started)")
    done = serializers.IntegerField(help_text="items read so far")
    written = serializers.IntegerField(help_text="frames written so far (frame_per_roi: one per ROI)")
    size = serializers.IntegerField(allow_null=True, help_text="the file's bytes, once written")
    error = serializers.CharField()
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    download_url = serializers.SerializerMethodField(help_text="where to read the file, once the job succeeded")

    def get_download_url(self, job: DataviewExport) -> str | None:
        if job.status != ExportStatus.SUCCEEDED:
            return None
        return reverse("api-dataview-export-download", args=[job.pk])


def _rules_out(rule_counts: list[int], sizes: list[int]) -> list[dict]:
    return [{"rule_index": r, "count": count, "share": share}
            for r, (count, share) in enumerate(zip(rule_counts, sizes, strict=True))]


def _iteration_out(run: DataviewIteration) -> dict:
    return DataviewIterationOut({"id": run.pk, "dataview_id": run.dataview_id, "order": run.order,
                         "random_seed": run.random_seed, "repeat": run.repeat, "length": run.length,
                         "total": run.total, "rules": _rules_out(run.rule_counts, run.sizes), "key": run.key}).data


# --- loading under the caller's rights ---------------------------------------------------------------------


def dataview_for(request, dataview_id, action: str) -> Dataview:
    try:
        dataview = Dataview.objects.select_related("project").get(pk=parse_uuid("dataview_id", dataview_id))
    except Dataview.DoesNotExist:
        raise NotFound(f"dataview {dataview_id} does not exist") from None
    require_dataview(request.user, dataview, action, dataview_id)
    return dataview


def _out(dataview: Dataview) -> dict:
    return DataviewOut(Dataview.objects.select_related("project").get(pk=dataview.pk)).data


RECIPE_KEYS = ("description", "tags", "versions", "filters", "mapping", "labels_enumeration", "output_rois",
               "iteration")


# --- views -------------------------------------------------------------------------------------------------


class DataviewListView(APIView):
    @extend_schema(parameters=[OpenApiParameter("project", OpenApiTypes.UUID, description="project id"),
                               OpenApiParameter("archived", bool, description="archived ones instead")],
                   responses=s.paginated(DataviewOut), operation_id="dataviews_list")
    def get(self, request):
        dataviews = visible_dataviews(request.user).select_related("project").filter(
            archived=query_bool(request, "archived"))
        if "project" in request.query_params:
            raw = request.query_params["project"]
            project = visible_projects(request.user).filter(pk=parse_uuid("project", raw)).first()
            if project is None:
                raise NotFound(f"project {raw} does not exist")
            dataviews = dataviews.filter(project=project)
        return paginate(self, request, dataviews, NameCursorPagination, DataviewOut)

    @extend_schema(request=DataviewCreateIn, responses={201: DataviewOut})
    def post(self, request):
        data = parsed(DataviewCreateIn, request.data)
        require_create_in_project(request.user, data.get("project_name"), "project.add_dataview")
        dataview = services.dataview_create(
            name=data["name"], project_name=data.get("project_name"), user=request.user,
            datasets=visible_datasets(request.user), **{key: data[key] for key in RECIPE_KEYS if key in data})
        return Response(_out(dataview), status=201)


class DataviewDetailView(APIView):
    @extend_schema(responses=DataviewOut)
    def get(self, request, dataview_id):
        return Response(_out(dataview_for(request, dataview_id, "dataview.view")))

    @extend_schema(request=DataviewUpdateIn, responses=DataviewOut)
    def patch(self, request, dataview_id):
        dataview = dataview_for(request, dataview_id, "dataview.change")
        data = parsed(DataviewUpdateIn, request.data)
        fields = {key: data[key] for key in ("name", *RECIPE_KEYS) if key in data}
        services.dataview_update(dataview, force=data["force"], datasets=visible_datasets(request.user), **fields)
        return Response(_out(dataview))

    @extend_schema(parameters=[OpenApiParameter("force", bool, description="delete a Published dataview")],
                   responses={204: None})
    def delete(self, request, dataview_id):
        dataview = dataview_for(request, dataview_id, "dataview.delete")
        services.dataview_delete(dataview, force=query_bool(request, "force"))
        return Response(status=204)


class _DataviewAction(APIView):
    service = None

    @extend_schema(request=None, responses=DataviewOut)
    def post(self, request, dataview_id):
        dataview = dataview_for(request, dataview_id, "dataview.change")
        type(self).service(dataview)
        return Response(_out(dataview))


class DataviewPublishView(_DataviewAction):
    service = services.dataview_publish


class DataviewArchiveView(_DataviewAction):
    service = services.dataview_archive


class DataviewRestoreView(_DataviewAction):
    service = services.dataview_restore


class DataviewCloneView(APIView):
    @extend_schema(request=DataviewCloneIn, responses={201: DataviewOut})
    def post(self, request, dataview_id):
        dataview = dataview_for(request, dataview_id, "dataview.view")
        data = parsed(DataviewCloneIn, request.data)
        target = data.get("project_name") or (dataview.project.name if dataview.project_id else None)
        require_create_in_project(request.user, target, "project.add_dataview")
        clone = services.dataview_clone(dataview, name=data["name"], project_name=data.get("project_name"),
                                        description=data.get("description"), user=request.user)
        return Response(_out(clone), status=201)


class DataviewMoveView(APIView):
    @extend_schema(request=DataviewMoveIn, responses=DataviewOut)
    def post(self, request, dataview_id):
        dataview = dataview_for(request, dataview_id, "dataview.change")
        data = parsed(DataviewMoveIn, request.data)
        require_create_in_project(request.user, data["project_name"], "project.add_dataview")
        services.dataview_move(dataview, project_name=data["project_name"], user=request.user)
        return Response(_out(dataview))


class DataviewCountView(APIView):
    @extend_schema(responses=DataviewCountOut)
    def get(self, request, dataview_id):
        dataview = dataview_for(request, dataview_id, "dataview.view")
        require_inputs_readable(request.user, dataview.versions)
        counts = selectors.dataview_counts(dataview)
        rules = _rules_out(counts.rule_counts, counts.sizes)
        return Response(DataviewCountOut({"total": counts.total, "rules": rules}).data)


class DataviewIterationsView(APIView):
    @extend_schema(request=DataviewIterationIn, responses={201: DataviewIterationOut, 200: DataviewIterationOut})
    def post(self, request, dataview_id):
        dataview = dataview_for(request, dataview_id, "dataview.view")
        require_inputs_readable(request.user, dataview.versions)
        data = parsed(DataviewIterationIn, request.data)
        run = services.iteration_start(dataview, user=request.user, allow_repetition=data["allow_repetition"],
                                       iteration=data.get("iteration"), key=data.get("key"))
        return Response(_iteration_out(run), status=201 if run.started else 200)


def iteration_for(request, iteration_id) -> DataviewIteration:
    run = selectors.iteration_get(iteration_id, DataviewIteration.objects.filter(dataview__isnull=False))
    try:
        require_dataview(request.user, run.dataview, "dataview.view")
    except NotFound:
        raise NotFound(f"iteration {iteration_id} does not exist (or expired)") from None
    require_inputs_readable(request.user, run.recipe.get("versions", []))
    return run


class IterationDetailView(APIView):
    @extend_schema(responses=DataviewIterationOut)
    def get(self, request, iteration_id):
        return Response(_iteration_out(iteration_for(request, iteration_id)))


class IterationNextView(APIView):
    @extend_schema(request=DataviewNextIn, responses=DataviewBatchOut,
                   description="The next batch of a worker's part of the iteration; pass the answer's cursor to get "
                               "the one after. eof: the part has no more items.")
    def post(self, request, iteration_id):
        run = iteration_for(request, iteration_id)
        data = parsed(DataviewNextIn, request.data)
        batch = selectors.iteration_batch(run, cursor=data.get("cursor"), batch_size=data["batch_size"],
                                          worker_index=data["worker_index"], num_workers=data["num_workers"],
                                          projection=data.get("projection"))
        services.iteration_touch(run)
        return Response({"frames": batch.frames, "cursor": batch.cursor, "eof": batch.eof,
                         "random_seed": run.random_seed, "frames_returned": len(batch.frames), "items": batch.items})


class DataviewLookupView(APIView):
    @extend_schema(parameters=[OpenApiParameter("name", s.NAME_PARAMETER, required=True),
                               OpenApiParameter("project_name", s.NAME_PARAMETER,
                                                description="its project; none: the dataview outside any project, "
                                                            "else the one dataview of that name")],
                   responses=DataviewOut)
    def get(self, request):
        name = request.query_params.get("name")
        if not name:
            raise NotFound("give the dataview's name")
        dataview = selectors.dataview_get(name=name, project_name=request.query_params.get("project_name"),
                                          queryset=visible_dataviews(request.user))
        return Response(_out(dataview))


class DataviewExportsView(APIView):
    @extend_schema(responses=s.paginated(DataviewExportOut), operation_id="dataview_exports_list")
    def get(self, request, dataview_id):
        dataview = dataview_for(request, dataview_id, "dataview.view")
        return paginate(self, request, DataviewExport.objects.filter(dataview=dataview), CreatedCursorPagination,
                        DataviewExportOut)

    @extend_schema(request=DataviewExportIn, responses={202: DataviewExportOut},
                   description="Queue a job writing the dataview's frames, as they are when it runs (its order and "
                               "limit, one pass), into a file; poll the export until it succeeds, then read "
                               "download_url.")
    def post(self, request, dataview_id):
        dataview = dataview_for(request, dataview_id, "dataview.view")
        require_inputs_readable(request.user, dataview.versions)
        data = parsed(DataviewExportIn, request.data)
        job = exports.export_create(dataview, user=request.user, format=data["format"],
                                    projection=data.get("projection"))
        return Response(DataviewExportOut(job).data, status=202)


def export_for(request, export_id) -> DataviewExport:
    """The export, when the caller may view its dataview (else not found) and read every dataset it takes
    frames from (else forbidden), as for an iteration."""
    job = DataviewExport.objects.select_related("dataview__project").filter(
        pk=parse_uuid("export_id", export_id)).first()
    missing = f"dataview export {export_id} does not exist"
    if job is None:
        raise NotFound(missing)
    try:
        require_dataview(request.user, job.dataview, "dataview.view")
    except NotFound:
        raise NotFound(missing) from None
    require_inputs_readable(request.user, job.inputs)
    return job


class DataviewExportDetailView(APIView):
    @extend_schema(responses=DataviewExportOut)
    def get(self, request, export_id):
        return Response(DataviewExportOut(export_for(request, export_id)).data)

    @extend_schema(responses={204: None}, description="Remove the export and its file (its creator, or whoever may "
                                                      "change the dataview).")
    def delete(self, request, export_id):
        job = export_for(request, export_id)
        if job.created_by_id != request.user.pk and dataview_role(request.user, job.dataview) < Role.WRITE:
            raise AccessDenied("only the export's creator or someone who may change the dataview may delete it")
        exports.export_delete(job)
        return Response(status=204)


class DataviewExportDownloadView(APIView):
    @extend_schema(responses={(200, "application/x-ndjson"): OpenApiTypes.BINARY,
                              (200, "application/json"): OpenApiTypes.BINARY},
                   description="The exported file, as an attachment (404 until the export succeeded).")
    def get(self, request, export_id):
        job = export_for(request, export_id)
        if job.status != ExportStatus.SUCCEEDED or not job.file:
            raise NotFound(f"dataview export {export_id} has no file yet (it is {job.status})")
        try:
            handle = default_storage.open(job.file, "rb")
        except FileNotFoundError:
            raise NotFound(f"the file of dataview export {export_id} is gone") from None
        response = FileResponse(handle, as_attachment=True, filename=job.file.rsplit("/", 1)[-1],
                                content_type=exports.CONTENT_TYPES[job.format])
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = FILE_CSP
        response["Cache-Control"] = "private, no-store"
        return response
