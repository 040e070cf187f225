"""``{% palette_commands as commands %}``: the palette's commands for the signed-in user."""

from django import template

from solocrm.web.commands import SINGLE_KEYS, commands_for

register = template.Library()


@register.simple_tag(takes_context=True)
def palette_commands(context) -> list:
    request = context.get("request")
    return commands_for(getattr(request, "user", None))


@register.simple_tag
def single_keys() -> tuple:
    return SINGLE_KEYS
