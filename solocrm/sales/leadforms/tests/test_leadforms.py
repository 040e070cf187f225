"""The lead form and leads services: submitting (de-duplication, consent, timeline, task, owner
e-mail), the form token, follow-up due times, speed-to-lead and converting a lead."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail, signing
from django.utils import timezone

from solocrm.contacts.choices import InteractionKind, LifecycleStage
from solocrm.contacts.dedupe import find_duplicate_candidates
from solocrm.contacts.models import Company, Contact, Interaction
from solocrm.contacts.services import Conflict
from solocrm.sales.choices import Priority, TaskKind
from solocrm.sales.deals.models import Deal
from solocrm.sales.leadforms import services as leadforms
from solocrm.sales.leadforms.models import FormSubmission, LeadForm
from solocrm.sales.tasks.models import Task
from solocrm.users.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_form(owner) -> LeadForm:
    return leadforms.create_lead_form(
        {
            "name": "Website",
            "fields": ["message", "email", "first_name", "last_name", "phone", "company"],
            "required_fields": ["email"],
            "consent_text": "Send me the newsletter.",
            "source": "website",
        },
        actor=owner,
    )


def _submit(lead_form: LeadForm, **answers) -> FormSubmission:
    consent = answers.pop("consent", False)
    return leadforms.submit_lead_form(lead_form, answers, consent=consent, base_url="https://crm.example.com")


# --- managing forms ---------------------------------------------------------------------------


def test_a_new_form_keeps_its_fields_in_the_canonical_order_and_is_audited(lead_form, owner):
    assert lead_form.fields == ["first_name", "last_name", "email", "phone", "company", "message"]
    assert AuditLog.objects.filter(action="leadform.create", actor=owner).count() == 1


@pytest.mark.parametrize(
    ("fields", "required", "field"),
    [
        (["first_name", "message"], [], "fields"),  # no way to reply
        (["email"], ["phone"], "required_fields"),  # required but not asked
        (["email", "shoe_size"], [], "fields"),
    ],
)
def test_a_form_that_cannot_work_is_refused(owner, fields, required, field):
    with pytest.raises(leadforms.FieldChoiceError) as error:
        leadforms.create_lead_form({"name": "Bad", "fields": fields, "required_fields": required})
    assert error.value.field == field
    assert not LeadForm.objects.exists()


def test_counting_submissions_takes_one_query(lead_form, django_assert_num_queries):
    _submit(lead_form, email="a@example.com")
    _submit(lead_form, email="b@example.com")
    with django_assert_num_queries(1):
        assert [f.submission_count for f in leadforms.lead_forms()] == [2]


def test_deleting_a_form_keeps_the_contacts_it_brought(lead_form, owner):
    _submit(lead_form, email="a@example.com")
    leadforms.delete_lead_form(lead_form, actor=owner)
    assert not FormSubmission.objects.exists()
    assert Contact.objects.filter(email="a@example.com").exists()


# --- submitting -------------------------------------------------------------------------------


def test_a_new_visitor_becomes_a_lead_with_the_forms_source(lead_form, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submission = _submit(
            lead_form, email="ada@example.com", first_name="Ada", company="Engines", message="Call me"
        )
    contact = submission.contact
    assert (contact.lifecycle_stage, contact.source, contact.company.name) == ("lead", "website", "Engines")
    entry = Interaction.objects.get(contact=contact, kind=InteractionKind.FORM)
    assert (entry.subject, entry.body, entry.data["answers"]["first_name"]) == ("Website", "Call me", "Ada")
    task = Task.objects.get(contact=contact)
    assert (task.kind, task.priority, task.done_at) == (TaskKind.FOLLOW_UP, Priority.HIGH, None)
    assert task.assignee == lead_form.created_by  # the owner who set the form up
    assert submission.created_at < task.due_at <= submission.created_at + timedelta(hours=24)
    assert AuditLog.objects.filter(action="leadform.submit", object_uuid=submission.uuid).exists()


def test_the_same_email_in_another_case_and_with_spaces_is_the_same_contact(lead_form):
    first = _submit(lead_form, email="ada@example.com")
    # The web form normalises before calling the service, as lib.normalize does everywhere.
    from solocrm.lib.normalize import normalize_email

    second = _submit(lead_form, email=normalize_email("  ADA@Example.COM "))
    assert first.contact == second.contact
    assert Contact.objects.count() == 1


def test_a_phone_match_finds_the_contact_when_nothing_disagrees(lead_form):
    known = Contact.objects.create(first_name="Grace", phone="+12025550143")
    submission = _submit(lead_form, phone="+12025550143")
    assert submission.contact == known


def test_a_shared_phone_with_another_email_is_someone_else(lead_form):
    """The identity rules (contacts/identity.py): an office line shared by several people must
    not pour one person's submission into another's contact; the pair is a duplicate candidate."""
    known = Contact.objects.create(first_name="Grace", email="grace@navy.mil", phone="+12025550143")
    submission = _submit(lead_form, email="grace@home.example", phone="+12025550143")
    known.refresh_from_db()
    assert submission.contact != known
    assert submission.contact.email == "grace@home.example"
    assert (known.email, known.other_emails) == ("grace@navy.mil", [])
    (candidate,) = find_duplicate_candidates()
    assert candidate.reason == "shared_phone"


def test_a_stranger_cannot_give_a_known_contact_their_own_address_or_consent(lead_form):
    """Matched by phone, a contact with no e-mail must not get the visitor's: the next quote
    would go to them."""
    known = Contact.objects.create(first_name="Grace", phone="+12025550143")
    _submit(lead_form, email="mallory@evil.test", phone="+12025550143", consent=True)
    known.refresh_from_db()
    assert (known.email, known.other_emails, known.email_consent) == ("", [], False)


def test_an_email_match_wins_over_a_phone_match(lead_form):
    by_phone = Contact.objects.create(first_name="Phone", phone="+12025550143")
    by_email = Contact.objects.create(first_name="Mail", email="m@example.com")
    assert _submit(lead_form, email="m@example.com", phone="+12025550143").contact == by_email
    assert by_phone.form_submissions.count() == 0


def test_nothing_an_existing_contact_has_is_overwritten(lead_form):
    company = Company.objects.create(name="Navy")
    known = Contact.objects.create(
        first_name="Grace", last_name="", email="grace@navy.mil", company=company, source="referral"
    )
    _submit(lead_form, email="grace@navy.mil", first_name="Mallory", last_name="Hopper", company="Evil Inc")
    known.refresh_from_db()
    assert (known.first_name, known.last_name, known.company, known.source) == (
        "Grace",
        "Hopper",
        company,
        "referral",
    )
    assert not Company.objects.filter(name="Evil Inc").exists()


def test_an_existing_customer_stays_a_customer(lead_form):
    customer = Contact.objects.create(email="c@example.com", lifecycle_stage=LifecycleStage.CUSTOMER)
    _submit(lead_form, email="c@example.com")
    customer.refresh_from_db()
    assert customer.lifecycle_stage == LifecycleStage.CUSTOMER


def test_a_typed_company_is_matched_by_name_regardless_of_case(lead_form):
    engines = Company.objects.create(name="Analytical Engines")
    assert _submit(lead_form, email="x@example.com", company="analytical engines").contact.company == engines


def test_consent_is_given_with_the_form_as_source_and_the_text_is_stored(lead_form):
    submission = _submit(lead_form, email="ada@example.com", consent=True)
    contact = submission.contact
    assert (contact.email_consent, contact.email_consent_source) == (True, "form: Website")
    assert contact.email_consent_at is not None
    assert (submission.consent_given, submission.consent_text) == (True, "Send me the newsletter.")


def test_not_ticking_consent_never_withdraws_it(lead_form):
    known = Contact.objects.create(email="ada@example.com")
    known.give_consent("import: list.csv")
    known.save()
    submission = _submit(lead_form, email="ada@example.com")
    known.refresh_from_db()
    assert (known.email_consent, submission.consent_text) == (True, "")


def test_the_owners_get_an_email_with_a_link_to_the_contact(
    lead_form, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submission = _submit(lead_form, email="ada@example.com", first_name="Ada", message="<b>hi</b>")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]
    assert "Website" in message.subject and "Ada" in message.subject
    assert f"https://crm.example.com/contacts/{submission.contact.uuid}/" in message.body
    assert "<b>hi</b>" in message.body  # plain text: nothing to escape, nothing lost


def test_no_email_is_sent_when_the_form_says_so(lead_form, owner, django_capture_on_commit_callbacks):
    leadforms.update_lead_form(lead_form, {"notify_owner": False})
    with django_capture_on_commit_callbacks(execute=True):
        _submit(lead_form, email="ada@example.com")
    assert mail.outbox == []


def test_only_owners_are_emailed(lead_form, owner, assistant, viewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _submit(lead_form, email="ada@example.com")
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_a_failing_mail_server_loses_no_lead_and_is_logged(
    lead_form, owner, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("smtp is down")

    monkeypatch.setattr(leadforms, "send_mail", broken)
    with django_capture_on_commit_callbacks(execute=True):
        submission = _submit(lead_form, email="ada@example.com")
    assert FormSubmission.objects.filter(pk=submission.pk).exists()
    assert "could not e-mail the owners" in caplog.text


def test_a_failure_half_way_stores_nothing(lead_form, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("task table is gone")

    monkeypatch.setattr(leadforms, "create_task", broken)
    with pytest.raises(RuntimeError):
        _submit(lead_form, email="ada@example.com")
    assert not Contact.objects.exists() and not FormSubmission.objects.exists()


# --- the form token ---------------------------------------------------------------------------


def test_a_token_of_the_right_age_passes_and_carries_the_page(lead_form):
    token = leadforms.issue_form_token(
        lead_form, page_url="https://shop.example/contact", now=time.time() - 10
    )
    checked = leadforms.check_form_token(lead_form, token)
    assert checked.page_url == "https://shop.example/contact"
    assert leadforms.consent_text_unchanged(lead_form, checked)


@pytest.mark.parametrize(("age", "reason"), [(0.5, "too_fast"), (leadforms.TOKEN_MAX_AGE + 5, "expired")])
def test_a_token_too_young_or_too_old_is_refused(lead_form, age, reason):
    token = leadforms.issue_form_token(lead_form, now=time.time() - age)
    with pytest.raises(leadforms.FormTokenError) as error:
        leadforms.check_form_token(lead_form, token)
    assert error.value.reason == reason


def test_a_forged_token_or_one_of_another_form_is_refused(lead_form):
    other = leadforms.create_lead_form({"name": "Other", "fields": ["email"], "required_fields": ["email"]})
    old = time.time() - 10
    forged = signing.dumps({"f": lead_form.uuid.hex, "t": old, "c": "", "p": ""}, salt="guessed")
    for token in ("", "garbage", forged, leadforms.issue_form_token(other, now=old)):
        with pytest.raises(leadforms.FormTokenError) as error:
            leadforms.check_form_token(lead_form, token)
        assert error.value.reason == "forged"


def test_a_changed_consent_text_is_noticed(lead_form):
    token = leadforms.check_form_token(lead_form, leadforms.issue_form_token(lead_form, now=time.time() - 10))
    leadforms.update_lead_form(lead_form, {"consent_text": "Sell my data."})
    assert not leadforms.consent_text_unchanged(lead_form, token)


# --- follow-up due time -----------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("arrived", "due"),
    [
        (datetime(2026, 12, 1, 10, 0), datetime(2026, 12, 1, 14, 0)),  # Tuesday morning
        (datetime(2026, 12, 1, 15, 0), datetime(2026, 12, 2, 11, 0)),  # two hours left today
        (datetime(2026, 12, 1, 20, 0), datetime(2026, 12, 2, 13, 0)),  # evening: next morning
        (datetime(2026, 12, 5, 11, 0), datetime(2026, 12, 6, 11, 0)),  # Saturday: capped at 24 h
    ],
)
def test_the_follow_up_is_due_four_working_hours_later_at_most_a_day(settings, arrived, due):
    settings.TIME_ZONE = "Europe/Berlin"
    with timezone.override(BERLIN):
        result = leadforms.follow_up_due(arrived.replace(tzinfo=BERLIN))
    assert result == due.replace(tzinfo=BERLIN)


# --- leads and speed-to-lead ------------------------------------------------------------------


def _lead(name: str, arrived: datetime, reply_after: timedelta | None = None, kind=InteractionKind.EMAIL_OUT):
    contact = Contact.objects.create(first_name=name, lifecycle_stage=LifecycleStage.LEAD)
    Contact.objects.filter(pk=contact.pk).update(created_at=arrived)
    if reply_after is not None:
        Interaction.objects.create(contact=contact, kind=kind, occurred_at=arrived + reply_after)
    return contact


def test_speed_to_lead_gives_the_median_and_average_first_response(db):
    now = timezone.now()
    _lead("one", now - timedelta(days=2), timedelta(hours=1))
    _lead("two", now - timedelta(days=3), timedelta(hours=3), InteractionKind.CALL)
    _lead("three", now - timedelta(days=4), timedelta(hours=8), InteractionKind.MEETING)
    _lead("four", now - timedelta(days=5), timedelta(hours=20))
    _lead("waiting", now - timedelta(days=1))
    _lead("old", now - timedelta(days=60), timedelta(hours=100))
    thirty = leadforms.speed_to_lead(30)
    assert (thirty.leads, thirty.replied, thirty.waiting) == (5, 4, 1)
    assert thirty.median == timedelta(hours=5.5)  # the mean of 3 h and 8 h
    assert thirty.average == timedelta(hours=8)
    ninety = leadforms.speed_to_lead(90)
    assert (ninety.leads, ninety.median, ninety.average) == (6, timedelta(hours=8), timedelta(hours=132 / 5))


def test_only_outbound_contact_after_arrival_counts_as_a_response(db):
    now = timezone.now()
    lead = _lead("one", now - timedelta(days=2))
    Interaction.objects.create(contact=lead, kind=InteractionKind.NOTE, occurred_at=now - timedelta(days=1))
    Interaction.objects.create(
        contact=lead, kind=InteractionKind.EMAIL_IN, occurred_at=now - timedelta(days=1)
    )
    Interaction.objects.create(contact=lead, kind=InteractionKind.CALL, occurred_at=now - timedelta(days=3))
    assert leadforms.leads().get(pk=lead.pk).first_response_at is None
    assert leadforms.speed_to_lead(30).replied == 0


def test_a_form_submission_is_the_arrival_of_an_old_contact(lead_form):
    old = Contact.objects.create(email="old@example.com", lifecycle_stage=LifecycleStage.LEAD)
    Contact.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    submission = _submit(lead_form, email="old@example.com")
    assert leadforms.leads().get(pk=old.pk).arrived_at == submission.created_at


def test_a_converted_lead_still_counts_in_speed_to_lead(owner):
    now = timezone.now()
    lead = _lead("one", now - timedelta(days=2), timedelta(hours=2))
    leadforms.convert_lead(lead, to_customer=True, open_deal=False, actor=owner)
    stats = leadforms.speed_to_lead(30)
    assert (stats.leads, stats.median) == (1, timedelta(hours=2))


def test_imported_customers_are_not_counted_as_leads(db):
    Contact.objects.create(first_name="Buyer", lifecycle_stage=LifecycleStage.CUSTOMER)
    assert leadforms.speed_to_lead(30).leads == 0


def test_speed_to_lead_with_no_leads_has_no_figures(db):
    stats = leadforms.speed_to_lead(30)
    assert (stats.leads, stats.median, stats.average) == (0, None, None)


def test_leads_waiting_for_reply_come_oldest_first_and_recent_only(db):
    now = timezone.now()
    _lead("replied", now - timedelta(hours=5), timedelta(hours=1))
    newer = _lead("newer", now - timedelta(hours=2))
    older = _lead("older", now - timedelta(hours=9))
    _lead("ancient", now - timedelta(days=200))
    Contact.objects.create(first_name="customer", lifecycle_stage=LifecycleStage.CUSTOMER)
    waiting = leadforms.leads_waiting_for_reply(10)
    assert waiting == [older, newer]
    assert waiting[0].arrived_at == Contact.objects.get(pk=older.pk).created_at
    assert leadforms.leads_waiting_for_reply(1) == [older]


def test_the_lead_filter_finds_waiting_ones_and_sources(db):
    now = timezone.now()
    replied = _lead("replied", now - timedelta(hours=5), timedelta(hours=1))
    waiting = _lead("waiting", now - timedelta(hours=2))
    Contact.objects.filter(pk=waiting.pk).update(source="fair")

    def names(**params):
        return [c.first_name for c in leadforms.LeadFilter(**params).apply(leadforms.leads())]

    assert names(waiting=True) == ["waiting"]
    assert names(waiting=False) == [replied.first_name]
    assert names(source="fair") == ["waiting"]
    assert names() == ["waiting", "replied"]  # newest first
    assert leadforms.lead_sources() == ["fair"]


# --- converting -------------------------------------------------------------------------------


def test_converting_makes_a_customer_and_opens_a_deal_with_the_source(owner):
    lead = Contact.objects.create(first_name="Ada", source="fair")
    result = leadforms.convert_lead(
        lead, to_customer=True, open_deal=True, deal_title="Workshop", amount=Decimal("1200.00"), actor=owner
    )
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.CUSTOMER
    deal = Deal.objects.get()
    assert (deal, deal.title, deal.amount, deal.source, deal.contact) == (
        result.deal,
        "Workshop",
        Decimal("1200.00"),
        "fair",
        lead,
    )
    entry = Interaction.objects.get(contact=lead, kind=InteractionKind.SYSTEM, data__event="lead_converted")
    assert entry.deal == deal
    assert AuditLog.objects.get(action="lead.convert").changes["lifecycle_stage"] == ["lead", "customer"]


def test_converting_without_a_deal_makes_a_prospect(owner):
    lead = Contact.objects.create(first_name="Ada")
    result = leadforms.convert_lead(lead, to_customer=False, open_deal=False, actor=owner)
    assert (result.contact.lifecycle_stage, result.deal) == (LifecycleStage.PROSPECT, None)
    assert not Deal.objects.exists()


def test_a_contact_that_is_no_lead_cannot_be_converted(owner):
    customer = Contact.objects.create(first_name="Ada", lifecycle_stage=LifecycleStage.CUSTOMER)
    with pytest.raises(Conflict):
        leadforms.convert_lead(customer, to_customer=False, open_deal=True, actor=owner)
    assert not Deal.objects.exists()
    assert not AuditLog.objects.filter(action="lead.convert").exists()
