"""The admin pages of the sales app's parts (Django's autodiscovery imports only this module)."""

from solocrm.sales.leadforms import admin as leadforms_admin
from solocrm.sales.orders import admin as orders_admin
from solocrm.sales.tasks import admin as tasks_admin

__all__ = ["leadforms_admin", "orders_admin", "tasks_admin"]
