"""What the apps above mail do when new mail is stored (the support desk turns mail to the
support mailbox into tickets). Mail cannot import them, so they register here from their
AppConfig.ready()::

    from solocrm.mail.hooks import on_stored

    @on_stored
    def tickets_from_mail(messages):
        ...

A listener gets the messages a sync batch stored (new ones only, each with its account, thread
and contact loaded) inside the batch's transaction: what it writes commits together with the
messages and the folder's last UID, so a crash or kill -9 repeats both or neither. A listener
that fails is logged and rolled back on its own (a savepoint); the mail is kept."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from django.db import transaction

if TYPE_CHECKING:
    from .models import MailMessage

logger = logging.getLogger(__name__)

Listener = Callable[[Sequence["MailMessage"]], None]
_listeners: dict[str, Listener] = {}


def on_stored(func: Listener) -> Listener:
    """Call ``func(messages)`` for every batch of newly stored messages (registering the same
    function again replaces it)."""
    _listeners[f"{func.__module__}.{func.__qualname__}"] = func
    return func


def notify_stored(message_ids: Sequence[int]) -> None:
    """Tell every listener about the messages ``message_ids`` (called by the sync and by
    sending, inside their transaction)."""
    if not message_ids or not _listeners:
        return
    from .models import MailMessage

    messages = list(
        MailMessage.objects.filter(pk__in=message_ids)
        .select_related("account", "thread", "contact")
        .order_by("date", "pk")
    )
    for name, listener in _listeners.items():
        try:
            with transaction.atomic():
                listener(messages)
        except Exception:
            count = len(messages)
            logger.exception("mail listener %s failed on %d message(s); the mail is kept", name, count)
