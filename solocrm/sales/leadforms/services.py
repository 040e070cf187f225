"""Public lead forms and the leads they bring: managing the forms, the signed form token, turning a
submission into a de-duplicated contact with its timeline entry, follow-up task and owner e-mail,
the leads list with speed-to-lead, and converting a lead.

Views (web and public), the API and the Today page call these functions; like
solocrm.sales.services they take validated values and write the audit log themselves."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar, Literal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Lower
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from pydantic import Field

from solocrm.contacts import identity
from solocrm.contacts.choices import InteractionKind, LifecycleStage
from solocrm.contacts.models import Company, Contact, Interaction
from solocrm.contacts.services import (
    Conflict,
    apply_changes,
    create_company,
    create_contact,
    save_validated,
    update_contact,
)
from solocrm.lib.business import business_settings
from solocrm.lib.filters import ListFilter, every_word
from solocrm.lib.roles import Role
from solocrm.sales.choices import LeadFormField, Priority, TaskKind
from solocrm.sales.deals.models import Deal
from solocrm.sales.deals.services import create_deal
from solocrm.sales.leadforms.models import FormSubmission, LeadForm
from solocrm.sales.tasks.models import Task
from solocrm.sales.tasks.services import create_task
from solocrm.users.models import AuditLog

logger = logging.getLogger(__name__)

# The responses that end a lead's wait: an e-mail written to them, a call, a meeting.
OUTBOUND_KINDS = (InteractionKind.EMAIL_OUT, InteractionKind.CALL, InteractionKind.MEETING)

# What a visitor may type into each field (the contact's own column limits, a long message).
FIELD_MAX_LENGTHS = {
    LeadFormField.FIRST_NAME: 100,
    LeadFormField.LAST_NAME: 100,
    LeadFormField.EMAIL: 254,
    LeadFormField.PHONE: 40,
    LeadFormField.COMPANY: 200,
    LeadFormField.JOB_TITLE: 100,
    LeadFormField.MESSAGE: 5000,
}
CONTACT_FIELDS = ("first_name", "last_name", "title")  # answers copied onto the contact as they are

# A form token is valid from 2 seconds (people need longer to fill a form; scripts do not) to
# a day after the page was shown (a tab left open overnight still works the next morning).
FORM_SALT = "solocrm.sales.leadform"  # signing salt, not a secret
TOKEN_MIN_AGE = 2
TOKEN_MAX_AGE = 24 * 3600

# The follow-up task is due 4 working hours after the lead arrived (09:00–17:00, Monday to
# Friday, in the owner's time zone), but never more than 24 hours later.
WORK_START, WORK_END = 9, 17
FOLLOW_UP_WORK_HOURS = 4
FOLLOW_UP_CAP = timedelta(hours=24)

CONVERTED = "lead_converted"  # the ``event`` in the data of the system entry a conversion writes


# --- managing forms ---------------------------------------------------------------------------


class FieldChoiceError(ValueError):
    """The fields of a form do not make a usable form; ``field`` names the setting at fault."""

    def __init__(self, message: str, field: str = "fields") -> None:
        super().__init__(message)
        self.field = field


def clean_field_choice(fields: list[str], required: list[str]) -> tuple[list[str], list[str]]:
    """The asked and required fields in the canonical order; raises FieldChoiceError when they
    make no form (no way to reply, a required field that is not asked, an unknown field)."""
    known = LeadFormField.values
    unknown = [name for name in [*fields, *required] if name not in known]
    if unknown:
        raise FieldChoiceError(_("Unknown field: %(fields)s.") % {"fields": ", ".join(sorted(set(unknown)))})
    if not set(required) <= set(fields):
        raise FieldChoiceError(_("A required field must also be one of the fields asked."), "required_fields")
    if LeadFormField.EMAIL not in fields and LeadFormField.PHONE not in fields:
        raise FieldChoiceError(_("Ask for an e-mail address or a phone number, or you cannot reply."))
    return [n for n in known if n in fields], [n for n in known if n in required]


def _validated(form: LeadForm) -> LeadForm:
    form.fields, form.required_fields = clean_field_choice(list(form.fields), list(form.required_fields))
    # The field lists are checked above (no required field is a valid choice: the model's
    # blank=False would refuse the empty list).
    form.full_clean(exclude=["fields", "required_fields"], validate_unique=False, validate_constraints=False)
    form.save()
    return form


@transaction.atomic
def create_lead_form(data: dict[str, Any], *, actor=None) -> LeadForm:
    """Create a lead form from validated ``data`` (model fields)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    form = _validated(LeadForm(created_by=user, **data))
    AuditLog.record(actor, "leadform.create", form, summary=form.name)
    return form


