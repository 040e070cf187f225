from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "solocrm.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from solocrm.sales import today  # noqa: F401 - registers this module's Today items
