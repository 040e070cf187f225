"""The home page (a dashboard until the ranked Today page arrives)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from solocrm.contacts.models import Contact
from solocrm.users.access import role_required
from solocrm.users.choices import Action

from . import dashboard
from .helpers import load_demo_data


@role_required(Action.VIEW)
def home(request: HttpRequest) -> HttpResponse:
    stages = dashboard.contacts_by_stage()
    context = {
        "agenda": dashboard.agenda(limit=20, upcoming=False),
        "interactions": dashboard.recent_interactions(),
        "stages": stages,
        "contact_total": sum(row["count"] for row in stages),
        "sales": dashboard.sales_last_days(30),
    }
    return render(request, "web/home.html", context)


@require_POST
@role_required(Action.ADMIN)
def load_demo(request: HttpRequest) -> HttpResponse:
    """Fill an empty database with demo customers (offered on the empty home page)."""
    if Contact.objects.exists():
        messages.warning(request, _("Demo data can only be loaded into an empty database."))
    else:
        load_demo_data(request)
    return redirect("web:home")