@transaction.atomic
def update_lead_form(form: LeadForm, data: dict[str, Any], *, actor=None) -> LeadForm:
    """Change the fields in ``data`` (a partial update)."""
    changes = apply_changes(form, data)
    _validated(form)
    if changes:
        AuditLog.record(actor, "leadform.update", form, summary=form.name, changes=changes)
    return form


@transaction.atomic
def delete_lead_form(form: LeadForm, *, actor=None) -> None:
    """Delete a form and its stored submissions; the contacts, their timeline and tasks stay."""
    AuditLog.record(actor, "leadform.delete", form, summary=form.name)
    form.delete()


def lead_forms() -> QuerySet[LeadForm]:
    """Every form with its number of submissions (one query)."""
    return LeadForm.objects.annotate(submission_count=Count("submissions")).order_by("name", "id")


def submissions_of(form: LeadForm) -> QuerySet[FormSubmission]:
    return form.submissions.select_related("contact").order_by("-created_at", "-id")


# --- addresses and the embed snippet ----------------------------------------------------------


def public_base_url(request: HttpRequest | None) -> str:
    """Where visitors reach this server: SOLOCRM_PUBLIC_URL, else the address of the request."""
    if settings.SOLOCRM_PUBLIC_URL or request is None:
        return settings.SOLOCRM_PUBLIC_URL
    return f"{request.scheme}://{request.get_host()}"


def hosted_url(form: LeadForm, request: HttpRequest | None) -> str:
    return public_base_url(request) + reverse("public_forms:form", args=[form.uuid])


def embed_url(form: LeadForm, request: HttpRequest | None) -> str:
    return public_base_url(request) + reverse("public_forms:embed", args=[form.uuid])


def embed_snippet(form: LeadForm, request: HttpRequest | None) -> str:
    """The <iframe> tag the owner pastes into their website (plain text, escaped where shown).
    The height fits the default four fields; the owner can change it."""
    rows = len(form.fields) + (1 if form.consent_text else 0)
    height = 220 + 95 * rows
    title = escape(form.title or form.name)
    return (
        f'<iframe src="{embed_url(form, request)}" title="{title}" width="100%" height="{height}" '
        'style="border:0;max-width:40rem" loading="lazy"></iframe>'
    )


