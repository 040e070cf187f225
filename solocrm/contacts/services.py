"""Workflows on contacts, companies and the timeline shared by the web pages, the API and the CLI.
Each writes the timeline and the audit log itself (explicit calls, no signals).

The create/update functions take plain dicts of already validated values (the API's schemas and
the web forms normalise e-mails, phones and names first); related objects are passed as model
instances, never as ids, so the caller has already checked that the user may see them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from solocrm.lib.search_index import refresh
from solocrm.users.models import AuditLog

from .choices import InteractionKind
from .identity import email_key
from .models import Company, Contact, Interaction, Tag


class Conflict(IntegrityError):
    """A write that would duplicate an existing record; the message says which one.

    A subclass of IntegrityError so that callers treat it like the database's own unique
    violation (the API answers 409 to both)."""


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _jsonable(value: Any) -> Any:
    """A value as it can be kept in the audit log's JSON ``changes``."""
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    if isinstance(value, models.Model):
        return str(getattr(value, "uuid", value.pk))
    if isinstance(value, date | datetime | Decimal):
        return str(value)
    return str(value)


def apply_changes(obj: models.Model, data: dict[str, Any]) -> dict[str, list]:
    """Set the attributes in ``data`` on ``obj``; return {field: [old, new]} of what changed."""
    changes = {}
    for field, new in data.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [_jsonable(old), _jsonable(new)]
            setattr(obj, field, new)
    return changes


def save_validated(obj: models.Model) -> None:
    """Validate field by field (lengths, choices) and save; uniqueness is left to the database
    and the explicit duplicate checks, which answer with a clearer message."""
    obj.full_clean(validate_unique=False, validate_constraints=False)
    obj.save()


def get_or_create_tag(name: str) -> Tag:
    """The tag called ``name`` in any case, created when missing. Two requests creating the same
    new tag at once both get it: the loser of the race (the unique index on lower(name)) reads
    the winner's row instead of failing."""
    if tag := Tag.objects.filter(name__iexact=name).first():
        return tag
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives the race
            return Tag.objects.create(name=name)
    except IntegrityError:
        return Tag.objects.get(name__iexact=name)


def set_tags(obj: Contact | Company, names: Iterable[str]) -> list[str]:
    """Give ``obj`` exactly these tags (created when new, matched regardless of case)."""
    tags: dict[str, Tag] = {}
    for name in (n.strip()[:60] for n in names):
        if name and name.lower() not in tags:
            tags[name.lower()] = get_or_create_tag(name)
    obj.tags.set(tags.values())
    return [tag.name for tag in tags.values()]


# --- contacts ---------------------------------------------------------------------------------


def _email_taken(email: str, exclude: Contact | None = None) -> Conflict | None:
    """The conflict of giving ``email`` as primary address, if another contact has it."""
    if not email:
        return None
    others = Contact.objects.filter(email__gt="").annotate(key=Lower("email")).filter(key=email_key(email))
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if other := others.first():
        return Conflict(
            _("contact %(uuid)s already has the e-mail address %(email)s")
            % {"uuid": other.uuid, "email": email}
        )
    return None


def _check_email_free(email: str, exclude: Contact | None = None) -> None:
    """One e-mail address, one contact (the database enforces it too: contact_email_ci_unique)."""
    if conflict := _email_taken(email, exclude):
        raise conflict


def _save_contact(contact: Contact) -> None:
    """Save, turning a lost race for the e-mail address (another request saved it between our
    check and our insert: the unique index refused ours) into the same Conflict as the check."""
    if contact.email:
        contact.email = email_key(contact.email)
    try:
        with transaction.atomic():
            save_validated(contact)
    except IntegrityError:
        if conflict := _email_taken(contact.email, contact if contact.pk else None):
            raise conflict from None
        raise


def _set_consent(contact: Contact, consent: bool | None, source: str) -> None:
    if consent is None or consent == contact.email_consent:
        return
    if consent:
        contact.give_consent(source)
    else:
        contact.email_consent = False
        contact.email_consent_at = None


@transaction.atomic
def create_contact(data: dict[str, Any], *, actor=None, via: str = "") -> Contact:
    """Create a contact from validated ``data`` (model fields, ``tags`` as names, ``email_consent``).

    ``via`` names where it came from ("API", "web form") for the timeline and the consent
    record. Raises Conflict when another contact already has the e-mail address."""
    data = dict(data)
    tags = data.pop("tags", None)
    consent = data.pop("email_consent", None)
    source = data.pop("email_consent_source", "") or via
    _check_email_free(data.get("email", ""))
    data.setdefault("owner", _user(actor))
    contact = Contact(**data)
    _set_consent(contact, consent, source)
    _save_contact(contact)
    if tags:
        set_tags(contact, tags)
    Interaction.objects.create(
        contact=contact,
        company=contact.company,
        kind=InteractionKind.SYSTEM,
        subject=(_("Created via %(via)s") % {"via": via}) if via else _("Contact created"),
        occurred_at=timezone.now(),
        author=_user(actor),
    )
    AuditLog.record(actor, "contact.create", contact, summary=str(contact))
    return contact


