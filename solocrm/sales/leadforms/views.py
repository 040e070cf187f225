"""The leads page (with speed-to-lead and the convert action) and the lead forms' management
pages. Views only route: the role is checked through solocrm.lib.access, the work happens in
solocrm.sales.leadforms (through the forms)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from pydantic import ValidationError

from solocrm.contacts.choices import LifecycleStage
from solocrm.contacts.models import Contact
from solocrm.contacts.services import Conflict
from solocrm.lib.access import get_for, role_required
from solocrm.lib.http import redirect_next
from solocrm.lib.roles import Action
from solocrm.sales.choices import LeadFormField
from solocrm.sales.leadforms import services as leadforms
from solocrm.sales.leadforms.forms import LeadConvertForm, LeadFilterForm, LeadFormForm
from solocrm.sales.leadforms.models import LeadForm

LEADS_PER_PAGE = 50
SUBMISSIONS_PER_PAGE = 25
SPEED_WINDOWS = (30, 90)  # days


# --- leads --------------------------------------------------------------------------------------


def _lead_filter(request: HttpRequest) -> tuple[leadforms.LeadFilter, str]:
    try:
        return leadforms.LeadFilter.model_validate(request.GET.dict()), ""
    except ValidationError as error:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in error.errors() if e.get("loc")}))
        return leadforms.LeadFilter(), _("Some filters were not understood and are ignored: %(fields)s.") % {
            "fields": fields
        }


def duration_text(value: timedelta | None) -> str:
    """'2 hours, 5 minutes' (Django's own translated wording), or '' for no value."""
    if value is None:
        return ""
    now = timezone.now()
    return timesince(now - value, now)


@role_required(Action.VIEW)
def lead_list(request: HttpRequest) -> HttpResponse:
    lead_filter, filter_error = _lead_filter(request)
    if filter_error:
        messages.warning(request, filter_error)
    speed = leadforms.speed_to_lead_summary(SPEED_WINDOWS)
    context = {
        "page": Paginator(lead_filter.apply(leadforms.leads()), LEADS_PER_PAGE).get_page(
            request.GET.get("page")
        ),
        "filter_form": LeadFilterForm(initial=request.GET.dict(), sources=leadforms.lead_sources()),
        "filtered": any(request.GET.get(name) for name in ("q", "source", "waiting")),
        "speed": [(s, duration_text(s.median), duration_text(s.average)) for s in speed],
    }
    return render(request, "sales/leads_list.html", context)


def lead_convert(request: HttpRequest, public_id) -> HttpResponse:
    """Convert a lead: a confirmation form; the POST converts (edit role)."""
    contact = get_for(request.user, Contact.objects.select_related("company"), public_id, Action.EDIT)
    form = LeadConvertForm(
        request.POST or None, initial={"deal_title": _("Deal with %(name)s") % {"name": contact}}
    )
    if request.method == "POST" and form.is_valid():
        try:
            conversion = form.save(contact, actor=request.user)
        except (Conflict, ValueError) as error:
            form.add_error(None, str(error))
        else:
            if conversion.contact.lifecycle_stage == LifecycleStage.CUSTOMER:
                text = _("%(name)s is now a customer.") % {"name": contact}
            else:
                text = _("%(name)s is now a prospect.") % {"name": contact}
            if conversion.deal is not None:
                text += " " + _("Deal “%(title)s” opened.") % {"title": conversion.deal.title}
            messages.success(request, text)
            return redirect_next(request, "sales:lead_list")
    context = {
        "contact": contact,
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(request, "sales/leads_convert.html", context)


# --- lead forms ---------------------------------------------------------------------------------


@role_required(Action.VIEW)
def leadform_list(request: HttpRequest) -> HttpResponse:
    return render(request, "sales/leadform_list.html", {"lead_forms": leadforms.lead_forms()})


@role_required(Action.VIEW)
def leadform_detail(request: HttpRequest, public_id) -> HttpResponse:
    lead_form = get_for(request.user, LeadForm, public_id)
    submissions = leadforms.submissions_of(lead_form)
    context = {
        "lead_form": lead_form,
        "hosted_url": leadforms.hosted_url(lead_form, request),
        "embed_snippet": leadforms.embed_snippet(lead_form, request),
        "field_labels": [(name, LeadFormField(name).label) for name in lead_form.fields],
        "page": Paginator(submissions, SUBMISSIONS_PER_PAGE).get_page(request.GET.get("page")),
    }
    return render(request, "sales/leadform_detail.html", context)


@role_required(Action.EDIT)
def leadform_create(request: HttpRequest) -> HttpResponse:
    return _leadform_form(request, None)


def leadform_edit(request: HttpRequest, public_id) -> HttpResponse:
    return _leadform_form(request, get_for(request.user, LeadForm, public_id, Action.EDIT))


def _leadform_form(request: HttpRequest, lead_form: LeadForm | None) -> HttpResponse:
    form = LeadFormForm(request.POST or None, instance=lead_form)
    if request.method == "POST" and form.is_valid():
        saved = form.save(actor=request.user)
        messages.success(request, _("Form “%(name)s” saved.") % {"name": saved.name})
        return redirect("sales:leadform_detail", saved.uuid)
    return render(request, "sales/leadform_form.html", {"form": form, "lead_form": lead_form})


def leadform_delete(request: HttpRequest, public_id) -> HttpResponse:
    """A confirmation page; the POST deletes the form and its submissions (owners only)."""
    lead_form = get_for(request.user, LeadForm, public_id, Action.DELETE)
    if request.method == "POST":
        leadforms.delete_lead_form(lead_form, actor=request.user)
        messages.success(request, _("Form “%(name)s” deleted.") % {"name": lead_form.name})
        return redirect("sales:leadform_list")
    return render(request, "sales/leadform_confirm_delete.html", {"lead_form": lead_form})