def public_form(public_id: str) -> LeadForm | None:
    """The active form with this id, else None (unknown, malformed and inactive look alike)."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return LeadForm.objects.filter(uuid=key, active=True).first()


# --- the signed form token --------------------------------------------------------------------


class FormTokenError(ValueError):
    """The token of a submitted form is missing, forged, expired or came back too fast."""

    def __init__(self, reason: Literal["forged", "expired", "too_fast"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FormToken:
    """What the page that showed a form signed into it."""

    issued_at: float
    consent_digest: str
    page_url: str


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def issue_form_token(form: LeadForm, *, page_url: str = "", now: float | None = None) -> str:
    """A token for one showing of ``form``: when it was shown, which consent text it showed, and
    the page it was shown on (the Referer, kept with the submission). No cookie is needed, so
    the form works inside an <iframe> on another site even with third-party cookies blocked."""
    payload = {
        "f": form.uuid.hex,
        "t": round(time.time() if now is None else now, 3),
        "c": _digest(form.consent_text),
        "p": page_url[:500],
        "n": secrets.token_hex(4),  # two showings in the same millisecond still differ (single use)
    }
    return signing.dumps(payload, salt=FORM_SALT, compress=True)


def spend_form_token(token: str) -> bool:
    """Mark a token used; False when it was used before (a double click, or a replay): each
    showing of the form may send it once."""
    key = f"leadform-token:{hashlib.sha256(token.encode()).hexdigest()}"
    return cache.add(key, 1, timeout=TOKEN_MAX_AGE + 60)


def check_form_token(form: LeadForm, token: str, *, now: float | None = None) -> FormToken:
    """The token's contents; raises FormTokenError unless it was signed here, for this form,
    at least TOKEN_MIN_AGE and at most TOKEN_MAX_AGE seconds ago."""
    try:
        payload = signing.loads(token or "", salt=FORM_SALT)
        issued = float(payload["t"])
        if payload["f"] != form.uuid.hex:
            raise FormTokenError("forged")
        token_data = FormToken(issued, str(payload["c"]), str(payload["p"])[:500])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        if isinstance(error, FormTokenError):
            raise
        raise FormTokenError("forged") from None
    age = (time.time() if now is None else now) - issued
    if age > TOKEN_MAX_AGE:
        raise FormTokenError("expired")
    if age < TOKEN_MIN_AGE:
        raise FormTokenError("too_fast")
    return token_data


def consent_text_unchanged(form: LeadForm, token: FormToken) -> bool:
    """Whether the consent text the visitor saw is the form's text now (the owner may have
    edited it in between; the stored text must be the one shown)."""
    return token.consent_digest == _digest(form.consent_text)


# --- a submission -----------------------------------------------------------------------------


def follow_up_due(arrived: datetime) -> datetime:
    """FOLLOW_UP_WORK_HOURS working hours after ``arrived``, capped at FOLLOW_UP_CAP."""
    moment = timezone.localtime(arrived)
    left = timedelta(hours=FOLLOW_UP_WORK_HOURS)
    while left > timedelta(0):
        day_start = moment.replace(hour=WORK_START, minute=0, second=0, microsecond=0)
        day_end = moment.replace(hour=WORK_END, minute=0, second=0, microsecond=0)
        if moment.weekday() >= 5 or moment >= day_end:
            moment = timezone.localtime(day_start + timedelta(days=1))
            continue
        moment = max(moment, day_start)
        step = min(left, day_end - moment)
        moment, left = moment + step, left - step
    return min(moment, arrived + FOLLOW_UP_CAP)


def _lock_identity(email: str, phone: str) -> None:
    """Serialise submissions for the same person, so two at once cannot create two contacts.
    SQLite's IMMEDIATE transactions already run writers one at a time."""
    if connection.vendor != "postgresql":
        return
    # One lock per value, in a fixed order: same phone with another e-mail is the same person.
    for value in sorted({v for v in (email, phone) if v}):
        key = int.from_bytes(hashlib.sha256(value.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def find_contact(email: str, phone: str, first_name: str = "", last_name: str = "") -> Contact | None:
    """The contact a submission is about, by the identity rules every way in shares
    (contacts/identity.py): the same e-mail (primary or other); else the same phone, only when
    the e-mails and names do not say it is someone else (a shared office line must not pour a
    stranger's submission into another person's contact)."""
    return _identify(email, phone, first_name, last_name)[0]


def _identify(email: str, phone: str, first_name: str, last_name: str) -> tuple[Contact | None, str]:
    return identity.find_contact(email=email, phone=phone, first_name=first_name, last_name=last_name)


def _contact_for(form: LeadForm, answers: dict[str, str], consent: bool) -> Contact:
    """The submission's contact, found and filled in, or created. Another writer (the API, an
    import) may create the same e-mail address between our look-up and our insert: the unique
    index refuses ours, and the contact it created is the one we fill in."""
    who = [answers.get(k, "") for k in ("email", "phone", "first_name", "last_name")]
    contact, reason = _identify(*who)
    if contact is None:
        try:
            return _new_contact(form, answers, consent)
        except Conflict:
            contact, reason = _identify(*who)
            if contact is None:
                raise
    return _fill_in(contact, form, answers, consent, by_email=reason == identity.EMAIL)


def _company(name: str) -> Company | None:
    if not name:
        return None
    found = Company.objects.annotate(key=Lower("name")).filter(key=name.lower()).order_by("id").first()
    return found or create_company({"name": name})


def _consent_source(form: LeadForm) -> str:
    return f"form: {form.name}"[:200]


def _new_contact(form: LeadForm, answers: dict[str, str], consent: bool) -> Contact:
    data: dict[str, Any] = {name: answers.get(name, "") for name in CONTACT_FIELDS}
    data.update(
        email=answers.get("email", ""),
        phone=answers.get("phone", ""),
        company=_company(answers.get("company", "")),
        source=form.source,
        lifecycle_stage=LifecycleStage.LEAD,
    )
    if consent:
        data.update(email_consent=True, email_consent_source=_consent_source(form))
    return create_contact(data, via=_("form “%(form)s”") % {"form": form.name})


def _fill_in(
    contact: Contact, form: LeadForm, answers: dict[str, str], consent: bool, *, by_email: bool
) -> Contact:
    """Add the harmless details the contact lacks (names, job title, source). Anybody can type
    anybody's e-mail address or phone number into a public form, so a submission never writes a
    known contact's e-mail, phone, other addresses or company — a stranger could otherwise
    redirect the next quote to themselves; those answers stay on the submission and the timeline
    for the owner to apply. Consent is recorded only when the contact was found by the e-mail
    address it is about."""
    data: dict[str, Any] = {
        n: answers[n] for n in CONTACT_FIELDS if answers.get(n) and not getattr(contact, n)
    }
    if form.source and not contact.source:
        data["source"] = form.source
    if consent and by_email and not contact.email_consent:
        data.update(email_consent=True, email_consent_source=_consent_source(form))
    return update_contact(contact, data, via=_("form “%(form)s”") % {"form": form.name})


def _follow_up_task(form: LeadForm, contact: Contact, message: str, arrived: datetime) -> Task:
    """A high-priority follow-up for whoever set the form up (a visitor is no actor)."""
    return create_task(
        title=_("Reply to %(name)s (form “%(form)s”)") % {"name": contact, "form": form.name},
        contact=contact,
        kind=TaskKind.FOLLOW_UP,
        due_at=follow_up_due(arrived),
        priority=Priority.HIGH,
        notes=message,
        assignee=form.created_by,
    )


def submit_lead_form(
    form: LeadForm,
    answers: dict[str, str],
    *,
    consent: bool = False,
    page_url: str = "",
    ip_hash: str = "",
    base_url: str = "",
) -> FormSubmission:
    """Turn one valid submission into a lead, all in one transaction: the contact (found by
    e-mail, else phone, and filled in; or created as a lead with the form's source), the stored
    submission with the consent text shown, a form entry on the timeline, a high-priority
    follow-up task, and — after the commit, so a failing mail server never loses a lead — the
    owners' e-mail. ``answers`` hold normalised values of the form's fields only."""
    with transaction.atomic():
        _lock_identity(answers.get("email", ""), answers.get("phone", ""))
        contact = _contact_for(form, answers, consent)
        submission = FormSubmission.objects.create(
            form=form,
            contact=contact,
            data=answers,
            consent_given=consent,
            consent_text=form.consent_text if consent else "",
            page_url=page_url[:500],
            ip_hash=ip_hash,
        )
        message = answers.get("message", "")
        Interaction.objects.create(
            contact=contact,
            company=contact.company,
            kind=InteractionKind.FORM,
            subject=form.name[:300],
            body=message,
            occurred_at=submission.created_at,
            data={"form": str(form.uuid), "submission": str(submission.uuid), "answers": answers},
        )
        _follow_up_task(form, contact, message, submission.created_at)
        AuditLog.record(None, "leadform.submit", submission, summary=f"{form.name}: {contact}")
        if form.notify_owner:
            transaction.on_commit(partial(notify_owners, submission.pk, base_url))
    return submission


def owner_emails() -> list[str]:
    """The addresses of the active owners (and superusers) who have one."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    owners = users.filter(Q(groups__name=Role.OWNER) | Q(is_superuser=True))
    return sorted(set(owners.values_list("email", flat=True)))


def notify_owners(submission_pk: int, base_url: str = "") -> None:
    """E-mail the owners about a submission. Runs after the commit; a failure is logged, never
    shown to the visitor, and the lead is kept either way."""
    try:
        submission = FormSubmission.objects.select_related("form", "contact").get(pk=submission_pk)
        recipients = owner_emails()
        if not recipients:
            return
        path = reverse("contacts:detail", args=[submission.contact.uuid]) if submission.contact else ""
        context = {"submission": submission, "form": submission.form, "contact": submission.contact}
        # The owners read it in the installation's language, not in the visitor's.
        with translation.override(business_settings().language):
            context["contact_url"] = (base_url or settings.SOLOCRM_PUBLIC_URL) + path
            context["answers"] = [
                (LeadFormField(name).label, value)
                for name, value in submission.data.items()
                if name in LeadFormField.values and value
            ]
            subject = _("New lead from “%(form)s”: %(name)s") % {
                "form": submission.form.name,
                "name": submission.contact or _("someone"),
            }
            body = render_to_string("sales/leadform_notification_email.txt", context)
        send_mail(" ".join(subject.split())[:200], body, None, recipients)
    except Exception:  # the lead is stored: a mail problem must not surface anywhere else
        logger.exception("could not e-mail the owners about form submission %s", submission_pk)


# --- leads and speed-to-lead ------------------------------------------------------------------


def with_response_times(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Annotate ``arrived_at`` (the first form submission, else when the contact was created),
    ``first_response_at`` (the first e-mail sent, call or meeting since) and ``response_time``."""
    first_submission = (
        FormSubmission.objects.filter(contact=OuterRef("pk")).order_by("created_at").values("created_at")[:1]
    )
    first_response = (
        Interaction.objects.filter(
            contact=OuterRef("pk"), kind__in=OUTBOUND_KINDS, occurred_at__gte=OuterRef("arrived_at")
        )
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )
    return contacts.annotate(
        arrived_at=Coalesce(Subquery(first_submission), F("created_at")),
    ).annotate(
        first_response_at=Subquery(first_response),
        response_time=ExpressionWrapper(
            F("first_response_at") - F("arrived_at"), output_field=DurationField()
        ),
    )


def leads() -> QuerySet[Contact]:
    """Contacts in the lead stage, with their response times (see with_response_times)."""
    return with_response_times(
        Contact.objects.filter(lifecycle_stage=LifecycleStage.LEAD).select_related("company")
    )


class LeadFilter(ListFilter):
    """The leads list's filter, used by the page and the API."""

    orderings: ClassVar[dict[str, tuple[str, ...]]] = {
        "-created": ("-created_at", "-id"),
        "created": ("created_at", "id"),
    }
    default_ordering: ClassVar[str] = "-created"

    q: str | None = Field(None, max_length=200, description="Search in name, e-mail and phone")
    source: str | None = Field(None, max_length=100, description="Acquisition source (exact)")
    waiting: bool | None = Field(None, description="true: no reply yet; false: replied")
    ordering: Literal["-created", "created"] | None = None

    def filter_q(self, value: str | None) -> Q:
        return every_word(
            value, "first_name__icontains", "last_name__icontains", "email__icontains", "phone__icontains"
        )

    def filter_source(self, value: str | None) -> Q:
        return Q(source=value) if value is not None else Q()

    def filter_waiting(self, value: bool | None) -> Q:
        return Q() if value is None else Q(first_response_at__isnull=value)


def lead_sources(limit: int = 50) -> list[str]:
    """The sources leads came from, for the filter's choices (bounded)."""
    sources = (
        Contact.objects.filter(lifecycle_stage=LifecycleStage.LEAD)
        .exclude(source="")
        .order_by("source")
        .values_list("source", flat=True)
        .distinct()
    )
    return list(sources[:limit])


def _arrived_since(since: datetime) -> QuerySet[Contact]:
    """Contacts that arrived since ``since``; the cheap pre-filter (created since, or sent a
    form since) keeps the per-contact subqueries to the recent few."""
    # A UNION of two index range scans: an OR of the two conditions makes PostgreSQL read the
    # whole contacts table (37 ms against 12 ms at 100k contacts).
    created = Contact.objects.filter(created_at__gte=since).order_by().values("pk")
    submitted = (
        FormSubmission.objects.filter(created_at__gte=since, contact__isnull=False)
        .order_by()
        .values("contact_id")
    )
    recent = Contact.objects.filter(pk__in=created.union(submitted))
    return with_response_times(recent).filter(arrived_at__gte=since)


def leads_waiting_for_reply(
    limit: int = 20, *, days: int = 30, now: datetime | None = None, newest_first: bool = False
) -> list[Contact]:
    """Leads that arrived in the last ``days`` days and got no e-mail, call or meeting since,
    the longest waiting first, or the freshest (the Today page: a reply within the hour wins
    the most leads). Each has ``arrived_at``."""
    since = (now or timezone.now()) - timedelta(days=days)
    waiting = _arrived_since(since).filter(
        lifecycle_stage=LifecycleStage.LEAD, first_response_at__isnull=True
    )
    order = ("-arrived_at", "-id") if newest_first else ("arrived_at", "id")
    return list(waiting.order_by(*order)[:limit])


@dataclass(frozen=True)
class SpeedToLead:
    """Speed-to-lead over the leads that arrived in the last ``days`` days."""

    days: int
    leads: int
    replied: int
    median: timedelta | None
    average: timedelta | None

    @property
    def waiting(self) -> int:
        return self.leads - self.replied


def speed_to_lead(days: int, *, now: datetime | None = None) -> SpeedToLead:
    """Median and average time from arrival to the first response, in SQL (two queries).

    The leads counted are the contacts that arrived in the window and are still leads, came
    through a form, or were converted from a lead (a converted lead must not leave the figures).
    The median is read with ORDER BY … LIMIT 1 or 2 OFFSET (n-1)/2, which SQLite and PostgreSQL
    both run in the database, so no list of durations is loaded."""
    since = (now or timezone.now()) - timedelta(days=days)
    was_lead = (
        Q(lifecycle_stage=LifecycleStage.LEAD)
        | Exists(FormSubmission.objects.filter(contact=OuterRef("pk")))
        | Exists(
            Interaction.objects.filter(
                contact=OuterRef("pk"), kind=InteractionKind.SYSTEM, data__event=CONVERTED
            )
        )
    )
    population = _arrived_since(since).filter(was_lead)
    totals = population.aggregate(
        leads=Count("pk"), replied=Count("first_response_at"), average=Avg("response_time")
    )
    replied = totals["replied"]
    median = None
    if replied:
        middle = list(
            population.filter(first_response_at__isnull=False)
            .order_by("response_time")
            .values_list("response_time", flat=True)[(replied - 1) // 2 : replied // 2 + 1]
        )
        median = sum(middle, timedelta()) / len(middle)
    return SpeedToLead(days, totals["leads"], replied, median, _as_duration(totals["average"]))


SPEED_CACHE_SECONDS = 120


def speed_to_lead_summary(windows: tuple[int, ...] = (30, 90)) -> list[SpeedToLead]:
    """speed_to_lead for each window, kept SPEED_CACHE_SECONDS in the cache: the figures move
    slowly, and with many recent contacts the queries cost more than the rest of a page."""
    key = "solocrm:leads:speed:" + ",".join(str(days) for days in windows)
    return cache.get_or_set(key, lambda: [speed_to_lead(days) for days in windows], SPEED_CACHE_SECONDS)


def _as_duration(value: Any) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(microseconds=float(value))  # SQLite averages the stored microseconds


# --- converting a lead ------------------------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    contact: Contact
    deal: Deal | None


@transaction.atomic
def convert_lead(
    contact: Contact,
    *,
    to_customer: bool,
    open_deal: bool,
    deal_title: str = "",
    amount: Decimal = Decimal("0.00"),
    currency: str = "",
    actor=None,
) -> Conversion:
    """Make a lead a customer (``to_customer``) or else a prospect, and/or open a deal for it
    with the contact's source. Raises Conflict when the contact is no longer a lead, and
    ValueError (StageError) when no deal can be opened; nothing changes then."""
    contact = Contact.objects.select_for_update(of=("self",)).select_related("company").get(pk=contact.pk)
    if contact.lifecycle_stage != LifecycleStage.LEAD:
        raise Conflict(_("%(name)s is not a lead any more.") % {"name": contact})
    stage = LifecycleStage.CUSTOMER if to_customer else LifecycleStage.PROSPECT
    changes = apply_changes(contact, {"lifecycle_stage": stage})
    save_validated(contact)
    deal = None
    if open_deal:
        title = deal_title.strip() or _("Deal with %(name)s") % {"name": contact}
        deal_data: dict[str, Any] = {"title": title[:200], "contact": contact, "amount": amount}
        deal_data["currency"] = currency or business_settings().currency
        deal = create_deal(deal_data, actor=actor)
        changes["deal"] = [None, str(deal.uuid)]
    Interaction.objects.create(
        contact=contact,
        company=contact.company,
        kind=InteractionKind.SYSTEM,
        subject=_("Converted from lead to %(stage)s") % {"stage": LifecycleStage(stage).label},
        occurred_at=timezone.now(),
        author=actor if getattr(actor, "is_authenticated", False) else None,
        deal=deal,
        data={"event": CONVERTED, "to": stage, "deal": str(deal.uuid) if deal else None},
    )
    AuditLog.record(actor, "lead.convert", contact, summary=str(contact), changes=changes)
    return Conversion(contact, deal)
