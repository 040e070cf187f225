from django.contrib import admin

from solocrm.sales.leadforms.models import FormSubmission, LeadForm


@admin.register(LeadForm)
class LeadFormAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "source", "active", "notify_owner", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "title", "source"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["uuid", "created_at", "updated_at"]


@admin.register(FormSubmission)
class FormSubmissionAdmin(admin.ModelAdmin):
    list_display = ["form", "contact", "consent_given", "created_at"]
    list_filter = ["form", "consent_given"]
    list_select_related = ["form", "contact"]
    raw_id_fields = ["contact"]
    readonly_fields = ["uuid", "created_at", "updated_at", "ip_hash"]
    date_hierarchy = "created_at"
    show_full_result_count = False
