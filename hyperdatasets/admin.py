from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from hyperdatasets.access import (
    POLICY,
    dataset_role,
    deletion_job_role,
    project_role,
    visible_datasets,
    visible_deletion_jobs,
    visible_projects,
    visible_versions,
)
from hyperdatasets.admin_forms import (
    DatasetForm,
    DatasetVersionAddForm,
    DatasetVersionChangeForm,
    ProjectForm,
    StorageCredentialForm,
)
from hyperdatasets.exceptions import ServiceError
from hyperdatasets.models import (
    Dataset,
    DatasetVersion,
    DeletionJob,
    Project,
    ProjectAccessRule,
    StorageCredential,
    StorageLocation,
    VersionStatus,
)
from hyperdatasets.selectors.deletion import deletion_job_errors
from hyperdatasets.services.datasets import dataset_delete
from hyperdatasets.services.deletion import deletion_job_retry_failed
from hyperdatasets.services.projects import project_rule_delete, project_rule_set
from hyperdatasets.services.versions import version_delete, version_publish


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the services (jobs, audit rows): listed and shown, never added, edited or
    deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """Server-wide settings kept in the database (storage credentials and locations): superusers only."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_superuser)


class ServiceSavingAdmin(admin.ModelAdmin):
    """Saves through the form's service; the admin never writes model rows itself."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        return type(form_class.__name__, (form_class,), {"user": request.user})

    def save_model(self, request, obj, form, change):
        saved = form.run_service()
        obj.pk = saved.pk
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if k != "_state"})

    def save_related(self, request, form, formsets, change):
        """Related rows are written by the services: tags and parents by the form's service, access rules
        here; other inlines are read-only."""
        for formset in formsets:
            rules = formset.save(commit=False)
            if formset.model is ProjectAccessRule:
                for rule in formset.deleted_objects:
                    project_rule_delete(rule)
                for rule in rules:
                    project_rule_set(form.instance, role=rule.role, user=rule.user, group=rule.group)


class AccessRuleInline(admin.TabularInline):
    model = ProjectAccessRule
    fields = ["user", "group", "role"]
    extra = 1


@admin.register(Project)
class ProjectAdmin(ServiceSavingAdmin):
    form = ProjectForm
    inlines = [AccessRuleInline]
    list_display = ["name", "dataset_count", "created", "created_by"]
    search_fields = ["name", "description"]
    date_hierarchy = "created"

    def get_queryset(self, request):
        projects = super().get_queryset(request).filter(pk__in=visible_projects(request.user).values("pk"))
        return projects.annotate(_datasets=Count("datasets")).select_related("created_by")

    def has_change_permission(self, request, obj=None):
        if obj is not None and project_role(request.user, obj) < POLICY["project.edit_rules"]:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(ordering="_datasets", description="Datasets")
    def dataset_count(self, obj):
        return obj._datasets


