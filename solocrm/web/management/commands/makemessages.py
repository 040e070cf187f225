"""``manage.py makemessages`` that also finds ``_lazy("…")``: the name some modules give
gettext_lazy when ``_`` is already gettext (solocrm/contacts/importing/mapping.py,
solocrm/analytics/templatetags/analytics_tags.py). Without it their strings never reach the
catalog and stay English in every language."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_lazy"]
