"""``{% log_activity_form contact=… deal=… task=… %}``: the "log a call or meeting" form for any
page (a contact's, a deal's), without the page's view having to build the form."""

from __future__ import annotations

from django import template

from solocrm.sales.tasks.forms import LogActivityForm

register = template.Library()


@register.inclusion_tag("sales/_log_activity.html", takes_context=True)
def log_activity_form(context, contact=None, deal=None, task=None, next: str = "") -> dict:
    contact = contact or getattr(task, "contact", None) or getattr(deal, "contact", None)
    request = context.get("request")
    return {
        "log_form": LogActivityForm(contact=contact, deal=deal, auto_id="log_%s"),
        "log_contact": contact,
        "log_deal": deal,
        "log_task": task,
        "next": next or (request.get_full_path() if request else ""),
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "can_edit": context.get("can_edit"),
    }
