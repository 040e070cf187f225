"""Pages of contacts and companies, and the import screens.

Views only route: they check the role through solocrm.lib.access, hand input to a form and
render; writes happen in solocrm.contacts.services (via the forms)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect
from pydantic import ValidationError

from solocrm.lib import contact_page, email_links
from solocrm.lib.access import can, get_for, role_required
from solocrm.lib.http import vary_on_htmx, wants_partial
from solocrm.lib.roles import Action

from . import services
from .choices import ImportStatus, InteractionKind
from .filters import CompanyFilter, ContactFilter
from .forms import (
    CompanyForm,
    ContactFilterForm,
    ContactForm,
    ImportMappingForm,
    ImportUploadForm,
    NoteForm,
    custom_field_name,
)
from .importing import ImportFileError, preview
from .importing.jobs import start_job
from .models import Company, Contact, ImportJob

CONTACTS_PER_PAGE = 50
TIMELINE_PER_PAGE = 20


# --- contacts ------------------------------------------------------------------------------------


def _filter_from(request: HttpRequest, filter_class):
    """The shared filter built from the query string; bad values give an empty filter and a reason."""
    try:
        return filter_class.model_validate(request.GET.dict()), ""
    except ValidationError as error:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in error.errors() if e.get("loc")}))
        return filter_class(), _("Some filters were not understood and are ignored: %(fields)s.") % {
            "fields": fields
        }


@role_required(Action.VIEW)
def contact_list(request: HttpRequest) -> HttpResponse:
    contact_filter, filter_error = _filter_from(request, ContactFilter)
    contacts = contact_filter.apply(Contact.objects.select_related("company").prefetch_related("tags"))
    context = {
        "page": Paginator(contacts, CONTACTS_PER_PAGE).get_page(request.GET.get("page")),
        "filter_form": ContactFilterForm(initial=request.GET.dict()),
        "filter_error": filter_error,
    }
    if filter_error and not wants_partial(request):
        messages.warning(request, filter_error)
    template = "contacts/_contact_results.html" if wants_partial(request) else "contacts/contact_list.html"
    return vary_on_htmx(render(request, template, context))


# The composer's tabs: (name, label, icon). Notes and logged e-mails post to contacts:add_note;
# calls and meetings to sales:log_activity (outcome, deal, next task); tasks to
# sales:contact_add_task. Every answer for htmx is contacts/_composer_response.html.
COMPOSER_TABS = [
    ("note", gettext_lazy("Note"), "sticky-note"),
    ("call", gettext_lazy("Call"), "phone"),
    ("meeting", gettext_lazy("Meeting"), "users"),
    ("email", gettext_lazy("E-mail"), "mail"),
    ("task", gettext_lazy("Task"), "square-check-big"),
]
COMPOSER_NAMES = [name for name, _label, _icon in COMPOSER_TABS]

# The timeline's filter: (name, label, kinds); "" shows everything.
OTHER_KINDS = [
    InteractionKind.CHAT,
    InteractionKind.SOCIAL,
    InteractionKind.FORM,
    InteractionKind.SURVEY,
    InteractionKind.SYSTEM,
]
TIMELINE_FILTERS = [
    ("", gettext_lazy("All"), None),
    ("note", gettext_lazy("Notes"), [InteractionKind.NOTE]),
    ("call", gettext_lazy("Calls"), [InteractionKind.CALL]),
    ("meeting", gettext_lazy("Meetings"), [InteractionKind.MEETING]),
    ("email", gettext_lazy("E-mails"), [InteractionKind.EMAIL_IN, InteractionKind.EMAIL_OUT]),
    ("other", gettext_lazy("Other"), OTHER_KINDS),
]
TIMELINE_KINDS = {name: kinds for name, _label, kinds in TIMELINE_FILTERS}


def composer_tab(value: str | None) -> str:
    return value if value in COMPOSER_NAMES else "note"


def timeline_filter(value: str | None) -> str:
    return value if value in TIMELINE_KINDS else ""


def contact_page_context(
    request: HttpRequest, contact: Contact, *, tab: str | None = None, kind: str | None = None, **forms
) -> dict:
    """Everything the contact page shows; each list is one query, whatever its length. The
    sections of other apps (orders, deals, tasks…) and the header's key figures come from
    solocrm.lib.contact_page. ``tab`` and ``kind`` (the composer's tab, the timeline's filter)
    default to the query string's ``compose`` and ``kind``."""
    kind = timeline_filter(request.GET.get("kind") if kind is None else kind)
    tab = tab or composer_tab(request.GET.get("compose"))
    note_form = forms.get("note_form") or NoteForm(initial={"kind": _note_kind(tab)})
    return {
        "contact": contact,
        "figures": contact_page.figures_for(request, contact),
        "timeline": _timeline_page(contact, request.GET.get("timeline_page"), kind),
        "timeline_filters": _timeline_filters(contact, kind),
        "timeline_kind": kind,
        "composer_tabs": COMPOSER_TABS,
        "tab": tab,
        "note_form": note_form,
        "details": detail_groups(contact),
        **contact_page.sections_context(request, contact, forms),
    }


