"""The knowledge base's enumerations."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    """The languages an article is written in: the interface's own (settings.LANGUAGES)."""

    EN = "en", _("English")
    ZH_HANS = "zh-hans", _("Simplified Chinese")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
