from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "solocrm.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from . import today  # noqa: F401 - registers this module's Today items
