from django.contrib import admin

from .models import Company, Contact, ImportJob, Interaction, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "color", "created_at"]
    search_fields = ["name"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "domain", "industry", "city", "country", "created_at"]
    search_fields = ["name", "domain", "external_id"]
    list_filter = ["industry", "country"]
    filter_horizontal = ["tags"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    show_full_result_count = False  # COUNT(*) over a million rows is slow and rarely needed


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "phone", "company", "lifecycle_stage", "email_consent", "created_at"]
    list_filter = ["lifecycle_stage", "channel", "email_consent"]
    search_fields = ["first_name", "last_name", "email", "phone", "external_id"]
    list_select_related = ["company"]
    raw_id_fields = ["company", "owner"]  # a select of every company would not load at scale
    filter_horizontal = ["tags"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    show_full_result_count = False


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "subject", "contact", "company", "author"]
    list_filter = ["kind"]
    search_fields = ["subject", "external_id", "contact__last_name", "contact__email"]
    list_select_related = ["contact", "company", "author"]
    raw_id_fields = ["contact", "company", "author"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "original_name",
        "status",
        "dry_run",
        "rows_done",
        "rows_total",
        "created_by",
    ]
    list_filter = ["kind", "status", "dry_run"]
    search_fields = ["original_name"]
    list_select_related = ["created_by"]
    readonly_fields = [
        "uuid", "kind", "original_name", "stored_path", "status", "dry_run", "mapping", "rows_done",
        "rows_total", "report", "error", "created_by", "created_at", "updated_at", "finished_at",
    ]  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False  # imports start from the Import page, which stores the file safely