class VersionInline(admin.TabularInline):
    model = DatasetVersion
    fields = ["link", "status", "depth", "comment", "created", "published"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["number"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Version")
    def link(self, version):
        url = reverse("admin:hyperdatasets_datasetversion_change", args=[version.pk])
        return format_html('<a href="{}">{}</a>', url, version.name)


@admin.register(Dataset)
class DatasetAdmin(ServiceSavingAdmin):
    form = DatasetForm
    inlines = [VersionInline]
    list_display = ["name", "project", "is_example", "version_count", "updated", "created_by"]
    list_filter = ["is_example", "project", "tags__name"]
    search_fields = ["name", "description", "project__name", "tags__name"]
    list_select_related = ["project", "created_by"]
    readonly_fields = ["id", "created", "updated", "created_by"]
    actions = ["delete_drafts_only_datasets"]

    def get_queryset(self, request):
        datasets = super().get_queryset(request).filter(pk__in=visible_datasets(request.user).values("pk"))
        return datasets.annotate(_versions=Count("versions", distinct=True))

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(ordering="_versions", description="Versions")
    def version_count(self, obj):
        return obj._versions

    def has_change_permission(self, request, obj=None):
        if obj is not None and dataset_role(request.user, obj) < POLICY["dataset.change"]:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None:
            if dataset_role(request.user, obj) < POLICY["dataset.delete"]:
                return False
            if not request.user.is_superuser and obj.versions.filter(status=VersionStatus.PUBLISHED).exists():
                return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        # Versions are deleted by the dataset service under its own rules, not by per-version admin rights.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if all(self.has_delete_permission(request, obj) for obj in objs):
            perms_needed = set()
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        # Superusers may delete Published versions too; others only all-Draft datasets.
        dataset_delete(obj, delete_all_versions=True, force=request.user.is_superuser, user=request.user)

    @admin.action(description="Delete selected datasets whose versions are all Draft", permissions=["delete"])
    def delete_drafts_only_datasets(self, request, queryset):
        for dataset in queryset:
            try:
                dataset_delete(dataset, delete_all_versions=True, force=False, user=request.user)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"Deleted dataset {dataset.name!r}.", messages.SUCCESS)


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ServiceSavingAdmin):
    list_display = ["name", "dataset", "status", "depth", "parent_names", "created", "published"]
    list_filter = ["status", "dataset__project", "dataset"]
    search_fields = ["name", "dataset__name", "comment"]
    list_select_related = ["dataset", "dataset__project"]
    readonly_fields = ["id", "dataset", "status", "depth", "number", "parent_names", "created", "published",
                       "created_by"]
    actions = ["publish_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=visible_versions(request.user).values("pk"))

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = DatasetVersionChangeForm if obj is not None else DatasetVersionAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["dataset", "name", "parents", "comment", "metadata"]
        return ["id", "dataset", "name", "status", "parent_names", "depth", "number", "comment", "metadata",
                "created", "published", "created_by"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="Parents")
    def parent_names(self, obj):
        return ", ".join(link.parent.name for link in obj.parent_links.select_related("parent").all()) or "—"

    def has_change_permission(self, request, obj=None):
        if obj is not None and (obj.status == VersionStatus.PUBLISHED
                                or dataset_role(request.user, obj.dataset) < POLICY["version.change"]):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.status == VersionStatus.PUBLISHED
                                or dataset_role(request.user, obj.dataset) < POLICY["version.delete"]):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        version_delete(obj)

    @admin.action(description="Publish selected Draft versions", permissions=["change"])
    def publish_selected(self, request, queryset):
        for version in queryset.select_related("dataset"):
            try:
                version_publish(version)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"Published {version}.", messages.SUCCESS)


def _progress_bar(job: DeletionJob) -> str:
    percent = 100 if not job.total else round(100 * job.done / job.total)
    return format_html('<progress max="100" value="{}" title="{} of {}"></progress> {}%', percent, job.done,
                       job.total, percent)


@admin.register(DeletionJob)
class DeletionJobAdmin(ReadOnlyAdmin):
    """Deletion jobs, read-only: their progress, counts per provider and errors; failed objects can be
    given another set of attempts."""

    list_display = ["dataset_name", "project_name", "status", "progress", "total", "deleted", "skipped", "failed",
                    "created", "finished"]
    list_filter = ["status"]
    search_fields = ["dataset_name", "project_name"]
    actions = ["retry_failed"]
    fields = ["id", "dataset_name", "dataset_id", "project_name", "created_by", "status", "progress", "total",
              "deleted", "skipped", "failed", "providers", "skipped_reasons", "errors", "error", "created",
              "started", "finished", "runs", "lease_owner", "lease_until"]
    readonly_fields = fields

    def get_queryset(self, request):
        return visible_deletion_jobs(request.user)

    @admin.display(description="progress")
    def progress(self, job):
        return _progress_bar(job)

    @admin.display(description="errors")
    def errors(self, job):
        rows = deletion_job_errors(job)
        if not rows:
            return "-"
        return format_html_join("\n", "<div>{} × {}: {} (e.g. {})</div>",
                                ((r["count"], r["provider"], r["message"], r["example_uri"]) for r in rows))

    def has_retry_permission(self, request):
        return True  # checked per job below

    @admin.action(description="Retry the failed objects of the selected jobs", permissions=["retry"])
    def retry_failed(self, request, queryset):
        for job in queryset:
            if deletion_job_role(request.user, job) < POLICY["deletion.retry"]:
                self.message_user(request, f"{job}: you may not retry this job", messages.ERROR)
                continue
            count = deletion_job_retry_failed(job)
            self.message_user(request, f"{job.dataset_name}: {count} failed object(s) queued again",
                              messages.SUCCESS)


@admin.register(StorageCredential)
class StorageCredentialAdmin(SuperuserOnlyAdmin):
    """Per-bucket credentials, for superusers only. The secret is write-only: it is never shown back."""

    form = StorageCredentialForm
    list_display = ["__str__", "endpoint_url", "region", "has_secret", "updated"]


@admin.register(StorageLocation)
class StorageLocationAdmin(SuperuserOnlyAdmin):
    """The buckets, containers and folders whose objects the pages may show, per project or for all; for
    superusers only, beside the credentials that sign their links."""

    list_display = ["provider", "location", "project", "created"]
    list_filter = ["provider", "project"]
    search_fields = ["location", "project__name"]
