from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FULFILLED = "fulfilled", _("Fulfilled")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")


# Orders that count as revenue (analytics and customer value).
REVENUE_STATUSES = (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED)


class SalesChannel(models.TextChoices):
    ONLINE = "online", _("Online shop")
    IN_PERSON = "in_person", _("In person")
    INVOICE = "invoice", _("Invoice")
    MARKETPLACE = "marketplace", _("Marketplace")
    PHONE = "phone", _("Phone")
    OTHER = "other", _("Other")


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")
