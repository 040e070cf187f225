from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The three roles, stored as Django groups of the same name."""

    OWNER = "owner", _("Owner")
    ASSISTANT = "assistant", _("Assistant")
    VIEWER = "viewer", _("Viewer")


class Action(models.TextChoices):
    """What a request wants to do; each role may do a set of these."""

    VIEW = "view", _("view")
    EDIT = "edit", _("edit")
    DELETE = "delete", _("delete")
    ADMIN = "admin", _("administer")


ALLOWED_ACTIONS: dict[str, set[str]] = {
    Role.OWNER: {Action.VIEW, Action.EDIT, Action.DELETE, Action.ADMIN},
    Role.ASSISTANT: {Action.VIEW, Action.EDIT},
    Role.VIEWER: {Action.VIEW},
}
