"""Duplicates: the list of probable duplicate groups, a merge preview, and the merge itself."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from solocrm.lib.access import get_for, role_required
from solocrm.lib.roles import Action

from .dedupe import find_duplicate_candidates
from .merge import many_to_many_fields, merge_contacts, preview_merge, reverse_relations
from .models import Contact

MAX_GROUPS = 200  # the page lists the strongest groups; merging them shows the next ones
MAX_OTHERS = 20
REASON_LABELS = {
    "email": gettext_lazy("Same e-mail address"),
    "phone": gettext_lazy("Same phone number"),
    "name": gettext_lazy("Similar name, same company"),
    "shared_phone": gettext_lazy("Same phone number, but different e-mail addresses or names"),
}


@require_GET
@role_required(Action.VIEW)
def duplicates(request: HttpRequest) -> HttpResponse:
    candidates = find_duplicate_candidates(limit=MAX_GROUPS)
    for candidate in candidates:
        candidate.reason_label = REASON_LABELS[candidate.reason]
    return render(request, "contacts/duplicates.html", {"candidates": candidates, "limit": MAX_GROUPS})


@require_GET
@role_required(Action.VIEW)
def merge_preview(request: HttpRequest) -> HttpResponse:
    survivor, others = _group(request, request.GET, Action.VIEW)
    preview = preview_merge(survivor, others)
    labels = _relation_labels()
    context = {
        "survivor": survivor,
        "others": others,
        "fields": _fields_shown(preview["fields"]),
        "moved": [(labels.get(name, name), count) for name, count in preview["moved"].items()],
        "tags": preview["tags"],
        "swaps": [(other, [survivor, *[o for o in others if o != other]]) for other in others],
    }
    return render(request, "contacts/merge_preview.html", context)


@require_POST
@role_required(Action.EDIT)
def merge(request: HttpRequest) -> HttpResponse:
    survivor, others = _group(request, request.POST, Action.EDIT)
    merged = merge_contacts(survivor, others, actor=request.user)
    messages.success(
        request,
        _("Merged %(count)d contact(s) into %(name)s.") % {"count": len(others), "name": merged},
    )
    return redirect("contacts:detail", merged.uuid)


def _group(request: HttpRequest, data: QueryDict, action: str) -> tuple[Contact, list[Contact]]:
    """The survivor and the others named in the request, each fetched through the access helper."""
    ids = data.getlist("other")
    if not ids or len(ids) > MAX_OTHERS:
        raise BadRequest(_("Choose between 1 and %(n)d contacts to merge.") % {"n": MAX_OTHERS})
    survivor = get_for(request.user, Contact.objects.select_related("company"), data.get("survivor"), action)
    others = [get_for(request.user, Contact.objects.select_related("company"), pk, action) for pk in ids]
    if survivor in others:
        raise BadRequest(_("A contact cannot be merged into itself."))
    return survivor, others


# People read a contact name first, address last (the model's column order is the other way).
FIELD_ORDER = [
    "first_name", "last_name", "email", "other_emails", "phone", "other_phones", "company", "title",
    "lifecycle_stage", "channel", "source", "birthday", "email_consent", "email_consent_at",
    "email_consent_source", "street", "postal_code", "city", "region", "country",
]  # fmt: skip


def _fields_shown(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def rank(field: dict[str, Any]) -> int:
        return FIELD_ORDER.index(field["field"]) if field["field"] in FIELD_ORDER else len(FIELD_ORDER)

    shown = []
    for field in sorted(fields, key=rank):
        before, after = field["before"], field["after"]
        if labels := dict(Contact._meta.get_field(field["field"]).flatchoices):
            before, after = labels.get(before, before), labels.get(after, after)
        shown.append({**field, "before": _shown(before), "after": _shown(after)})
    return shown


def _relation_labels() -> dict[str, str]:
    labels = {
        rel.get_accessor_name(): str(rel.related_model._meta.verbose_name_plural)
        for rel in reverse_relations()
    }
    for name, *_rest in many_to_many_fields():
        if name in {f.name for f in Contact._meta.many_to_many}:
            labels[name] = str(Contact._meta.get_field(name).verbose_name)
    return labels


def _shown(value: Any) -> str:
    """A field value as the page shows it."""
    if value in (None, "", [], {}):
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, datetime):
        return localize(timezone.localtime(value))
    if isinstance(value, date):
        return localize(value)
    return str(value)
