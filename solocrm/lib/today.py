"""The Today page's one ranked list, gathered from providers that each app registers.

A provider is a function ``(TodayContext) -> iterable of TodayItem``. Apps register theirs in
their ``today.py`` module, imported by their AppConfig.ready(), so a new module (tickets,
campaigns) adds its items without editing the page::

    from solocrm.lib.today import TodayItem, provider

    @provider("tickets")
    def tickets_near_sla(ctx):
        for ticket in Ticket.objects.near_sla(ctx.now)[: ctx.take("ticket")]:
            yield TodayItem(key=f"ticket:{ticket.uuid}", kind="ticket", title=..., reason=..., score=...)

Every provider runs a bounded number of queries (it fetches ``ctx.take(kind)`` rows: the limit
plus the items of that kind the user snoozed) so the page costs the
same with 20,000 tasks as with 20. Scores are "attention points" on one scale (see
docs/today.md): a base per kind of item, plus urgency, plus the money at stake.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TodayAction:
    """A one-click action: a POST form (``method="post"``) or a plain link (``"get"``)."""

    label: str
    url: str
    method: str = "post"
    fields: tuple[tuple[str, str], ...] = ()
    primary: bool = False


@dataclass(frozen=True)
class TodayItem:
    key: str  # stable id ("task:<uuid>"): snoozing hides this key
    kind: str  # what it is, for the icon and the CLI ("task", "lead", "deal", "quote", …)
    title: str
    reason: str  # why it is on the list today, in words
    score: float  # attention points: higher comes first
    url: str = ""
    when: datetime | date | None = None
    amount: Decimal | None = None
    currency: str = ""
    actions: tuple[TodayAction, ...] = ()
    # Items other than tasks are hidden for a while by a generic snooze (TodaySnooze).
    snoozable: bool = True


@dataclass
class TodayContext:
    now: datetime
    user: object = None
    limit: int = 6  # at most this many items per provider
    hidden: set[str] = field(default_factory=set)  # keys this user snoozed
    today: date = field(init=False)

    def __post_init__(self) -> None:
        self.today = timezone.localdate(self.now)

    def take(self, kind: str) -> int:
        """How many rows of ``kind`` to fetch: the limit plus the snoozed ones, which are
        dropped afterwards, so that snoozing six deals shows the seventh."""
        return self.limit + sum(1 for key in self.hidden if key.startswith(f"{kind}:"))


Provider = Callable[[TodayContext], Iterable[TodayItem]]
_providers: dict[str, Provider] = {}
SnoozeSource = Callable[[object, datetime], set[str]]


def _nothing_snoozed(user: object, now: datetime) -> set[str]:
    return set()


# Where the keys a user snoozed come from: the web app, which stores snoozes, plugs its source in
# when it starts (lib sits below every app and imports none of them).
_snoozed: list[SnoozeSource] = [_nothing_snoozed]


def use_snoozes(source: SnoozeSource) -> None:
    """Take the keys each user snoozed from ``source(user, now)``."""
    _snoozed[0] = source


def provider(name: str) -> Callable[[Provider], Provider]:
    """Register a provider of Today items under ``name`` (registering again replaces it)."""

    def decorator(func: Provider) -> Provider:
        _providers[name] = func
        return func

    return decorator


def registered() -> dict[str, Provider]:
    return dict(_providers)


def value_points(amount: Decimal | float | None, unit: float = 100.0) -> float:
    """0–30 points for the money at stake: 10 per factor of ten above ``unit`` (100 → 3, 1,000
    → 10, 10,000 → 20), so a big deal outranks a small one without drowning everything else."""
    if not amount or amount <= 0:
        return 0.0
    return min(30.0, 10.0 * math.log10(1.0 + float(amount) / unit))


def collect(user=None, now: datetime | None = None, *, limit: int = 6, total: int = 30) -> list[TodayItem]:
    """Every provider's items, without the snoozed ones, best first (at most ``total``)."""
    now = now or timezone.now()
    hidden = _snoozed[0](user, now)
    ctx = TodayContext(now=now, user=user, limit=limit, hidden=hidden)
    items: list[TodayItem] = []
    for name, func in _providers.items():
        try:
            items.extend(item for item in func(ctx) if item.key not in hidden)
        except Exception:
            # One broken module must not take the owner's whole morning page down.
            logger.exception("Today provider %s failed", name)
    items.sort(key=lambda item: (-item.score, item.title))
    return items[:total]


def contact_actions(contact) -> tuple[TodayAction, ...]:
    """What to do about a person: log the call you just made, or write to them."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from . import email_links

    log = reverse("sales:log_activity") + f"?contact={contact.uuid}"
    actions = [TodayAction(_("Log call"), log, method="get", primary=True)]
    if contact.email:  # the compose page when e-mail can be sent from the CRM, else mailto:
        actions.append(TodayAction(_("E-mail"), email_links.href(contact), method="get"))
    return tuple(actions)


def about(title: str, who) -> str:
    """``title · who``, unless the title already names them ("Call Ada Lovelace · Ada Lovelace")."""
    name = str(who) if who is not None else ""
    return f"{title} · {name}" if name and name not in title else title
