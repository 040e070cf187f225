"""Merge fields in e-mail written from the CRM: ``Hello {{ first_name|default:"there" }}``.

The text is a Django template, but compiled by an engine that knows no tag at all and one
filter, ``default``: ``{% … %}`` (loops, includes, ``{% load %}``, ``{% debug %}``) and every
other filter are a syntax error, so a user's template cannot do anything but put values in.
The values are plain strings (never model instances, whose methods a template could call).
The result is Markdown or a subject line, not HTML: it is rendered without auto-escaping and
made safe afterwards (Markdown with raw HTML off, then nh3; subjects refuse line breaks).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, Library, TemplateSyntaxError
from django.template.base import Template, VariableNode
from django.template.defaultfilters import default as default_filter
from django.utils.translation import gettext as _

from solocrm.contacts.models import Contact
from solocrm.lib.business import business_settings
from solocrm.users.models import AuditLog

from .models import MailTemplate

_library = Library()
_library.filter("default", default_filter)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_VALUE = 2000  # characters of one merge value


def _engine() -> Engine:
    engine = Engine(debug=False, string_if_invalid="", autoescape=False)
    engine.template_builtins = [_library]  # no tags, one filter (Engine() adds Django's own)
    engine.template_libraries = {}
    return engine


_ENGINE = _engine()

# The fields offered in the editor's help, with what they hold.
FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "email",
    "company",
    "title",
    "my_name",
    "my_email",
    "business_name",
)


def contact_fields(contact: Contact | None, user=None) -> dict[str, str]:
    """The merge values of a contact (and of the writer and the business)."""
    config = business_settings()
    values = {
        "my_name": (user.get_full_name() or user.get_username()) if user is not None else "",
        "my_email": getattr(user, "email", "") if user is not None else "",
        "business_name": config.business_name,
    }
    if contact is not None:
        values.update(
            first_name=contact.first_name,
            last_name=contact.last_name,
            full_name=contact.full_name,
            email=contact.email,
            company=contact.company.name if contact.company_id else "",
            title=contact.title,
        )
    return values


def _plain(value: Any, depth: int = 0) -> Any:
    """Merge extras as strings (or dicts of them, for ``{{ ticket.number }}``); nothing callable."""
    if isinstance(value, dict) and depth < 3:
        return {str(k): _plain(v, depth + 1) for k, v in value.items() if not str(k).startswith("_")}
    if value is None:
        return ""
    return _CONTROL.sub(" ", str(value))[:MAX_VALUE]


def compile_template(text: str) -> Template:
    """The compiled template; ValidationError naming the problem when it is not allowed."""
    try:
        template = _ENGINE.from_string(text)
    except TemplateSyntaxError as error:
        message = _(
            "The merge fields cannot be read: %(error)s. "
            'Only {{ field }} and {{ field|default:"text" }} are allowed.'
        )
        raise ValidationError(message % {"error": error}) from None
    for node in template.nodelist:
        if isinstance(node, VariableNode):
            for func, _args in node.filter_expression.filters:
                if func is not default_filter:  # belt and braces: the engine knows no other
                    raise ValidationError(_("Only the default filter is allowed in merge fields."))
    return template


def render(text: str, values: dict[str, Any]) -> str:
    """``text`` with its merge fields filled from ``values``; ValidationError when the
    template uses anything but variables and the ``default`` filter."""
    if "{" not in text:
        return "".join([text])
    template = compile_template(text)
    try:
        rendered = template.render(Context(_plain(values), autoescape=False))
    except Exception as error:  # a value that breaks the default filter's argument, etc.
        raise ValidationError(_("The merge fields cannot be filled: %(error)s") % {"error": error}) from None
    # Django marks a template's output safe for HTML: this is Markdown or a subject, not HTML,
    # so it must be escaped wherever it is shown — hand back a plain str.
    return "".join([rendered])


# --- stored templates --------------------------------------------------------------------------


def templates():
    return MailTemplate.objects.order_by("name")


def save_template(template: MailTemplate, *, actor=None) -> MailTemplate:
    """Save a MailTemplate (merge fields checked) and record it in the audit log."""
    compile_template(template.subject)
    compile_template(template.body)
    created = template.pk is None
    template.full_clean()
    template.save()
    AuditLog.record(
        actor, "mail.template.create" if created else "mail.template.update", template, summary=template.name
    )
    return template


def delete_template(template: MailTemplate, *, actor=None) -> None:
    AuditLog.record(actor, "mail.template.delete", template, summary=template.name)
    template.delete()
