"""Dataviews in admin: listed and shown for the projects the user may see; published, archived and restored
through the services. Recipes are written through the services' callers (API, SDK), not edited here."""

from django.contrib import admin, messages
from django.db.models import Q

from dataviews.exports import export_delete
from dataviews.models import Dataview, DataviewExport
from dataviews.services import dataview_archive, dataview_publish, dataview_restore
from hyperdatasets.access import Role, project_role, visible_projects
from hyperdatasets.exceptions import ServiceError


@admin.register(Dataview)
class DataviewAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "status", "archived", "output_rois", "created", "updated"]
    list_filter = ["status", "archived"]
    search_fields = ["name", "description", "project__name"]
    list_select_related = ["project"]
    fields = ["name", "project", "description", "tags", "status", "archived", "versions", "filters", "mapping",
              "labels_enumeration", "output_rois", "iteration", "created_by", "created", "updated", "published"]
    readonly_fields = fields
    actions = ["publish", "archive", "restore"]

    def get_queryset(self, request):
        dataviews = super().get_queryset(request)
        if request.user.is_superuser:
            return dataviews
        return dataviews.filter(Q(project__isnull=True) | Q(project__in=visible_projects(request.user).values("pk")))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # shown, not edited: the actions below go through the services

    @staticmethod
    def _may_change(request, dataview: Dataview) -> bool:
        if request.user.is_superuser or dataview.project_id is None:
            return request.user.is_authenticated
        return project_role(request.user, dataview.project) >= Role.WRITE

    def _each(self, request, queryset, action, done: str) -> None:
        for dataview in queryset:
            if not self._may_change(request, dataview):
                self.message_user(request, f"You may not change dataview {dataview.name!r}.", messages.ERROR)
                continue
            try:
                action(dataview)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"{done} dataview {dataview.name!r}.", messages.SUCCESS)

    @admin.action(description="Publish selected Draft dataviews")
    def publish(self, request, queryset):
        self._each(request, queryset, dataview_publish, "Published")

    @admin.action(description="Archive selected dataviews")
    def archive(self, request, queryset):
        self._each(request, queryset, dataview_archive, "Archived")

    @admin.action(description="Restore selected archived dataviews")
    def restore(self, request, queryset):
        self._each(request, queryset, dataview_restore, "Restored")


@admin.register(DataviewExport)
class DataviewExportAdmin(admin.ModelAdmin):
    """Export jobs, shown for the dataviews the user may see; deleting one removes its file too."""

    list_display = ["id", "dataview", "format", "status", "done", "total", "written", "size", "created", "finished"]
    list_filter = ["status", "format"]
    list_select_related = ["dataview__project"]
    fields = ["dataview", "format", "projection", "status", "total", "done", "written", "file", "size", "error",
              "runs", "created_by", "created", "started", "finished"]
    readonly_fields = fields
    actions = ["delete_exports"]

    def get_queryset(self, request):
        jobs = super().get_queryset(request)
        if request.user.is_superuser:
            return jobs
        visible = visible_projects(request.user).values("pk")
        return jobs.filter(Q(dataview__project__isnull=True) | Q(dataview__project__in=visible))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # through the action below, which removes the file as well

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Delete selected exports and their files")
    def delete_exports(self, request, queryset):
        deleted = 0
        for job in queryset.select_related("dataview__project"):
            if not DataviewAdmin._may_change(request, job.dataview) and job.created_by_id != request.user.pk:
                self.message_user(request, f"You may not delete export {job.pk}.", messages.ERROR)
                continue
            export_delete(job)
            deleted += 1
        if deleted:
            self.message_user(request, f"Deleted {deleted} export(s).", messages.SUCCESS)
