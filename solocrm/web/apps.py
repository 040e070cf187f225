from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "solocrm.web"
    label = "web"
    verbose_name = _("Web")

    def ready(self) -> None:
        from solocrm.lib import today

        from .models import TodaySnooze

        today.use_snoozes(TodaySnooze.hidden_keys)
