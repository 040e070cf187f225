"""Lead forms for a website and what visitors sent through them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.models import Contact
from solocrm.lib.models import PublicModel


def default_form_fields() -> list[str]:
    return ["first_name", "last_name", "email", "message"]


def default_required_fields() -> list[str]:
    return ["email"]


class LeadForm(PublicModel):
    """A public form (hosted page and embeddable snippet) that turns visitors into leads."""

    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("heading"), max_length=200, blank=True)
    introduction = models.TextField(_("introduction"), blank=True)
    fields = models.JSONField(_("fields"), default=default_form_fields)
    required_fields = models.JSONField(_("required fields"), default=default_required_fields)
    submit_label = models.CharField(_("button text"), max_length=60, blank=True)
    thank_you = models.TextField(_("thank-you message"), blank=True)
    # Shown beside the checkbox; the exact text is stored with each submission that ticks it.
    consent_text = models.TextField(_("consent text"), blank=True)
    source = models.CharField(_("source given to new leads"), max_length=100, blank=True)
    active = models.BooleanField(_("accepting submissions"), default=True)
    notify_owner = models.BooleanField(_("e-mail me each submission"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("lead form")
        verbose_name_plural = _("lead forms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FormSubmission(PublicModel):
    """What a visitor sent through a lead form, kept as sent (the contact holds the merged view)."""

    form = models.ForeignKey(
        LeadForm, on_delete=models.CASCADE, related_name="submissions", verbose_name=_("form")
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="form_submissions",
        verbose_name=_("contact"),
    )
    data = models.JSONField(_("answers"), default=dict)
    consent_given = models.BooleanField(_("consent given"), default=False)
    consent_text = models.TextField(_("consent text shown"), blank=True)
    page_url = models.CharField(_("page"), max_length=500, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.form_id} {self.created_at:%Y-%m-%d %H:%M}"
