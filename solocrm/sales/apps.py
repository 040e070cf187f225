from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "solocrm.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from solocrm.sales import contact_page, today  # noqa: F401 - registers the Today items and customer-page sections
        from solocrm.sales.orders import importing  # noqa: F401 - registers the orders import
