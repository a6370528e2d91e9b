"""The annotation audit trail in admin: read-only, limited to the datasets the user may see."""

from django.contrib import admin

from annotations.models import FrameEdit
from hyperdatasets.access import visible_datasets
from hyperdatasets.admin import ReadOnlyAdmin


@admin.register(FrameEdit)
class FrameEditAdmin(ReadOnlyAdmin):
    list_display = ["frame_id", "version", "username", "saved_at", "rois_before", "rois_after"]
    list_filter = ["saved_at"]
    search_fields = ["frame_id", "username", "version__name", "dataset__name"]
    list_select_related = ["version", "version__dataset"]
    fields = ["dataset", "version", "frame_id", "username", "saved_at", "base_revision", "revision",
              "rois_before", "rois_after", "changes"]
    readonly_fields = fields

    def get_queryset(self, request):
        visible = visible_datasets(request.user).values("pk")
        return super().get_queryset(request).filter(dataset_id__in=visible)
