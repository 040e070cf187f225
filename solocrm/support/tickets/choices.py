from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TicketStatus(models.TextChoices):
    # A context of their own: "New" and "Open" of customers and deals read otherwise in Chinese.
    NEW = "new", pgettext_lazy("ticket status", "New")
    OPEN = "open", pgettext_lazy("ticket status", "Open")
    WAITING = "waiting", _("Waiting on customer")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


# A ticket in one of these needs nothing from us now (the SLA clocks stop).
RESTING = (TicketStatus.WAITING, TicketStatus.SOLVED, TicketStatus.CLOSED)
DONE = (TicketStatus.SOLVED, TicketStatus.CLOSED)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TicketSource(models.TextChoices):
    EMAIL = "email", _("E-mail")
    FORM = "form", _("Help form")
    MANUAL = "manual", _("Entered by hand")
    API = "api", _("API")


class EventKind(models.TextChoices):
    CUSTOMER_REPLY = "customer_reply", _("Customer wrote")
    AGENT_REPLY = "agent_reply", _("We replied")
    NOTE = "note", _("Internal note")
    STATUS = "status", _("Status changed")
    PRIORITY = "priority", _("Priority changed")
    ASSIGN = "assign", _("Assigned")
    MERGE = "merge", _("Merged")
    LINK = "link", _("Linked")
    TAGS = "tags", _("Tags changed")
    SUBJECT = "subject", _("Subject changed")
    CSAT = "csat", _("Satisfaction answer")
