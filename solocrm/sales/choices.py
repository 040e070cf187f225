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


class StageKind(models.TextChoices):
    """Whether a stage is still in play or closes the deal, one way or the other."""

    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class LostReason(models.TextChoices):
    PRICE = "price", _("Price too high")
    COMPETITOR = "competitor", _("Chose a competitor")
    TIMING = "timing", _("Bad timing")
    NO_BUDGET = "no_budget", _("No budget")
    NO_RESPONSE = "no_response", _("Stopped responding")
    NOT_A_FIT = "not_a_fit", _("Not a good fit")
    OTHER = "other", _("Other")


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class TaskKind(models.TextChoices):
    TODO = "todo", _("To-do")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    FOLLOW_UP = "follow_up", _("Follow-up")


class RecurrenceUnit(models.TextChoices):
    DAY = "day", _("days")
    WEEK = "week", _("weeks")
    MONTH = "month", _("months")


class Outcome(models.TextChoices):
    """How a logged call or meeting went (stored in the interaction's data as "outcome")."""

    CONNECTED = "connected", _("Talked")
    LEFT_MESSAGE = "left_message", _("Left a message")
    NO_ANSWER = "no_answer", _("No answer")
    INTERESTED = "interested", _("Interested")
    NOT_INTERESTED = "not_interested", _("Not interested")
    WON = "won", _("Agreed to buy")


class LeadFormField(models.TextChoices):
    """The fields a public lead form may ask for (each maps onto the contact)."""

    FIRST_NAME = "first_name", _("First name")
    LAST_NAME = "last_name", _("Last name")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    COMPANY = "company", _("Company")
    JOB_TITLE = "title", _("Job title")
    MESSAGE = "message", _("Message")
