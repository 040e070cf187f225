"""First-run set-up, log-in and the API token page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from solocrm.lib.access import role_required
from solocrm.lib.ratelimit import hit
from solocrm.lib.roles import Action
from solocrm.web.helpers import load_demo_data

from .forms import PreferencesForm, SetupForm, TokenForm
from .models import ApiToken, Preferences
from .services import create_token
from .services import revoke_token as revoke_token_service
from .setup import setup_needed


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
    return render(request, "users/setup.html", {"form": form})


@role_required(Action.VIEW)
def tokens(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens; a new token's secret is shown once, right after creation."""
    form = TokenForm(request.POST or None)
    raw_token = None
    if request.method == "POST" and form.is_valid():
        _token, raw_token = create_token(request.user, form.cleaned_data["name"], actor=request.user)
        form = TokenForm()
    context = {
        "form": form,
        "raw_token": raw_token,
        "tokens": ApiToken.objects.filter(user=request.user),
    }
    response = render(request, "users/tokens.html", context)
    response["Cache-Control"] = "no-store"  # the raw token must not linger in a cache
    return response


@require_POST
@role_required(Action.VIEW)
def revoke_token(request: HttpRequest, public_id) -> HttpResponse:
    token = get_object_or_404(ApiToken, uuid=public_id, user=request.user)
    revoke_token_service(token, actor=request.user)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("users:tokens")


@role_required(Action.VIEW)
def preferences(request: HttpRequest) -> HttpResponse:
    """Calendar and reminders: the digest hour, the private calendar feed URL (to copy) and its
    reset. Every role has its own."""
    # Imported here: the users app sits below sales, which owns tasks, digests and the feed.
    from solocrm.sales.tasks import calendar_feed, reminders
    from solocrm.web import scheduler

    prefs = Preferences.of(request.user)
    form = PreferencesForm(request.POST or None, initial={"digest_hour": prefs.digest_hour})
    if request.method == "POST" and form.is_valid():
        reminders.set_digest_hour(request.user, form.cleaned_data["digest_hour"], actor=request.user)
        messages.success(request, _("Preferences saved."))
        return redirect("users:preferences")
    context = {
        "form": form,
        "prefs": prefs,
        "feed_url": calendar_feed.feed_url(request.user, request),
        "worker_seen": scheduler.last_tick(),
        "worker_late": scheduler.worker_is_late(),
        "has_email": bool(request.user.email),
    }
    response = render(request, "users/preferences.html", context)
    response["Cache-Control"] = "no-store"  # the feed URL is a secret
    return response


@require_POST
@role_required(Action.VIEW)
def reset_calendar(request: HttpRequest) -> HttpResponse:
    """Revoke the calendar feed URL given out so far; the page then shows the new one."""
    from solocrm.sales.tasks import calendar_feed

    calendar_feed.reset_feed(request.user, actor=request.user)
    messages.success(request, _("The old calendar link stopped working. Subscribe again with the new one."))
    return redirect("users:preferences")


LOGIN_ATTEMPTS_PER_HOUR = 20  # per visitor (IPv4 address or IPv6 /64): plenty for typos


class LoginView(auth_views.LoginView):
    """Django's log-in page, with a limit on attempts per visitor against password guessing."""

    template_name = "users/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not hit("login", request, limit=LOGIN_ATTEMPTS_PER_HOUR, window=3600):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many attempts to log in. Please wait an hour and try again."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)
