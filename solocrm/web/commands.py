"""The command palette's commands and the keyboard shortcuts: one list, used by the palette,
the ``?`` help sheet and the tests, so a shortcut cannot be shown that does not exist."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from solocrm.lib.access import can
from solocrm.lib.roles import Action


@dataclass(frozen=True)
class Command:
    keys: str  # the two-key sequence ("g c"), typed outside a text field
    label: str
    url_name: str
    icon: str
    group: str  # "go" or "new"
    action: str = Action.VIEW

    @property
    def url(self) -> str:
        return reverse(self.url_name)


COMMANDS: tuple[Command, ...] = (
    Command("g t", _("Go to Today"), "web:home", "house", "go"),
    Command("g c", _("Go to Contacts"), "contacts:list", "users", "go"),
    Command("g o", _("Go to Companies"), "contacts:company_list", "building-2", "go"),
    Command("g l", _("Go to Leads"), "sales:lead_list", "inbox", "go"),
    Command("g d", _("Go to Deals"), "sales:board", "square-kanban", "go"),
    Command("g q", _("Go to Quotes"), "sales:quote_list", "file-text", "go"),
    Command("g k", _("Go to Tasks"), "sales:task_list", "list-todo", "go"),
    Command("g p", _("Go to Products"), "sales:product_list", "package", "go"),
    Command("g a", _("Go to Analytics"), "analytics:overview", "chart-column", "go"),
    Command("g u", _("Go to Support"), "support:queue", "life-buoy", "go"),
    Command("g s", _("Go to Search"), "web:search", "search", "go"),
    Command("n c", _("New contact"), "contacts:create", "user-plus", "new", Action.EDIT),
    Command("n o", _("New company"), "contacts:company_create", "building", "new", Action.EDIT),
    Command("n d", _("New deal"), "sales:deal_create", "handshake", "new", Action.EDIT),
    Command("n t", _("New ticket"), "support:ticket_create", "life-buoy", "new", Action.EDIT),
    Command("n l", _("Log a call or meeting"), "sales:log_activity", "phone", "new", Action.EDIT),
    Command("n i", _("New import"), "contacts:import_upload", "upload", "new", Action.EDIT),
)

# Keys that act alone (not part of a sequence), listed on the help sheet.
SINGLE_KEYS = (
    ("Ctrl K", _("Open the command palette")),
    ("/", _("Search")),
    ("?", _("Show keyboard shortcuts")),
    ("↑ ↓", _("Move through the results")),
    ("Enter", _("Open the chosen result")),
    ("Esc", _("Close")),
)


def commands_for(user) -> list[Command]:
    """The commands ``user`` may use (a viewer is offered no "new …")."""
    return [command for command in COMMANDS if can(user, command.action)]
