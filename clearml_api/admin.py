"""ClearML API credentials in admin: superusers see every pair (never a secret: only its hash is kept) and may
revoke them; pairs are made by their users (account page) or ``manage.py clearml_credentials``."""

from django.contrib import admin, messages

from clearml_api.credentials import credential_revoke
from clearml_api.models import ApiCredential


@admin.register(ApiCredential)
class ApiCredentialAdmin(admin.ModelAdmin):
    list_display = ["access_key", "user", "label", "created", "last_used", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["access_key", "user__username", "label"]
    fields = ["access_key", "user", "label", "created", "last_used", "revoked"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Revoke selected credentials (their tokens stop working)")
    def revoke(self, request, queryset):
        for credential in queryset:
            credential_revoke(credential)
        self.message_user(request, f"Revoked {queryset.count()} credential(s).", messages.SUCCESS)
