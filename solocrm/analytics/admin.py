from django.contrib import admin

from .models import CustomerScore, FittedModel


@admin.register(CustomerScore)
class CustomerScoreAdmin(admin.ModelAdmin):
    list_display = ("contact", "rfm_segment", "clv", "p_alive", "churn_risk", "computed_at")
    list_filter = ("rfm_segment",)
    raw_id_fields = ("contact", "next_product")


@admin.register(FittedModel)
class FittedModelAdmin(admin.ModelAdmin):
    list_display = ("kind", "created_at", "n_samples", "code_version", "duration_ms")
    list_filter = ("kind",)
    readonly_fields = ("uuid", "created_at", "updated_at")
