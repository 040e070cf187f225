from django.contrib import admin

from solocrm.sales.orders.models import Order, OrderLine, Product


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