def _note_kind(tab: str) -> str:
    return InteractionKind.EMAIL_OUT if tab == "email" else InteractionKind.NOTE


def _timeline_page(contact: Contact, number, kind: str = ""):
    entries = contact.interactions.select_related("author").order_by("-occurred_at", "-id")
    if TIMELINE_KINDS.get(kind):
        entries = entries.filter(kind__in=TIMELINE_KINDS[kind])
    return Paginator(entries, TIMELINE_PER_PAGE).get_page(number)


def _timeline_filters(contact: Contact, current: str) -> list[dict]:
    """The filter's choices with how many entries each has (one query)."""
    counts = dict(contact.interactions.order_by().values_list("kind").annotate(n=Count("id")))
    filters = []
    for name, label, kinds in TIMELINE_FILTERS:
        count = sum(counts.values()) if kinds is None else sum(counts.get(k, 0) for k in kinds)
        filters.append({"name": name, "label": label, "count": count, "current": name == current})
    return filters


def get_contact(request: HttpRequest, public_id, action: str = Action.VIEW) -> Contact:
    queryset = Contact.objects.select_related("company", "owner").prefetch_related("tags")
    return get_for(request.user, queryset, public_id, action)


@role_required(Action.VIEW)
def contact_detail(request: HttpRequest, public_id) -> HttpResponse:
    contact = get_contact(request, public_id)
    return vary_on_htmx(
        render(request, "contacts/contact_detail.html", contact_page_context(request, contact))
    )


@role_required(Action.VIEW)
def contact_timeline(request: HttpRequest, public_id) -> HttpResponse:
    """The timeline for htmx: one more page ("load more"), or with ``whole`` the section for
    another filter (the page's URL then carries ``?kind=`` so a reload keeps it)."""
    contact = get_contact(request, public_id)
    kind = timeline_filter(request.GET.get("kind"))
    context = {
        "contact": contact,
        "timeline": _timeline_page(contact, request.GET.get("page"), kind),
        "timeline_kind": kind,
    }
    if request.GET.get("whole"):
        context["timeline_filters"] = _timeline_filters(contact, kind)
        return vary_on_htmx(render(request, "contacts/_timeline.html", context))
    return render(request, "contacts/_timeline_items.html", context)


@role_required(Action.VIEW)
def contact_composer(request: HttpRequest, public_id) -> HttpResponse:
    """One tab of the composer, for htmx (without JavaScript the tabs are links: ?compose=…)."""
    contact = get_contact(request, public_id, Action.EDIT)
    tab = composer_tab(request.GET.get("tab"))
    context = contact_page_context(request, contact, tab=tab)
    return render(request, "contacts/_composer.html", context)


@require_POST
def contact_add_note(request: HttpRequest, public_id) -> HttpResponse:
    """The composer's note and e-mail tabs (an e-mail written elsewhere, logged here)."""
    contact = get_contact(request, public_id, Action.EDIT)
    form = NoteForm(request.POST)
    tab = "email" if request.POST.get("kind", "").startswith("email") else "note"
    if form.is_valid():
        form.save(contact, actor=request.user)
        if not wants_partial(request):
            messages.success(request, _("Added to the timeline."))
            url = reverse("contacts:detail", args=[contact.uuid])
            return redirect(url + "?compose=email#composer" if tab == "email" else url)
        return composer_response(request, contact, tab, saved=True)
    if wants_partial(request):
        return composer_response(request, contact, tab, note_form=form)
    context = contact_page_context(request, contact, note_form=form, tab=tab)
    return render(request, "contacts/contact_detail.html", context, status=422)


