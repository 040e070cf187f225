"""The orders' change stamp: one explicit call for every function that writes orders.

Figures computed from orders (the Today page's revenue) are cached per process; a demo loaded
or a file imported from the command line runs in another process, whose cache clearing the
server would never see. So the writers bump a counter row in the database instead, inside
their own transaction, and readers put the counter in their cache keys: after any change the
next reader computes afresh, in every process. No signals: each writer calls
:func:`orders_changed` itself (create/update/delete_order, the orders import, a won deal, the
demo loader)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from solocrm.sales.orders.models import ChangeStamp

ORDERS = "orders"


def orders_changed() -> None:
    """Call after writing orders (in the same transaction): cached order figures go stale."""
    if ChangeStamp.objects.filter(key=ORDERS).update(value=F("value") + 1):
        return
    try:
        with transaction.atomic():  # a savepoint: another writer may create the row first
            ChangeStamp.objects.create(key=ORDERS, value=1)
    except IntegrityError:
        ChangeStamp.objects.filter(key=ORDERS).update(value=F("value") + 1)


def orders_version() -> int:
    """The current stamp (0 before any order was written): one primary-key-sized lookup."""
    return ChangeStamp.objects.filter(key=ORDERS).values_list("value", flat=True).first() or 0
