"""Merging duplicate contacts into one survivor.

Every row that points at a contact moves to the survivor. The relations are discovered from
the model's meta-data, so an app added later (tickets, campaign deliveries…) is covered without
changing this module. The survivor keeps its own values and takes the others' where its own are
empty; nothing the others knew is dropped (extra e-mails and phones, notes, custom fields, tags).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from solocrm.users.models import AuditLog

from .choices import InteractionKind, LifecycleStage
from .models import Contact, Interaction

# Fields the merge treats specially (or never copies).
_SPECIAL = {
    "id", "uuid", "created_at", "updated_at", "email", "phone", "other_emails", "other_phones",
    "custom_fields", "notes", "lifecycle_stage", "email_consent", "email_consent_at", "email_consent_source",
    "search_text",  # derived: save() writes it again from the merged fields
}  # fmt: skip
# Before a purchase, later stages are more advanced; after one, the survivor's judgement stands.
_PRE_PURCHASE = [LifecycleStage.LEAD, LifecycleStage.PROSPECT, LifecycleStage.CUSTOMER, LifecycleStage.REPEAT]


@dataclass
class MergePlan:
    """What merging ``others`` into ``survivor`` gives, computed without writing anything."""

    survivor: Contact
    others: list[Contact]
    values: dict[str, Any] = field(default_factory=dict)  # the survivor's fields after the merge
    filled: list[str] = field(default_factory=list)  # fields that change on the survivor
    moved: dict[str, int] = field(default_factory=dict)  # related rows that move, by relation
    tags: list[str] = field(default_factory=list)  # the survivor's tags after the merge


def reverse_relations() -> list[models.ForeignObjectRel]:
    """Every foreign key and one-to-one field of another model that points at Contact,
    including hidden ones (related_name="+"), but not the join tables of many-to-many fields
    (those are merged as sets by ``many_to_many_fields``)."""
    relations = []
    for rel in Contact._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        if rel.related_model._meta.auto_created:
            continue  # an automatic many-to-many join table
        relations.append(rel)
    return relations


def many_to_many_fields() -> list[tuple[str, type[models.Model], str, str]]:
    """(label, join table, column pointing at the contact, column pointing at the other side)
    for Contact's own many-to-many fields and those of other models that point at Contact."""
    found = []
    for m2m in Contact._meta.many_to_many:
        found.append((m2m.name, m2m.remote_field.through, m2m.m2m_field_name(), m2m.m2m_reverse_field_name()))
    for rel in Contact._meta.get_fields(include_hidden=True):
        if rel.many_to_many and rel.auto_created and not rel.concrete:
            m2m = rel.field
            label = rel.get_accessor_name() or m2m.model._meta.model_name
            found.append(
                (label, m2m.remote_field.through, m2m.m2m_reverse_field_name(), m2m.m2m_field_name())
            )
    return [f for f in found if f[1]._meta.auto_created]  # custom join models are foreign keys, above


def _relation_label(rel: models.ForeignObjectRel) -> str:
    return rel.get_accessor_name() or f"{rel.related_model._meta.model_name}.{rel.field.name}"


def plan_merge(survivor: Contact, others: list[Contact]) -> MergePlan:
    """Compute the merge of ``others`` into ``survivor`` (no writes)."""
    others = _distinct_others(survivor, others)
    plan = MergePlan(survivor=survivor, others=others)
    plan.values = _merged_values(survivor, others)
    plan.filled = [name for name, value in plan.values.items() if getattr(survivor, name) != value]
    other_ids = [o.pk for o in others]
    for rel in reverse_relations():
        count = rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": other_ids}).count()
        if count:
            plan.moved[_relation_label(rel)] = count
    for label, through, own, _other in many_to_many_fields():
        count = through.objects.filter(**{f"{own}__in": other_ids}).count()
        if count:
            plan.moved[label] = count
    plan.tags = sorted(
        {t.name for t in survivor.tags.all()} | {t.name for o in others for t in o.tags.all()}, key=str.lower
    )
    return plan


def preview_merge(survivor: Contact, others: list[Contact]) -> dict[str, Any]:
    """Describe the result of a merge without writing: the survivor's fields before and after,
    the rows that would move, and the resulting tags. Used by the web preview and `--dry-run`."""
    plan = plan_merge(survivor, others)
    fields = []
    for name, after in plan.values.items():
        before = getattr(survivor, name)
        label = str(Contact._meta.get_field(name).verbose_name)
        fields.append(
            {"field": name, "label": label, "before": before, "after": after, "changed": before != after}
        )
    return {
        "survivor": survivor,
        "others": plan.others,
        "fields": fields,
        "moved": plan.moved,
        "tags": plan.tags,
    }


def merge_contacts(survivor: Contact, others: list[Contact], actor=None) -> Contact:
    """Merge ``others`` into ``survivor`` in one transaction: move every related row, fill the
    survivor's empty fields, write a timeline entry and an audit-log entry, delete the others."""
    with transaction.atomic():
        survivor = Contact.objects.select_for_update().get(pk=survivor.pk)
        others = list(Contact.objects.select_for_update().filter(pk__in=[o.pk for o in others]))
        plan = plan_merge(survivor, others)
        if not plan.others:
            return survivor
        summary = _summary(plan)
        _move_related(plan)
        for name, value in plan.values.items():
            setattr(survivor, name, value)
        survivor.save()
        Contact.objects.filter(pk__in=[o.pk for o in plan.others]).delete()
        _record(plan, summary, actor)
    return survivor


