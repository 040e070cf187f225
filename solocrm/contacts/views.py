"""Pages of contacts and companies, and the import screens.

Views only route: they check the role through solocrm.lib.access, hand input to a form and
render; writes happen in solocrm.contacts.services (via the forms)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect
from pydantic import ValidationError

from solocrm.lib import contact_page
from solocrm.lib.access import get_for, role_required
from solocrm.lib.http import vary_on_htmx, wants_partial
from solocrm.lib.roles import Action

from . import services
from .choices import ImportStatus
from .filters import CompanyFilter, ContactFilter
from .forms import CompanyForm, ContactFilterForm, ContactForm, ImportMappingForm, ImportUploadForm, NoteForm
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


def contact_page_context(request: HttpRequest, contact: Contact, **forms) -> dict:
    """Everything the contact page shows; each list is one query, whatever its length. The
    sections of other apps (orders, deals, tasks…) come from solocrm.lib.contact_page."""
    return {
        "contact": contact,
        "timeline": _timeline_page(contact, request.GET.get("timeline_page")),
        "note_form": forms.get("note_form") or NoteForm(),
        **contact_page.sections_context(request, contact, forms),
    }


def _timeline_page(contact: Contact, number):
    entries = contact.interactions.select_related("author").order_by("-occurred_at", "-id")
    return Paginator(entries, TIMELINE_PER_PAGE).get_page(number)


def get_contact(request: HttpRequest, public_id, action: str = Action.VIEW) -> Contact:
    queryset = Contact.objects.select_related("company").prefetch_related("tags")
    return get_for(request.user, queryset, public_id, action)


@role_required(Action.VIEW)
def contact_detail(request: HttpRequest, public_id) -> HttpResponse:
    contact = get_contact(request, public_id)
    return render(request, "contacts/contact_detail.html", contact_page_context(request, contact))


@role_required(Action.VIEW)
def contact_timeline(request: HttpRequest, public_id) -> HttpResponse:
    """One more page of the timeline ("load more")."""
    contact = get_contact(request, public_id)
    context = {"contact": contact, "timeline": _timeline_page(contact, request.GET.get("page"))}
    return render(request, "contacts/_timeline_items.html", context)


@require_POST
def contact_add_note(request: HttpRequest, public_id) -> HttpResponse:
    contact = get_contact(request, public_id, Action.EDIT)
    form = NoteForm(request.POST)
    if form.is_valid():
        form.save(contact, actor=request.user)
        if not wants_partial(request):
            messages.success(request, _("Added to the timeline."))
            return redirect("contacts:detail", contact.uuid)
        form = NoteForm()
    if wants_partial(request):
        context = {"contact": contact, "note_form": form, "saved": form.is_bound is False}
        context["timeline"] = _timeline_page(contact, 1)
        return render(request, "contacts/_note_response.html", context)
    return render(
        request, "contacts/contact_detail.html", contact_page_context(request, contact, note_form=form)
    )


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
