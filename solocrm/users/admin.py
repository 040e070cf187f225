from django.contrib import admin

from .models import ApiToken, AuditLog


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "hint"]
    list_select_related = ["user"]
    # Tokens are issued on the tokens page (the secret is shown once there), never typed in here.
    readonly_fields = ["uuid", "user", "hint", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_uuid", "summary"]
    list_filter = ["action", "object_type"]
    search_fields = ["summary", "object_uuid", "actor__username"]
    list_select_related = ["actor"]
    date_hierarchy = "at"

    # The audit log is evidence: nobody edits or deletes it through the admin.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
