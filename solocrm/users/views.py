"""Log-in and the API token page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from solocrm.lib.access import role_required
from solocrm.lib.ratelimit import client_ip, hit
from solocrm.lib.roles import Action

from .forms import TokenForm
from .models import ApiToken, AuditLog
from .services import create_token
from .services import revoke_token as revoke_token_service


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

    def form_valid(self, form):
        response = super().form_valid(form)
        AuditLog.record(form.get_user(), "login", summary=_client_summary(self.request))
        return response

    def form_invalid(self, form):
        # The name tried (cut short) tells a guessing attack from a typo; the password never.
        tried = str(form.data.get("username", ""))[:60]
        AuditLog.record(None, "login_failed", summary=f"{tried!r} {_client_summary(self.request)}")
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            AuditLog.record(request.user, "logout", summary=_client_summary(request))
        return super().post(request, *args, **kwargs)


def _client_summary(request: HttpRequest) -> str:
    """Where a log-in came from: the address (as the rate limit sees it) and the browser."""
    agent = request.headers.get("User-Agent", "")[:120]
    return f"from {client_ip(request)} {agent}".strip()
