from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "solocrm.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        # Registers the Today items, the customer-page sections and global search's kinds.
        from solocrm.sales import contact_page, search, today  # noqa: F401
        from solocrm.sales.orders import importing  # noqa: F401 - registers the orders import