def composer_response(
    request: HttpRequest, contact: Contact, tab: str, saved: bool = False, **forms
) -> HttpResponse:
    """The htmx answer of every composer tab: the composer (fresh after a save, else with the
    errors) and, after a save, the timeline, the tasks and the header figures out of band.
    Answered with 200 either way: htmx swaps only successful answers."""
    # The new entry must show: the timeline comes back unfiltered.
    context = contact_page_context(request, contact, tab=tab, kind="", **forms)
    context["saved"] = saved
    return render(request, "contacts/_composer_response.html", context)


# --- details edited in place ---------------------------------------------------------------------

# The groups of the details card: (key, label, form fields). Custom fields follow, one group each.
DETAIL_GROUPS = [
    ("name", gettext_lazy("Name"), ["first_name", "last_name"]),
    ("email", gettext_lazy("E-mail"), ["email"]),
    ("phone", gettext_lazy("Phone"), ["phone"]),
    ("company", gettext_lazy("Company"), ["company_name"]),
    ("title", gettext_lazy("Job title"), ["title"]),
    ("stage", gettext_lazy("Lifecycle stage"), ["lifecycle_stage"]),
    ("source", gettext_lazy("Source"), ["channel", "source"]),
    ("address", gettext_lazy("Address"), ["street", "postal_code", "city", "region", "country"]),
    ("birthday", gettext_lazy("Birthday"), ["birthday"]),
    ("tags", gettext_lazy("Tags"), ["tags_text"]),
    ("consent", gettext_lazy("Marketing e-mail"), ["email_consent"]),
    ("notes", gettext_lazy("Notes"), ["notes"]),
]
NEW_CUSTOM = "custom_new"


def detail_groups(contact: Contact) -> list[dict]:
    """The details card's rows: the standard groups, then one per custom field, by name."""
    groups = [{"key": key, "label": label, "fields": fields} for key, label, fields in DETAIL_GROUPS]
    for key in sorted(contact.custom_fields or {}, key=str.casefold):
        name = custom_field_name(key)
        groups.append(
            {"key": name, "label": key, "fields": [name], "custom": True, "value": contact.custom_fields[key]}
        )
    return groups


def _group(contact: Contact, key: str) -> dict:
    if key == NEW_CUSTOM:
        return {"key": key, "label": _("New custom field"), "fields": ["new_custom_key", "new_custom_value"]}
    group = next((g for g in detail_groups(contact) if g["key"] == key), None)
    if group is None:
        raise Http404
    return group


def _current_data(form: ContactForm) -> dict:
    """What the contact holds now, as the form would post it: an inline edit posts one group
    and the rest is filled in from here, so it is validated and saved like the edit page."""
    data = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return data


def contact_edit_field(request: HttpRequest, public_id, key: str) -> HttpResponse:
    """One group of details edited in place (htmx): GET gives its form (``?cancel=1`` its value
    again), POST saves it. Without JavaScript the details link to the edit page instead; a
    plain POST here still works (back to the page, or the edit page with the errors)."""
    contact = get_contact(request, public_id, Action.EDIT)
    group = _group(contact, key)
    if request.method == "POST":
        data = _current_data(ContactForm(instance=contact))
        for name in group["fields"]:
            data.pop(name, None)
        posted = {name: request.POST.getlist(name) for name in group["fields"] if name in request.POST}
        merged = QueryDict(mutable=True)
        merged.update(data)
        for name, values in posted.items():
            merged.setlist(name, values)
        merged["loaded_version"] = request.POST.get("loaded_version", "")
        form = ContactForm(merged, instance=contact)
        if form.is_valid() and (saved := form.save(actor=request.user)):
            if not wants_partial(request):
                messages.success(request, _("Contact “%(name)s” saved.") % {"name": saved})
                return redirect("contacts:detail", saved.uuid)
            saved = get_contact(request, saved.uuid)
            context = {"contact": saved, "group": _group_after_save(saved, group, form), "saved": True}
            context["add_again"] = group["key"] == NEW_CUSTOM
            context["figures"] = contact_page.figures_for(request, saved)
            context["compose_href"] = email_links.href(saved)  # the header's "E-mail" button
            return render(request, "contacts/_detail_saved.html", context)
        if not wants_partial(request):
            return render(
                request, "contacts/contact_form.html", {"form": form, "contact": contact}, status=422
            )
        return render(request, "contacts/_detail_form.html", _field_form_context(contact, group, form))
    if request.GET.get("cancel"):
        context = {"contact": contact, "group": group, "compose_href": email_links.href(contact)}
        return render(request, "contacts/_detail_row.html", context)
    form = ContactForm(instance=contact)
    return render(request, "contacts/_detail_form.html", _field_form_context(contact, group, form))


