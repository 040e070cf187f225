"""The mail accounts pages of the settings (owner only): list, add, edit with "Test IMAP" and
"Test SMTP" buttons and the folder picker, delete (the stored mail stays), and "Sync now"."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from solocrm.lib.access import get_for, role_required
from solocrm.lib.roles import Action

from . import jobs, services
from .forms_accounts import MailAccountForm
from .models import MailAccount


@role_required(Action.ADMIN)
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = list(services.accounts())
    active = jobs.active_syncs()
    for account in accounts:
        account.active_job = active.get(str(account.uuid))
    return render(request, "mail/account_list.html", {"accounts": accounts})


def _save(request: HttpRequest, form: MailAccountForm, account: MailAccount | None) -> MailAccount | None:
    try:
        if account is None:
            return services.create_account(form.changes(), actor=request.user)
        return services.update_account(account, form.changes(), actor=request.user)
    except ValidationError as error:
        for field, errors in getattr(error, "message_dict", {None: error.messages}).items():
            form.add_error(field if field in form.fields else None, errors)
    except IntegrityError:
        form.add_error("name", _("Another mail account has this name."))
    return None


@role_required(Action.ADMIN)
def account_add(request: HttpRequest) -> HttpResponse:
    form = MailAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (account := _save(request, form, None)):
        messages.success(
            request,
            _("Mail account “%(name)s” added. Test the connections and choose the folders below.")
            % {"name": account.name},
        )
        return redirect("mail:account_edit", account.uuid)
    status = 400 if form.errors else 200
    return render(request, "mail/account_form.html", {"form": form, "account": None}, status=status)


@role_required(Action.ADMIN)
def account_edit(request: HttpRequest, public_id) -> HttpResponse:
    account = get_for(request.user, MailAccount, public_id, Action.ADMIN)
    context = {"account": account, "tests": []}
    if request.method != "POST":
        context["form"] = MailAccountForm(instance=account)
        return render(request, "mail/account_form.html", _with_state(context, account))
    action = request.POST.get("action", "save")
    form = MailAccountForm(request.POST, instance=copy.copy(account))
    if not form.is_valid():
        context["form"] = form
        return render(request, "mail/account_form.html", _with_state(context, account), status=400)
    if action == "save":
        if _save(request, form, account):
            messages.success(request, _("Mail account “%(name)s” saved.") % {"name": account.name})
            return redirect("mail:account_edit", account.uuid)
        context["form"] = form
        return render(request, "mail/account_form.html", _with_state(context, account), status=400)
    # A test uses the values on the page (saved or not; a blank password: the stored one).
    trial = services.apply_changes(copy.copy(account), form.changes())
    data = request.POST.copy()
    if action == "test_smtp":
        context["tests"].append(("smtp", _("SMTP (sending)"), services.test_smtp(trial)))
    else:
        result = services.test_imap(trial)
        context["tests"].append(("imap", _("IMAP (receiving)"), result))
        if result.ok and not data.getlist("folders"):
            data.setlist("folders", result.folders)  # Inbox and Sent, ticked for the owner
    context["form"] = MailAccountForm(data, instance=copy.copy(account))
    context["form"].is_valid()
    return render(request, "mail/account_form.html", _with_state(context, account))


def _with_state(context: dict, account: MailAccount) -> dict:
    context["folders_listed"] = services.folders_listed(account)
    context["latest_job"] = jobs.latest_sync(account)
    return context


@role_required(Action.ADMIN)
def account_delete(request: HttpRequest, public_id) -> HttpResponse:
    account = get_for(request.user, MailAccount, public_id, Action.ADMIN)
    if request.method == "POST":
        services.delete_account(account, actor=request.user)
        messages.success(
            request,
            _("Mail account “%(name)s” deleted. The e-mails already stored stay on the timelines.")
            % {"name": account.name},
        )
        return redirect("mail:account_list")
    stored = account.messages.count()
    return render(request, "mail/account_confirm_delete.html", {"account": account, "stored": stored})


@require_POST
@role_required(Action.ADMIN)
def account_sync(request: HttpRequest, public_id) -> HttpResponse:
    account = get_for(request.user, MailAccount, public_id, Action.ADMIN)
    if jobs.queue_sync(account, user=request.user) is None:
        messages.info(
            request, _("A sync of “%(name)s” is already waiting to start.") % {"name": account.name}
        )
    else:
        messages.success(request, _("Sync of “%(name)s” queued.") % {"name": account.name})
    return redirect("mail:account_list")
