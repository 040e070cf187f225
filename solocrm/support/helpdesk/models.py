"""The help desk's own record: the customer's one answer to "How satisfied were you?" after a
ticket was solved (see docs/support.md, "Satisfaction (CSAT)")."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from solocrm.contacts.models import Contact, Interaction
from solocrm.support.tickets.models import Ticket

CSAT_MIN, CSAT_MAX = 1, 5


class CsatAnswer(models.Model):
    """The single CSAT answer (1–5) to a solved ticket; the customer may change it later.

    ``interaction`` is the timeline entry (kind "survey", data {"metric": "csat", "score": n}) the
    satisfaction analytics read: it is rewritten, never duplicated, when the answer changes."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, related_name="csat", verbose_name=_("ticket")
    )
    # Erasing a contact (privacy) takes their answers with them.
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="csat_answers", verbose_name=_("contact")
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(CSAT_MIN), MaxValueValidator(CSAT_MAX)]
    )
    comment = models.TextField(_("comment"), blank=True)
    interaction = models.OneToOneField(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    answered_at = models.DateTimeField(_("answered"), db_index=True)
    changed_at = models.DateTimeField(_("changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("satisfaction answer")
        verbose_name_plural = _("satisfaction answers")
        ordering = ["-answered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=CSAT_MIN, score__lte=CSAT_MAX), name="csat_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"
