"""What the analytics app adds to the contact page's header (solocrm.lib.contact_page): the
customer's lifetime value and churn risk from their CustomerScore, once the refresh has run."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

from solocrm.lib.business import business_settings
from solocrm.lib.contact_page import Figure, key_figures

CHURN_WARNING = 0.25
CHURN_DANGER = 0.5


@key_figures("scores")
def score_figures(request: HttpRequest, contact) -> list[Figure]:
    """CLV and churn risk (one query unless the view selected the score); nothing before the
    first refresh has scored this contact."""
    try:
        score = contact.score
    except ObjectDoesNotExist:
        return []
    figures = []
    if score.clv is not None:
        value = f"{floatformat(score.clv, '0g')} {business_settings().currency}"
        figures.append(
            Figure("clv", _("CLV"), value, hint=_("Expected value of the next 12 months"), order=30)
        )
    if score.churn_risk is not None:
        risk = score.churn_risk
        tone = "danger" if risk >= CHURN_DANGER else "warning" if risk >= CHURN_WARNING else "success"
        value = _("%(value)s%%") % {"value": floatformat(risk * 100, "0g")}
        figures.append(
            Figure(
                "churn",
                _("Churn risk"),
                value,
                hint=_("Chance this customer does not buy again"),
                tone=tone,
                order=40,
            )
        )
    return figures
