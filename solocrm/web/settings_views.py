"""The settings page (/settings/, owners only): the business, regional settings, the mail
server with a test button, and a link to the pipeline settings. The values are stored and read
by solocrm.users.business; an environment variable wins and the page shows it read-only."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from solocrm.lib.access import role_required
from solocrm.lib.business import business_settings, mail_goes_to_outbox, outbox_message
from solocrm.lib.roles import Action
from solocrm.users.forms import BusinessSettingsForm, TestEmailForm
from solocrm.users.mail import send_test_email


def _page(request: HttpRequest, form: BusinessSettingsForm, test_form: TestEmailForm, status: int = 200):
    config = business_settings()
    context = {
        "form": form,
        "test_form": test_form,
        "settings_now": config,
        "mail_outbox": mail_goes_to_outbox(),
        "sections": [
            ("business", _("Business"), form.section("business")),
            ("regional", _("Regional"), form.section("regional")),
        ],
        "mail_fields": form.section("mail"),
    }
    return render(request, "web/settings.html", context, status=status)


@role_required(Action.ADMIN)
def settings_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = BusinessSettingsForm(request.POST, request.FILES)
        if form.is_valid():
            form.save(request.user)
            messages.success(request, _("Settings saved."))
            return redirect("web:settings")
        return _page(request, form, TestEmailForm(initial={"to": request.user.email}), status=400)
    return _page(request, BusinessSettingsForm(), TestEmailForm(initial={"to": request.user.email}))


@require_POST
@role_required(Action.ADMIN)
def test_email(request: HttpRequest) -> HttpResponse:
    form = TestEmailForm(request.POST)
    if not form.is_valid():
        return _page(request, BusinessSettingsForm(), form, status=400)
    to = form.cleaned_data["to"]
    try:
        send_test_email(to)
    except (OSError, UnicodeError) as error:  # smtplib's errors are OSError
        messages.error(
            request,
            _("The test e-mail could not be sent: %(error)s")
            % {"error": str(error)[:300] or type(error).__name__},
        )
    else:
        if mail_goes_to_outbox():
            messages.warning(request, outbox_message(_("The test e-mail to %(to)s"), to=to))
        else:
            messages.success(request, _("Test e-mail sent to %(to)s.") % {"to": to})
    return redirect("web:settings")


@role_required(Action.VIEW)
def logo(request: HttpRequest) -> HttpResponse:
    """The business's logo, for signed-in users (the quote pages show it)."""
    path = business_settings().logo
    if path is None:
        raise Http404
    response = FileResponse(path.open("rb"), content_type=mimetypes.guess_type(path.name)[0])
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
