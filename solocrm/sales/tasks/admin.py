from django.contrib import admin

from solocrm.sales.tasks.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "due_at", "done_at", "priority", "contact", "assignee"]
    list_filter = ["priority", "done_at"]
    search_fields = ["title", "contact__last_name", "contact__email"]
    list_select_related = ["contact", "assignee"]
    raw_id_fields = ["contact", "company", "assignee", "created_by"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