def _group_after_save(contact: Contact, group: dict, form: ContactForm) -> dict | None:
    """The group's row after a save: a removed custom field has none; a new one its own."""
    key = group["key"]
    if key == NEW_CUSTOM:
        key = custom_field_name(form.cleaned_data["new_custom_key"])
    return next((g for g in detail_groups(contact) if g["key"] == key), None)


def _field_form_context(contact: Contact, group: dict, form: ContactForm) -> dict:
    fields = [form[name] for name in group["fields"]]
    hidden = {name for name in group["fields"]}
    # Errors of fields not in this group (another group already invalid) count as the form's.
    other_errors = [e for name, errors in form.errors.items() if name not in hidden for e in errors]
    return {"contact": contact, "group": group, "form": form, "fields": fields, "other_errors": other_errors}


@role_required(Action.EDIT)
def contact_create(request: HttpRequest) -> HttpResponse:
    return _contact_form(request, None)


def contact_edit(request: HttpRequest, public_id) -> HttpResponse:
    return _contact_form(request, get_contact(request, public_id, Action.EDIT))


def _contact_form(request: HttpRequest, contact: Contact | None) -> HttpResponse:
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid() and (saved := form.save(actor=request.user)):
        messages.success(request, _("Contact “%(name)s” saved.") % {"name": saved})
        return redirect("contacts:detail", saved.uuid)
    return render(request, "contacts/contact_form.html", {"form": form, "contact": contact})


def contact_delete(request: HttpRequest, public_id) -> HttpResponse:
    """A confirmation page; the POST deletes (owners only)."""
    contact = get_contact(request, public_id, Action.DELETE)
    if request.method == "POST":
        name = str(contact)
        services.delete_contact(contact, actor=request.user)
        messages.success(request, _("Contact “%(name)s” deleted.") % {"name": name})
        return redirect("contacts:list")
    return render(request, "contacts/contact_confirm_delete.html", {"contact": contact})


# --- companies -----------------------------------------------------------------------------------


@role_required(Action.VIEW)
def company_list(request: HttpRequest) -> HttpResponse:
    company_filter, filter_error = _filter_from(request, CompanyFilter)
    if filter_error:
        messages.warning(request, filter_error)
    companies = company_filter.apply(Company.objects.annotate(contact_count=Count("contacts")))
    context = {
        "page": Paginator(companies, CONTACTS_PER_PAGE).get_page(request.GET.get("page")),
        "q": company_filter.q or "",
    }
    return render(request, "contacts/company_list.html", context)


@role_required(Action.VIEW)
def company_detail(request: HttpRequest, public_id) -> HttpResponse:
    company = get_for(request.user, Company.objects.prefetch_related("tags"), public_id)
    contacts = company.contacts.prefetch_related("tags").order_by("last_name", "first_name", "id")
    context = {
        "company": company,
        "contacts": Paginator(contacts, CONTACTS_PER_PAGE).get_page(request.GET.get("page")),
        "interactions": company.interactions.select_related("contact").order_by("-occurred_at", "-id")[:20],
        # the compose page (people of the company to pick from) when e-mail can be sent
        "compose_url": email_links.compose_url(company=company.uuid)
        if can(request.user, Action.EDIT)
        else "",
    }
    return render(request, "contacts/company_detail.html", context)


@role_required(Action.EDIT)
def company_create(request: HttpRequest) -> HttpResponse:
    return _company_form(request, None)


def company_edit(request: HttpRequest, public_id) -> HttpResponse:
    company = get_for(request.user, Company.objects.prefetch_related("tags"), public_id, Action.EDIT)
    return _company_form(request, company)


def _company_form(request: HttpRequest, company: Company | None) -> HttpResponse:
    form = CompanyForm(request.POST or None, instance=company)
    if request.method == "POST" and form.is_valid():
        saved = form.save(actor=request.user)
        messages.success(request, _("Company “%(name)s” saved.") % {"name": saved})
        return redirect("contacts:company_detail", saved.uuid)
    return render(request, "contacts/company_form.html", {"form": form, "company": company})


# --- import --------------------------------------------------------------------------------------

FINISHED = (ImportStatus.DONE, ImportStatus.FAILED)


