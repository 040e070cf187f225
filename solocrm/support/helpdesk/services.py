"""The help desk's public side: the help form that turns a stranger's question into a ticket,
and the one-question CSAT survey sent when a ticket is solved.

Views (public and private), the API and the ticket hook call these functions. Two signed tokens
(django.core.signing, each with its own salt) carry everything a stranger may do:

- the *form token*, issued with each showing of the help form: at least a few seconds and at
  most a day old, spent once (a double click stores one ticket);
- the *CSAT token*, one per score in the e-mail: names the ticket and the score the link
  preselects; valid for CSAT_TOKEN_MAX_AGE, an edited one is refused.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from solocrm.contacts import identity
from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Contact, Interaction
from solocrm.contacts.services import Conflict, create_contact, update_contact
from solocrm.lib.business import business_settings
from solocrm.mail.models import MailMessage
from solocrm.mail.outgoing import send_mail
from solocrm.sales.orders.models import Order
from solocrm.support.kb.services import search_articles
from solocrm.support.tickets.choices import EventKind, TicketSource
from solocrm.support.tickets.hooks import on_solved
from solocrm.support.tickets.models import Ticket, TicketEvent
from solocrm.support.tickets.services import create_ticket, link
from solocrm.users.models import AuditLog

from .models import CSAT_MAX, CSAT_MIN, CsatAnswer

FORM_SALT = "solocrm.support.helpdesk.form"  # signing salts, not secrets
CSAT_SALT = "solocrm.support.helpdesk.csat"
TOKEN_MIN_AGE = 2  # people need longer to fill in a form; scripts do not
TOKEN_MAX_AGE = 24 * 3600  # a tab left open overnight still works the next morning
CSAT_TOKEN_MAX_AGE = 365 * 24 * 3600  # people answer late; the link keeps working for a year
DEFAULT_PUBLIC_URL = "http://localhost:8000"  # as the digests' links (docs/configuration.md)
# The CSAT e-mail leaves a few minutes after the ticket is solved (by the mail.send job).
CSAT_DELAY = timedelta(minutes=5)
MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]()#+!|<>~-]")

SUGGEST_WORDS = 3  # words of a subject searched one by one when the whole finds nothing
MIN_SUGGEST_WORD = 4

FIELD_MAX_LENGTHS = {"name": 200, "email": 254, "subject": 300, "message": 10000, "order_number": 100}


def help_form_enabled() -> bool:
    """Whether the public help form is open (SOLOCRM_HELP_FORM, on unless set to off)."""
    return bool(getattr(settings, "SOLOCRM_HELP_FORM", True))


# --- the help form's token ----------------------------------------------------------------------


class FormTokenError(ValueError):
    """The token of a submitted help form is missing, forged, expired or came back too fast."""

    def __init__(self, reason: Literal["forged", "expired", "too_fast"]) -> None:
        super().__init__(reason)
        self.reason = reason


def issue_form_token(*, now: float | None = None) -> str:
    """A token for one showing of the help form (no cookie needed)."""
    payload = {"t": round(time.time() if now is None else now, 3), "n": secrets.token_hex(4)}
    return signing.dumps(payload, salt=FORM_SALT)


def check_form_token(token: str, *, now: float | None = None) -> None:
    """Raise FormTokenError unless ``token`` was signed here between TOKEN_MIN_AGE and
    TOKEN_MAX_AGE seconds ago."""
    try:
        issued = float(signing.loads(token or "", salt=FORM_SALT)["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise FormTokenError("forged") from None
    age = (time.time() if now is None else now) - issued
    if age > TOKEN_MAX_AGE:
        raise FormTokenError("expired")
    if age < TOKEN_MIN_AGE:
        raise FormTokenError("too_fast")


def spend_form_token(token: str) -> bool:
    """Mark a token used; False when it was used before (a double click or a replay)."""
    key = f"helpform-token:{hashlib.sha256(token.encode()).hexdigest()}"
    return cache.add(key, 1, timeout=TOKEN_MAX_AGE + 60)


# --- a help request -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HelpRequest:
    """What a visitor sent through the help form, validated and normalised."""

    name: str
    email: str
    subject: str
    message: str
    order_number: str = ""


def split_name(name: str) -> tuple[str, str]:
    """("Ada", "Lovelace") from "Ada Lovelace"; a single word (or a CJK name) is a first name."""
    words = name.split()
    if len(words) < 2:
        return name.strip(), ""
    return " ".join(words[:-1]), words[-1]


def _lock_identity(email: str) -> None:
    """Serialise requests from the same address, so two at once cannot create two contacts.
    SQLite's IMMEDIATE transactions already run writers one at a time."""
    if connection.vendor != "postgresql" or not email:
        return
    key = int.from_bytes(hashlib.sha256(email.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def contact_for(request: HelpRequest) -> Contact:
    """The contact the request is about, by the shared identity rules (the same e-mail, primary
    or other), or a new one. Anybody can type anybody's address, so a known contact only gets
    the names it lacks: its e-mail, phone and company are never rewritten from a public form."""
    first, last = split_name(request.name)
    via = _("help form")
    contact, _reason = identity.find_contact(email=request.email, first_name=first, last_name=last)
    if contact is None:
        try:
            return create_contact({"first_name": first, "last_name": last, "email": request.email}, via=via)
        except Conflict:  # created by another writer between our look-up and our insert
            contact, _reason = identity.find_contact(email=request.email)
            if contact is None:
                raise
    missing = {k: v for k, v in (("first_name", first), ("last_name", last)) if v and not getattr(contact, k)}
    return update_contact(contact, missing, via=via) if missing else contact


def _body(request: HelpRequest) -> str:
    if not request.order_number:
        return request.message
    line = _("Order number: %(number)s") % {"number": request.order_number}
    return f"{request.message}\n\n{line}"


def _their_order(contact: Contact, number: str) -> Order | None:
    """The order with this number, only when it is the contact's own (a stranger's guess at
    someone else's order number links nothing)."""
    if not number:
        return None
    return Order.objects.filter(contact=contact, number=number).order_by("-id").first()


def open_ticket(contact: Contact, subject: str, body: str) -> Ticket:
    """The one place the help desk creates tickets (solocrm.support.tickets.services; ``link``
    below is the other call into them)."""
    return create_ticket(contact=contact, subject=subject, body=body, source=TicketSource.FORM)


def submit_help_request(request: HelpRequest) -> Ticket:
    """Turn one valid help request into a ticket (source "form"), in one transaction: the
    contact found or created, the ticket with the message as its first customer message, and
    the order linked when the number names one of the contact's orders."""
    with transaction.atomic():
        _lock_identity(identity.email_key(request.email))
        contact = contact_for(request)
        ticket = open_ticket(contact, request.subject, _body(request))
        order = _their_order(contact, request.order_number)
        if order is not None:
            ticket = link(ticket, user=None, order=order)  # the ticket's history says so
    return ticket


# --- the CSAT survey ----------------------------------------------------------------------------


class CsatTokenError(ValueError):
    """A CSAT link that was not signed here (edited, truncated), too old, or whose ticket is
    gone: all look alike to the visitor."""


@dataclass(frozen=True)
class CsatLink:
    ticket: Ticket
    score: int  # the score the link preselects


def csat_token(ticket: Ticket, score: int) -> str:
    return signing.dumps({"t": ticket.uuid.hex, "s": score}, salt=CSAT_SALT)


def csat_url(ticket: Ticket, score: int) -> str:
    """The link for one score: on SOLOCRM_PUBLIC_URL, else DEFAULT_PUBLIC_URL (the e-mail is
    written when a ticket is solved, from a request or a job, with no visitor's address to ask)."""
    path = reverse("helpdesk_public:csat", args=[csat_token(ticket, score)])
    return (settings.SOLOCRM_PUBLIC_URL or DEFAULT_PUBLIC_URL) + path


def read_csat_token(token: str) -> CsatLink:
    """The ticket and preselected score of a CSAT link; raises CsatTokenError otherwise."""
    try:
        payload = signing.loads(token or "", salt=CSAT_SALT, max_age=CSAT_TOKEN_MAX_AGE)
        score, key = int(payload["s"]), str(payload["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise CsatTokenError from None
    ticket = Ticket.objects.filter(uuid=key).select_related("contact").first() if len(key) == 32 else None
    if ticket is None or ticket.contact is None or ticket.solved_at is None:
        raise CsatTokenError
    return CsatLink(ticket, min(max(score, CSAT_MIN), CSAT_MAX))


def answer_of(ticket: Ticket) -> CsatAnswer | None:
    return CsatAnswer.objects.filter(ticket=ticket).first()


def record_csat(ticket: Ticket, score: int, comment: str = "", *, now: datetime | None = None) -> CsatAnswer:
    """Record the ticket's one CSAT answer, or change it: the answer row, its one timeline entry
    (kind survey, data {"metric": "csat", "score": n}, rewritten on a change so the
    satisfaction analytics count it once) and a "csat" event on the ticket."""
    if not CSAT_MIN <= score <= CSAT_MAX or ticket.contact_id is None:
        raise ValueError("score out of range or ticket without contact")
    now = now or timezone.now()
    with transaction.atomic():
        answer = CsatAnswer.objects.select_for_update().filter(ticket=ticket).first()
        changed = answer is not None
        if answer is None:
            try:
                with transaction.atomic():
                    answer = _first_answer(ticket, score, comment, now)
            except IntegrityError:  # the same ticket answered at the same moment elsewhere
                answer = CsatAnswer.objects.select_for_update().get(ticket=ticket)
                changed = True
        if changed:
            _change_answer(answer, score, comment, now)
        TicketEvent.objects.create(
            ticket=ticket,
            kind=EventKind.CSAT,
            body=comment,
            # "to": what the ticket page's history prints after the event's name ("… : 4 / 5")
            data={"score": score, "changed": changed, "to": f"{score} / {CSAT_MAX}"},
            created_at=now,
        )
        summary = f"#{ticket.number}: {score}" + (" (changed)" if changed else "")
        AuditLog.record(None, "ticket.csat", ticket, summary=summary)
    return answer


def _survey_data(score: int, ticket: Ticket) -> dict:
    return {"metric": "csat", "score": score, "ticket": str(ticket.uuid)}


def _first_answer(ticket: Ticket, score: int, comment: str, now: datetime) -> CsatAnswer:
    contact = ticket.contact
    entry = Interaction.objects.create(
        contact=contact,
        company=contact.company,
        kind=InteractionKind.SURVEY,
        subject=_("Satisfaction with ticket #%(number)s") % {"number": ticket.number},
        body=comment,
        occurred_at=now,
        data=_survey_data(score, ticket),
    )
    return CsatAnswer.objects.create(
        ticket=ticket, contact=contact, score=score, comment=comment, interaction=entry, answered_at=now
    )


def _change_answer(answer: CsatAnswer, score: int, comment: str, now: datetime) -> None:
    answer.score, answer.comment, answer.changed_at = score, comment, now
    answer.save(update_fields=["score", "comment", "changed_at"])
    Interaction.objects.filter(pk=answer.interaction_id).update(
        body=comment, data=_survey_data(score, answer.ticket)
    )


def _markdown_text(text: str) -> str:
    """``text`` shown as typed in Markdown (a subject like "[x](y)" stays text, not a link)."""
    return MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)


def csat_mail_body(ticket: Ticket) -> str:
    """The CSAT e-mail (Markdown; send_mail fills ``{{ ticket_subject }}``, so nothing the
    customer typed is read as a merge field): one question, five links, each opening the answer
    page with its score preselected (the page's button records it, never the link)."""
    labels = {
        1: _("Very dissatisfied"),
        2: _("Dissatisfied"),
        3: _("Neutral"),
        4: _("Satisfied"),
        5: _("Very satisfied"),
    }
    intro = _("Your request “%(subject)s” (#%(number)s) is solved. How satisfied are you with our help?") % {
        "subject": "{{ ticket_subject }}",
        "number": ticket.number,
    }
    links = [f"- [{score} – {labels[score]}]({csat_url(ticket, score)})" for score in range(CSAT_MAX, 0, -1)]
    outro = _("One click opens a page where you confirm your answer; you can change it later.")
    return "\n\n".join([intro, "\n".join(links), outro])


def send_csat_question(ticket: Ticket, *, now: datetime | None = None) -> MailMessage | None:
    """Schedule the CSAT e-mail to the ticket's contact CSAT_DELAY from now (the mail.send job
    sends it: no mail server is waited for inside the request that solved the ticket), unless
    they cannot be reached or already answered: a reopened and solved-again ticket asks again
    only when it had no answer."""
    contact = ticket.contact
    if contact is None or not contact.email or CsatAnswer.objects.filter(ticket=ticket).exists():
        return None
    with translation.override(business_settings().language):
        return send_mail(
            to=contact,
            subject=_("How did we do? (#%(number)s)") % {"number": ticket.number},
            body=csat_mail_body(ticket),
            thread=ticket.thread,
            send_at=(now or timezone.now()) + CSAT_DELAY,
            merge={"ticket_subject": _markdown_text(ticket.subject)},
        )


@on_solved
def ask_for_satisfaction(ticket: Ticket) -> None:
    send_csat_question(ticket)


# --- suggestions on the help form ---------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    title: str
    url: str


def _search(query: str, language: str | None, limit: int) -> list:
    found = search_articles(query, language=language, limit=limit)
    if not found and language:  # a visitor writing in another language than the page's
        found = search_articles(query, limit=limit)
    return found


def suggested_articles(query: str, language: str | None = None, limit: int = 5) -> list[Suggestion]:
    """Published knowledge-base articles that may answer ``query`` before a ticket is needed,
    each linked in the language version that matched. The search wants every word, so a whole
    sentence ("refund my order") falls back to its SUGGEST_WORDS longest words one by one."""
    found = _search(query, language, limit)
    if not found:
        words = sorted({w for w in query.split() if len(w) >= MIN_SUGGEST_WORD}, key=len, reverse=True)
        for word in words[:SUGGEST_WORDS] if len(words) > 1 else []:
            found += [a for a in _search(word, language, limit) if a.pk not in {f.pk for f in found}]
    return [Suggestion(a.found.title, a.get_absolute_url(a.found.language)) for a in found[:limit]]