@transaction.atomic
def update_contact(contact: Contact, data: dict[str, Any], *, actor=None, via: str = "") -> Contact:
    """Change the fields in ``data`` (a partial update); records what changed in the audit log."""
    data = dict(data)
    tags = data.pop("tags", None)
    consent = data.pop("email_consent", None)
    source = data.pop("email_consent_source", "") or via
    if "email" in data:
        _check_email_free(data["email"], exclude=contact)
    changes = apply_changes(contact, data)
    if consent is not None and consent != contact.email_consent:
        changes["email_consent"] = [contact.email_consent, consent]
        _set_consent(contact, consent, source)
    _save_contact(contact)
    if tags is not None:
        old = sorted(t.name for t in contact.tags.all())
        new = sorted(set_tags(contact, tags))
        if old != new:
            changes["tags"] = [old, new]
    if changes:
        AuditLog.record(actor, "contact.update", contact, summary=str(contact), changes=changes)
    return contact


@transaction.atomic
def delete_contact(contact: Contact, *, actor=None) -> None:
    """Delete a contact with its timeline and tasks; its orders stay, without a contact."""
    AuditLog.record(actor, "contact.delete", contact, summary=str(contact))
    contact.delete()


# --- companies --------------------------------------------------------------------------------


@transaction.atomic
def create_company(data: dict[str, Any], *, actor=None) -> Company:
    data = dict(data)
    tags = data.pop("tags", None)
    company = Company(**data)
    save_validated(company)
    if tags:
        set_tags(company, tags)
    AuditLog.record(actor, "company.create", company, summary=str(company))
    return company


@transaction.atomic
def update_company(company: Company, data: dict[str, Any], *, actor=None) -> Company:
    data = dict(data)
    tags = data.pop("tags", None)
    changes = apply_changes(company, data)
    save_validated(company)
    if "name" in changes:
        company.refresh_contacts_search()  # its contacts are found by its name
    if tags is not None:
        old = sorted(t.name for t in company.tags.all())
        new = sorted(set_tags(company, tags))
        if old != new:
            changes["tags"] = [old, new]
    if changes:
        AuditLog.record(actor, "company.update", company, summary=str(company), changes=changes)
    return company


@transaction.atomic
def delete_company(company: Company, *, actor=None) -> None:
    """Delete a company and its timeline; its contacts stay, without a company."""
    AuditLog.record(actor, "company.delete", company, summary=str(company))
    members = list(company.contacts.values_list("pk", flat=True))
    company.delete()
    # Its contacts were found by its name: no longer.
    refresh(Contact.search_queryset().filter(pk__in=members))


# --- the timeline -----------------------------------------------------------------------------


@transaction.atomic
def add_interaction(
    contact: Contact,
    *,
    kind: str = InteractionKind.NOTE,
    subject: str = "",
    body: str = "",
    actor=None,
    occurred_at: datetime | None = None,
) -> Interaction:
    """Add an entry to ``contact``'s timeline (a note, a logged call, an e-mail…)."""
    interaction = Interaction.objects.create(
        contact=contact,
        company=contact.company,
        kind=kind,
        subject=subject[:300],
        body=body,
        occurred_at=occurred_at or timezone.now(),
        author=actor if getattr(actor, "is_authenticated", False) else None,
    )
    AuditLog.record(actor, "interaction.create", interaction, summary=str(interaction))
    return interaction


@transaction.atomic
def create_interaction(data: dict[str, Any], *, actor=None) -> Interaction:
    """Add an entry to the timeline of a contact, a company or both (``data`` holds model
    fields; a contact's company is filled in when no company is given)."""
    data = dict(data)
    contact = data.get("contact")
    if contact is None and data.get("company") is None:
        raise ValueError(_("an interaction needs a contact or a company"))
    if contact is not None and data.get("company") is None:
        data["company"] = contact.company
    data["occurred_at"] = data.get("occurred_at") or timezone.now()
    interaction = Interaction(author=_user(actor), **data)
    save_validated(interaction)
    AuditLog.record(actor, "interaction.create", interaction, summary=str(interaction))
    return interaction


@transaction.atomic
def update_interaction(interaction: Interaction, data: dict[str, Any], *, actor=None) -> Interaction:
    changes = apply_changes(interaction, data)
    if interaction.contact_id is None and interaction.company_id is None:
        raise ValueError(_("an interaction needs a contact or a company"))
    save_validated(interaction)
    if changes:
        AuditLog.record(actor, "interaction.update", interaction, summary=str(interaction), changes=changes)
    return interaction


@transaction.atomic
def delete_interaction(interaction: Interaction, *, actor=None) -> None:
    AuditLog.record(actor, "interaction.delete", interaction, summary=str(interaction))
    interaction.delete()