@role_required(Action.EDIT)
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = form.save(actor=request.user)
        return redirect("contacts:import_preview", job.uuid)
    context = {
        "form": form,
        "max_bytes": settings.SOLOCRM_MAX_IMPORT_BYTES,
        "recent": ImportJob.objects.order_by("-created_at")[:10],
    }
    return render(request, "contacts/import_upload.html", context)


def _load_preview(job: ImportJob):
    """The importer's preview of the stored file, or the reason it cannot be read."""
    try:
        shown = preview(
            job.kind,
            Path(job.stored_path),
            rows=10,
            mapping=job.mapping or None,
            region=job.region or None,
            encoding=job.encoding or None,
        )
        return shown, ""
    except ImportFileError as error:
        return None, str(error)


def import_preview(request: HttpRequest, public_id) -> HttpResponse:
    """Detected format and column mapping; "Apply" re-reads with the new mapping, "Run" starts."""
    job = get_for(request.user, ImportJob, public_id, Action.EDIT)
    if job.status != ImportStatus.UPLOADED:
        return redirect("contacts:import_progress", job.uuid)
    table, file_error = _load_preview(job)
    form = None
    if table is not None:
        form = ImportMappingForm(
            request.POST or None, headers=table.headers, fields=table.fields, mapping=table.mapping
        )
        if request.method == "POST" and form.is_valid():
            job.mapping = form.mapping
            job.save(update_fields=["mapping", "updated_at"])
            if "run" in request.POST:
                return _start_import(job)
            return redirect("contacts:import_preview", job.uuid)
    context = {"job": job, "preview": table, "form": form, "file_error": file_error}
    if table is not None:
        context["sample_columns"], context["sample_rows"] = _sample_table(table)
    return render(request, "contacts/import_preview.html", context)


def _sample_table(table) -> tuple[list[str], list[list[str]]]:
    """The normalised sample as a table: one column per field the rows hold (a full name shows
    as first and last name, as it will be stored), in the importer's field order."""
    present = {name for row in table.sample for name in row}
    labels = dict(table.fields)
    names = [name for name, _label in table.fields if name in present]
    names += sorted(present - set(names))
    rows = [[row.get(name, "") for name in names] for row in table.sample]
    return [labels.get(name, name.replace("_", " ")) for name in names], rows


def _start_import(job: ImportJob) -> HttpResponse:
    start_job(job)
    return redirect("contacts:import_progress", job.uuid)


@role_required(Action.VIEW)
def import_progress(request: HttpRequest, public_id) -> HttpResponse:
    job = get_for(request.user, ImportJob, public_id)
    if job.status in FINISHED:
        if wants_partial(request):  # the polling fragment sends the whole page on to the report
            return HttpResponseClientRedirect(job_report_url(job))
        return redirect("contacts:import_report", job.uuid)
    template = "contacts/_import_progress.html" if wants_partial(request) else "contacts/import_progress.html"
    return vary_on_htmx(render(request, template, {"job": job}))


def job_report_url(job: ImportJob) -> str:
    return reverse("contacts:import_report", args=[job.uuid])


@role_required(Action.VIEW)
def import_report(request: HttpRequest, public_id) -> HttpResponse:
    job = get_for(request.user, ImportJob, public_id)
    if job.status not in FINISHED:
        return redirect("contacts:import_progress", job.uuid)
    report = job.report or {}
    context = {
        "job": job,
        "report": report,
        "rejected_rows": (report.get("errors") or [])[:50],
        "warning_rows": (report.get("warnings") or [])[:50],
        "has_rejected_file": _rejected_path(job) is not None,
    }
    return render(request, "contacts/import_report.html", context)


def _rejected_path(job: ImportJob) -> Path | None:
    """The rejected-rows file of ``job`` if it exists inside the import folder (never elsewhere)."""
    name = (job.report or {}).get("rejected_path")
    if not name:
        return None
    folder = Path(settings.SOLOCRM_IMPORT_DIR).resolve()
    path = (folder / name).resolve()  # an absolute ``name`` replaces the folder, then is checked
    return path if path.is_relative_to(folder) and path.is_file() else None


@role_required(Action.VIEW)
def import_rejected(request: HttpRequest, public_id) -> FileResponse:
    job = get_for(request.user, ImportJob, public_id)
    path = _rejected_path(job)
    if path is None:
        raise Http404
    filename = f"{Path(job.original_name).stem}-rejected.csv"
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type="text/csv")
