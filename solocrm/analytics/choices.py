"""Translatable labels for the codes that the Django-free analytics core produces."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RfmSegment(models.TextChoices):
    """The eleven named RFM segments; the rules live in ``solocrm.analytics.rfm``."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential loyalist")
    NEW = "new", _("New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to sleep")
    AT_RISK = "at_risk", _("At risk")
    CANT_LOSE = "cant_lose", _("Can't lose them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class ModelKind(models.TextChoices):
    """What a FittedModel row holds: a fitted estimator or a stored report."""

    BGNBD = "bgnbd", _("BG/NBD purchase model")
    GAMMA_GAMMA = "gamma_gamma", _("Gamma-Gamma spend model")
    RFM = "rfm", _("RFM segments")
    CLV = "clv", _("Customer lifetime value")
    CHURN = "churn", _("Churn model")
    PERSONAS = "personas", _("Personas")
    COHORTS = "cohorts", _("Cohort retention")
    SATISFACTION = "satisfaction", _("Satisfaction")
    BASKET = "basket", _("Recommendations")
    LEADS = "leads", _("Lead scoring")
    FORECAST = "forecast", _("Revenue forecast")
    MARKETING = "marketing", _("Marketing metrics")
