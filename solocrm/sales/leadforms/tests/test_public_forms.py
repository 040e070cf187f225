"""The public lead form at /f/<uuid>/ and /f/<uuid>/embed/, as a stranger with no session meets it."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from solocrm.contacts.choices import InteractionKind
from solocrm.contacts.models import Contact, Interaction
from solocrm.sales.leadforms import services as leadforms
from solocrm.sales.leadforms.models import FormSubmission, LeadForm
from solocrm.sales.tasks.models import Task

pytestmark = pytest.mark.django_db

TOKEN = re.compile(rb'name="token" value="[^"]*"')


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def stranger() -> Client:
    # A stranger's browser: no session, and Django's CSRF check switched on as in real life.
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def lead_form(owner) -> LeadForm:
    return leadforms.create_lead_form(
        {
            "name": "Website",
            "title": "Talk to us",
            "fields": ["first_name", "last_name", "email", "phone", "message"],
            "required_fields": ["email"],
            "consent_text": "Send me the newsletter.",
            "source": "website",
            "thank_you": "We reply within a day.",
        },
        actor=owner,
    )


def _url(form: LeadForm, embed: bool = False) -> str:
    return f"/f/{form.uuid}/" + ("embed/" if embed else "")


def _token(form: LeadForm, age: float = 10) -> str:
    return leadforms.issue_form_token(form, now=time.time() - age)


def _post(client: Client, form: LeadForm, embed: bool = False, **data):
    data.setdefault("token", _token(form))
    return client.post(_url(form, embed), data)


# --- showing the form -------------------------------------------------------------------------


def test_a_stranger_sees_a_standalone_page_without_cookies(stranger, lead_form):
    response = stranger.get(_url(lead_form))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Talk to us" in html and 'name="email"' in html and "Send me the newsletter." in html
    assert "main-nav" not in html and "<script" not in html
    assert not response.cookies  # no session, no CSRF cookie: works with cookies blocked
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_the_owner_logged_in_sees_no_user_data_on_the_public_page(owner_client, owner, lead_form):
    html = owner_client.get(_url(lead_form)).content.decode()
    assert owner.username not in html and "Log out" not in html


def test_the_embed_may_be_framed_by_any_site_and_the_rest_may_not(stranger, lead_form):
    response = stranger.get(_url(lead_form, embed=True))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert f'action="/f/{lead_form.uuid}/embed/"' in response.content.decode()
    assert stranger.get("/accounts/login/")["X-Frame-Options"] == "DENY"


def test_the_consent_box_shows_only_with_a_consent_text(stranger, lead_form):
    leadforms.update_lead_form(lead_form, {"consent_text": ""})
    assert 'name="consent"' not in stranger.get(_url(lead_form)).content.decode()


def test_required_fields_are_marked_and_the_honeypot_is_hidden_by_a_class(stranger, lead_form):
    html = stranger.get(_url(lead_form)).content.decode()
    assert "E-mail (required)" in html and "First name (required)" not in html
    assert '<div class="hp-field" aria-hidden="true">' in html
    assert re.search(r'name="website"[^>]*tabindex="-1"', html)
    assert "style=" not in html


@pytest.mark.parametrize("which", ["unknown", "malformed", "inactive"])
def test_an_unavailable_form_is_one_neutral_404(stranger, lead_form, which):
    expected = stranger.get("/f/00000000-0000-7000-8000-000000000000/")
    if which == "inactive":
        leadforms.update_lead_form(lead_form, {"active": False})
        url = _url(lead_form)
    else:
        url = "/f/not-a-uuid/" if which == "malformed" else "/f/01234567-89ab-7def-8123-456789abcdef/"
    for response in (stranger.get(url), stranger.post(url, {"email": "a@example.com"})):
        assert response.status_code == 404
        assert response.content == expected.content
        assert b"This form is not available." in response.content
    assert not FormSubmission.objects.exists()


def test_other_methods_are_refused(stranger, lead_form):
    assert stranger.put(_url(lead_form)).status_code == 405


# --- sending it -------------------------------------------------------------------------------


def test_a_submission_makes_a_lead_and_thanks_the_visitor(
    stranger, lead_form, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            stranger, lead_form, first_name="ada", last_name="LOVELACE", email=" Ada@Example.com ",
            phone="(202) 555-0143", message="Hello", consent="on",
        )  # fmt: skip
    assert response.status_code == 200
    assert b"We reply within a day." in response.content
    contact = Contact.objects.get()
    assert (contact.full_name, contact.email, contact.phone) == (
        "ada LOVELACE",  # names keep the case they were typed in
        "ada@example.com",
        "+12025550143",
    )
    assert (contact.lifecycle_stage, contact.source, contact.email_consent) == ("lead", "website", True)
    submission = FormSubmission.objects.get()
    assert (submission.consent_text, submission.data["phone"]) == ("Send me the newsletter.", "+12025550143")
    assert submission.ip_hash
    assert Interaction.objects.filter(contact=contact, kind=InteractionKind.FORM).exists()
    assert Task.objects.filter(contact=contact, kind="follow_up").exists()
    assert len(mail.outbox) == 1


def test_the_same_person_twice_is_one_contact_whatever_the_case_and_spaces(stranger, lead_form):
    _post(stranger, lead_form, email="ada@example.com", first_name="Ada")
    _post(stranger, lead_form, email="  ADA@Example.COM ", last_name="Lovelace", phone="+1 202 555 0143")
    contact = Contact.objects.get()
    # Names fill in; the phone does not: a known contact's numbers only change by hand.
    assert (contact.full_name, contact.phone) == ("Ada Lovelace", "")
    assert contact.form_submissions.count() == 2
    assert Task.objects.filter(contact=contact).count() == 2  # every message gets its follow-up


def test_the_page_the_form_was_shown_on_is_kept(stranger, lead_form):
    page = stranger.get(_url(lead_form, embed=True), headers={"referer": "https://shop.example/contact"})
    token = re.search(r'name="token" value="([^"]*)"', page.content.decode())[1]
    # The token is fresh: pretend the visitor took a few seconds to type.
    payload = leadforms.check_form_token(lead_form, token, now=time.time() + 5)
    _post(stranger, lead_form, embed=True, email="a@example.com", token=leadforms.issue_form_token(
        lead_form, page_url=payload.page_url, now=time.time() - 5))  # fmt: skip
    assert FormSubmission.objects.get().page_url == "https://shop.example/contact"


def test_it_never_reveals_whether_the_email_was_known(stranger, lead_form):
    Contact.objects.create(first_name="Known", email="known@example.com", lifecycle_stage="customer")
    known = _post(stranger, lead_form, email="known@example.com", message="hi")
    new = _post(stranger, lead_form, email="new@example.com", message="hi")
    assert (known.status_code, new.status_code) == (200, 200)
    assert known.content == new.content
    # the same headers, but for the clock: two requests may fall either side of a second
    timeless = lambda response: sorted(  # noqa: E731
        (k, v) for k, v in response.headers.items() if k not in {"Expires", "Date"}
    )
    assert timeless(known) == timeless(new)
    assert FormSubmission.objects.count() == 2


def test_errors_read_the_same_for_a_known_and_a_new_email(stranger, lead_form):
    Contact.objects.create(email="known@example.com")
    known = _post(stranger, lead_form, email="known@example.com", phone="12")
    new = _post(stranger, lead_form, email="new@example.com", phone="12")
    assert known.status_code == new.status_code == 400
    assert TOKEN.sub(b"", known.content).replace(b"known@", b"new@") == TOKEN.sub(b"", new.content)


def test_a_filled_honeypot_gets_the_same_thanks_and_stores_nothing(stranger, lead_form):
    real = _post(stranger, lead_form, email="real@example.com")
    bot = _post(stranger, lead_form, email="bot@example.com", website="http://spam.example")
    assert (bot.status_code, bot.content) == (200, real.content)
    assert not Contact.objects.filter(email="bot@example.com").exists()
    assert FormSubmission.objects.count() == 1


def test_beyond_the_rate_limit_it_asks_to_try_later_and_stores_nothing(stranger, lead_form, settings):
    settings.SOLOCRM_FORM_RATE_LIMIT = 2
    for n in range(2):
        assert _post(stranger, lead_form, email=f"v{n}@example.com").status_code == 200
    response = _post(stranger, lead_form, email="third@example.com")
    assert response.status_code == 429
    assert b"Please try again later." in response.content
    assert (
        FormSubmission.objects.count() == 2 and not Contact.objects.filter(email="third@example.com").exists()
    )


def test_the_rate_limit_is_per_form(stranger, lead_form, settings):
    settings.SOLOCRM_FORM_RATE_LIMIT = 1
    other = leadforms.create_lead_form({"name": "Other", "fields": ["email"], "required_fields": ["email"]})
    assert _post(stranger, lead_form, email="a@example.com").status_code == 200
    assert _post(stranger, other, email="b@example.com").status_code == 200
    assert _post(stranger, lead_form, email="c@example.com").status_code == 429


@pytest.mark.parametrize(
    "token",
    ["", "forged", "too_fast", "expired", "other_form"],
)
def test_a_bad_token_shows_the_form_again_and_stores_nothing(stranger, lead_form, token):
    other = leadforms.create_lead_form({"name": "Other", "fields": ["email"], "required_fields": ["email"]})
    value = {
        "": "",
        "forged": _token(lead_form)[:-3] + "abc",
        "too_fast": _token(lead_form, age=0),
        "expired": _token(lead_form, age=leadforms.TOKEN_MAX_AGE + 60),
        "other_form": _token(other),
    }[token]
    response = _post(stranger, lead_form, email="ada@example.com", message="kept", token=value)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please check it and send it again." in html
    assert 'value="ada@example.com"' in html and "kept</textarea>" in html
    fresh = re.search(r'name="token" value="([^"]*)"', html)[1]
    assert fresh and fresh != value
    assert not Contact.objects.exists() and not FormSubmission.objects.exists()


def test_missing_and_invalid_fields_are_explained_and_the_input_kept(stranger, lead_form):
    response = _post(stranger, lead_form, first_name="Ada", email="not-an-address", phone="abc")
    assert response.status_code == 400
    html = response.content.decode()
    assert "is not a valid e-mail address" in html and "is not a phone number" in html
    assert 'value="Ada"' in html
    assert _post(stranger, lead_form, first_name="Ada").status_code == 400  # e-mail is required
    assert not Contact.objects.exists()


def test_a_form_with_optional_contact_fields_still_needs_one_of_them(stranger, lead_form):
    leadforms.update_lead_form(lead_form, {"required_fields": []})
    response = _post(stranger, lead_form, first_name="Ada", message="Call me maybe")
    assert response.status_code == 400
    assert b"Give an e-mail address or a phone number" in response.content
    assert _post(stranger, lead_form, phone="+44 20 7946 0958").status_code == 200
    assert Contact.objects.get().phone == "+442079460958"


def test_script_is_stored_as_text_and_shown_escaped(stranger, lead_form, owner_client):
    script = "<script>alert(1)</script>"
    response = _post(stranger, lead_form, first_name=script, email="bad", message=script)
    assert script.encode() not in response.content and b"&lt;script&gt;" in response.content
    _post(stranger, lead_form, first_name=script, email="x@example.com", message=script)
    contact = Contact.objects.get()
    assert contact.first_name == script
    for url in (f"/sales/forms/{lead_form.uuid}/", f"/contacts/{contact.uuid}/", "/sales/leads/"):
        page = owner_client.get(url).content
        assert script.encode() not in page, url
        assert b"&lt;script&gt;" in page, url


def test_oversize_fields_are_refused_with_a_reason(stranger, lead_form):
    response = _post(stranger, lead_form, email="a@example.com", message="x" * 5001, first_name="y" * 101)
    assert response.status_code == 400
    assert b"at most 5000 characters" in response.content and b"at most 100 characters" in response.content
    assert not Contact.objects.exists()


def test_a_huge_body_is_refused_before_it_is_read(stranger, lead_form):
    response = stranger.post(
        _url(lead_form), "email=a%40example.com&message=" + "x" * 200_000,
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert response.status_code == 413
    assert not FormSubmission.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [('{"email": "a@example.com"}', "application/json"), ("email=a@example.com", "text/plain")],
)
def test_other_content_types_are_refused(stranger, lead_form, body, content_type):
    response = stranger.post(_url(lead_form), body, content_type=content_type)
    assert response.status_code == 415
    assert not FormSubmission.objects.exists()


def test_multipart_posts_work_like_a_normal_form(stranger, lead_form):
    # Client.post without content_type sends multipart/form-data.
    assert _post(stranger, lead_form, email="a@example.com").status_code == 200
    assert FormSubmission.objects.count() == 1


def test_consent_to_a_text_changed_since_the_page_loaded_is_asked_again(stranger, lead_form):
    token = _token(lead_form)
    leadforms.update_lead_form(lead_form, {"consent_text": "Also share my data."})
    response = _post(stranger, lead_form, email="a@example.com", consent="on", token=token)
    assert response.status_code == 400
    assert b"This text changed since the page was loaded." in response.content
    assert b"Also share my data." in response.content
    assert not FormSubmission.objects.exists()


def test_without_the_box_ticked_nothing_is_consented(stranger, lead_form):
    _post(stranger, lead_form, email="a@example.com")
    assert (Contact.objects.get().email_consent, FormSubmission.objects.get().consent_given) == (False, False)


def test_the_embed_thanks_inside_the_frame(stranger, lead_form):
    response = _post(stranger, lead_form, embed=True, email="a@example.com")
    assert response.status_code == 200 and b"We reply within a day." in response.content
    assert "X-Frame-Options" not in response
    assert b'class="public-page embed"' in response.content


def test_a_token_sends_the_form_once_a_double_click_stores_one_lead(stranger, lead_form):
    token = _token(lead_form)
    first = _post(stranger, lead_form, email="ada@example.com", token=token)
    again = _post(stranger, lead_form, email="ada@example.com", token=token)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content  # the same thank-you page
    assert FormSubmission.objects.count() == 1


def test_a_flood_from_many_addresses_is_capped_per_form(lead_form, settings):
    settings.SOLOCRM_FORM_HOURLY_CAP = 2
    answers = []
    for n in range(3):
        visitor = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
        answers.append(_post(visitor, lead_form, email=f"v{n}@example.com").status_code)
    assert answers == [200, 200, 429]
    assert FormSubmission.objects.count() == 2
