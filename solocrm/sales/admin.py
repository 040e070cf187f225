from django.contrib import admin

from .models import FormSubmission, LeadForm, Order, OrderLine, Product, Task


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "price", "currency", "active"]
    list_filter = ["active", "currency"]
    search_fields = ["name", "sku", "external_id"]
    readonly_fields = ["uuid", "created_at", "updated_at"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "contact", "status", "channel", "total", "currency", "ordered_at"]
    list_filter = ["status", "channel", "currency", "source"]
    search_fields = ["number", "external_id", "contact__email", "contact__last_name"]
    list_select_related = ["contact"]
    raw_id_fields = ["contact"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    date_hierarchy = "ordered_at"
    inlines = [OrderLineInline]
    show_full_result_count = False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "due_at", "done_at", "priority", "contact", "assignee"]
    list_filter = ["priority", "done_at"]
    search_fields = ["title", "contact__last_name", "contact__email"]
    list_select_related = ["contact", "assignee"]
    raw_id_fields = ["contact", "company", "assignee", "created_by"]
    readonly_fields = ["uuid", "created_at", "updated_at"]


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
