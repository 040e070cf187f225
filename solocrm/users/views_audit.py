"""The owner's audit log page: filter by user, action, object and dates; export as CSV."""

from __future__ import annotations

import csv

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from solocrm.lib.access import role_required
from solocrm.lib.roles import Action
from solocrm.lib.spreadsheet import csv_cell

from .audit import AuditFilter
from .models import AuditLog

PER_PAGE = 50


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=gettext_lazy("User"), required=False, max_length=150)
    action = forms.CharField(label=gettext_lazy("Action"), required=False, max_length=40)
    object_type = forms.CharField(label=gettext_lazy("Object"), required=False, max_length=40)
    since = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def chosen(self) -> AuditFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return AuditFilter(
            **{name: data.get(name) or AuditFilter.__dataclass_fields__[name].default for name in self.fields}
        )


@role_required(Action.ADMIN)
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    entries = form.chosen().apply(AuditLog.objects.all())
    if request.GET.get("format") == "csv":
        return _csv(request, entries)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "actions": AuditLog.objects.order_by("action").values_list("action", flat=True).distinct(),
        "query": _query_without_page(request),
    }
    return render(request, "users/audit_log.html", context)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(request: HttpRequest, entries) -> StreamingHttpResponse:
    AuditLog.record(request.user, "export", summary=_("Audit log as CSV"))  # exports are audited too
    writer = csv.writer(_Echo())
    header = ["id", "at", "user", "action", "object_type", "object_uuid", "summary", "entry_hash"]

    def rows():
        yield writer.writerow(header)
        for entry in entries.iterator(chunk_size=2000):
            values = [entry.pk, entry.at, entry.actor_name, entry.action, entry.object_type]
            values += [entry.object_uuid or "", entry.summary, entry.entry_hash]
            yield writer.writerow([csv_cell(value) for value in values])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
