from django.db import models
from django.utils.translation import gettext_lazy as _


class LifecycleStage(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    REPEAT = "repeat", _("Repeat customer")
    AT_RISK = "at_risk", _("At risk")
    DORMANT = "dormant", _("Dormant")
    CHURNED = "churned", _("Churned")


class Channel(models.TextChoices):
    """How a contact first found the business (acquisition channel)."""

    ORGANIC = "organic", _("Organic search")
    REFERRAL = "referral", _("Referral")
    PAID = "paid", _("Paid ads")
    SOCIAL = "social", _("Social media")
    EMAIL = "email", _("E-mail")
    EVENT = "event", _("Event")
    DIRECT = "direct", _("Direct")
    MARKETPLACE = "marketplace", _("Marketplace")
    OTHER = "other", _("Other")


class InteractionKind(models.TextChoices):
    NOTE = "note", _("Note")
    EMAIL_IN = "email_in", _("E-mail received")
    EMAIL_OUT = "email_out", _("E-mail sent")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    CHAT = "chat", _("Chat")
    SOCIAL = "social", _("Social")
    FORM = "form", _("Form submission")
    # data = {"metric": "nps" | "csat" | "ces", "score": int}: read by the satisfaction analytics.
    SURVEY = "survey", _("Survey answer")
    SYSTEM = "system", _("System event")


class ImportKind(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    COMPANIES = "companies", _("Companies")
    ORDERS = "orders", _("Orders")
    INTERACTIONS = "interactions", _("Interactions")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