def _distinct_others(survivor: Contact, others: list[Contact]) -> list[Contact]:
    seen, result = {survivor.pk}, []
    for other in others:
        if other.pk not in seen:
            seen.add(other.pk)
            result.append(other)
    return result


def _merged_values(survivor: Contact, others: list[Contact]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in Contact._meta.concrete_fields:
        if f.name in _SPECIAL:
            continue
        current = getattr(survivor, f.name)
        if current in (None, ""):
            donor = next((getattr(o, f.name) for o in others if getattr(o, f.name) not in (None, "")), None)
            values[f.name] = donor if donor is not None else current
        else:
            values[f.name] = current
    values.update(_contact_points(survivor, others))
    values.update(_consent(survivor, others))
    values["notes"] = "\n\n".join(
        dict.fromkeys(c.notes.strip() for c in [survivor, *others] if c.notes.strip())
    )
    values["custom_fields"] = {
        k: v for c in reversed([survivor, *others]) for k, v in (c.custom_fields or {}).items()
    }
    values["lifecycle_stage"] = _stage(survivor, others)
    return values


def _contact_points(survivor: Contact, others: list[Contact]) -> dict[str, Any]:
    """The survivor's e-mail and phone (or the first other's when empty); every other address
    and number, including the others' main ones, becomes an extra."""
    result = {}
    for main, extra in (("email", "other_emails"), ("phone", "other_phones")):
        everything = [getattr(survivor, main), *(getattr(survivor, extra) or [])]
        for other in others:
            everything += [getattr(other, main), *(getattr(other, extra) or [])]
        unique = [v for v in dict.fromkeys(everything) if v]
        primary = getattr(survivor, main) or (unique[0] if unique else "")
        result[main] = primary
        result[extra] = [v for v in unique if v != primary]
    return result


def _consent(survivor: Contact, others: list[Contact]) -> dict[str, Any]:
    """Keep the earliest recorded consent: it is the evidence that dates furthest back."""
    given = [c for c in [survivor, *others] if c.email_consent]
    if not given:
        return {"email_consent": False, "email_consent_at": survivor.email_consent_at,
                "email_consent_source": survivor.email_consent_source}  # fmt: skip
    earliest = min(given, key=lambda c: c.email_consent_at or timezone.now())
    return {
        "email_consent": True,
        "email_consent_at": earliest.email_consent_at,
        "email_consent_source": earliest.email_consent_source,
    }


def _stage(survivor: Contact, others: list[Contact]) -> str:
    stages = [c.lifecycle_stage for c in [survivor, *others]]
    if survivor.lifecycle_stage not in (LifecycleStage.LEAD, LifecycleStage.PROSPECT):
        return survivor.lifecycle_stage
    known = [s for s in stages if s in _PRE_PURCHASE]
    later = [s for s in stages if s not in _PRE_PURCHASE]
    if later:
        return later[0]  # an other has bought before: their after-purchase stage is the truth
    return max(known, key=_PRE_PURCHASE.index)


def _move_related(plan: MergePlan) -> None:
    survivor, other_ids = plan.survivor, [o.pk for o in plan.others]
    for rel in reverse_relations():
        rows = rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": other_ids})
        if rel.one_to_one and rel.related_model._base_manager.filter(**{rel.field.name: survivor}).exists():
            continue  # the survivor has its own; the others' go with them
        rows.update(**{rel.field.name: survivor})
    for _label, through, own, other_side in many_to_many_fields():
        have = set(through.objects.filter(**{own: survivor}).values_list(other_side, flat=True))
        move = []
        for pk, target in through.objects.filter(**{f"{own}__in": other_ids}).values_list("pk", other_side):
            if target not in have:  # a target both had stays once; the duplicate row goes with the other
                have.add(target)
                move.append(pk)
        through.objects.filter(pk__in=move).update(**{own: survivor})


def _summary(plan: MergePlan) -> dict[str, Any]:
    return {
        "merged": [
            {"uuid": str(o.uuid), "name": o.full_name, "email": o.email, "phone": o.phone}
            for o in plan.others
        ],
        "moved": plan.moved,
        "filled": [name for name in plan.filled if name not in ("notes", "custom_fields")],
    }


def _record(plan: MergePlan, summary: dict[str, Any], actor) -> None:
    survivor, count = plan.survivor, len(plan.others)
    names = ", ".join(str(o) for o in plan.others)
    lines = [f"- {m['name'] or '—'} <{m['email'] or '—'}> {m['phone']}".rstrip() for m in summary["merged"]]
    if plan.moved:
        lines.append(_("Moved: %(moved)s") % {"moved": ", ".join(f"{k} {v}" for k, v in plan.moved.items())})
    Interaction.objects.create(
        contact=survivor,
        company=survivor.company,
        kind=InteractionKind.SYSTEM,
        occurred_at=timezone.now(),
        subject=(
            ngettext(
                "Merged a duplicate contact: %(names)s",
                "Merged %(count)d duplicate contacts: %(names)s",
                count,
            )
            % {"count": count, "names": names}
        )[:300],
        body="\n".join(lines),
        author=actor if getattr(actor, "is_authenticated", False) else None,
        data=summary,
    )
    AuditLog.record(actor, "contact.merge", survivor, summary=f"{survivor} ← {names}", changes=summary)
