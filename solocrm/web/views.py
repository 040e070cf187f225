"""The Today page (the home page) and the demo-data loader it offers on an empty database."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from solocrm.contacts.models import Contact
from solocrm.lib import today
from solocrm.lib.access import role_required
from solocrm.lib.http import redirect_next
from solocrm.lib.roles import Action
from solocrm.sales.tasks import reminders
from solocrm.users.forms import SetupForm
from solocrm.users.setup import setup_needed

from . import dashboard
from .helpers import load_demo_data
from .models import TodaySnooze

# "deal:<uuid>", "reorder:<uuid>": what providers use as keys (solocrm.lib.today).
ITEM_KEY = re.compile(r"^[a-z_]{1,20}:[0-9a-f-]{36}$")


@role_required(Action.VIEW)
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "items": today.collect(request.user),
        "kpis": dashboard.kpis(),
        "has_contacts": Contact.objects.exists(),
    }
    return render(request, "web/today.html", context)


@require_POST
@role_required(Action.VIEW)
def snooze_item(request: HttpRequest) -> HttpResponse:
    """Hide one Today item from this user's list until tomorrow morning or for a week."""
    key = request.POST.get("key", "")
    choice = request.POST.get("until", "tomorrow")
    if not ITEM_KEY.match(key) or choice not in ("tomorrow", "week"):
        return HttpResponseBadRequest(_("This item cannot be snoozed."))
    TodaySnooze.hide(request.user, key, reminders.snooze_until(choice, timezone.now()))
    messages.success(request, _("Snoozed: it comes back on the list later."))
    return redirect_next(request, "web:home")


@require_POST
@role_required(Action.ADMIN)
def load_demo(request: HttpRequest) -> HttpResponse:
    """Fill an empty database with demo customers (offered on the empty home page)."""
    if Contact.objects.exists():
        messages.warning(request, _("Demo data can only be loaded into an empty database."))
    else:
        load_demo_data(request)
    return redirect("web:home")


@login_not_required
def setup(request: HttpRequest) -> HttpResponse:
    """Create the owner account, once, with the token printed by `solocrm serve`."""
    if not setup_needed():
        raise Http404
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to solocrm. Your owner account is ready."))
        if form.cleaned_data["load_demo"]:
            load_demo_data(request)
        return redirect("web:home")
    return render(request, "web/setup.html", {"form": form})
