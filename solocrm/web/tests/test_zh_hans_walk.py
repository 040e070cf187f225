"""Every page in Simplified Chinese: no English string of the catalog and no English date.

The test loads demo data (with a lead form, a sent quote, an import and an analytics refresh on
top, so that every kind of page has something to show), logs in as the owner with the language
set to zh-hans, and GETs every page the URL configuration has (one object of each kind for the
detail pages), plus a few states that only a query string or a failed form shows. From each HTML
page it takes the text a person sees or hears: text nodes (not scripts, styles or templates) and
the attributes that are read out or shown (title, placeholder, aria-label, alt, button values)
and the data- attributes, which is where a page hands text to its JavaScript.

It fails when that text contains an English message of the catalog (solocrm/locale/zh_Hans/...
/django.po) that the page should have translated, or an English month or weekday name. User data
(names, titles, notes: everything in the database's text columns) is masked first, so a deal
called "Website redesign" is no finding. A message whose English also appears inside the Chinese
catalog (CSV, API, SMTP, solocrm…) is a shared token, not English. What remains allowed is listed
in ALLOWED, each with its reason: add to it only what is not English prose.

A new page with a URL parameter makes the test fail until it is given an object below (KWARGS).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from io import BytesIO

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

from solocrm.web.tests.test_translations import PO_PATH, parse_po

pytestmark = pytest.mark.django_db

# Pages that are not HTML for a person, or that no GET reaches: each with its reason.
SKIPPED = {
    "set_language": "POST only (the language menu)",
    "logout": "POST only",
    "calendar_feed": "an iCalendar file for calendar apps",
    "web:settings_logo": "the business's logo image",
    "web:setup": "the first-run page, gone once a user exists (solocrm/web/tests/test_setup_view.py)",
    "contacts:import_rejected": "a CSV file of the rejected rows",
    "sales:deal_export": "a CSV file",
    "sales:quote_pdf": "a PDF (its Chinese is checked by solocrm/sales/quotes/tests/test_quote_pdf.py)",
    "sales:attachment_download": "the uploaded file itself",
    "analytics:export": "a CSV file",
    "mail:attachment": "the attached file itself",
    "mail:message": "a redirect to its conversation",
}
# Prefixes of URLs outside the pages of the application.
OUTSIDE = ("admin/", "api/")

# Text that may appear in English on a Chinese page, each with why it is not an untranslated string.
ALLOWED = {
    "solocrm": "the product's name",
    "HubSpot": "a product's name",
    "Pipedrive": "a product's name",
    "Shopify": "a product's name",
    "WooCommerce": "a product's name",
    "Google": "a product's name",
    "Outlook": "a product's name",
    "Excel": "a product's name",
    "English": "the language menu names each language in its own language",
}

MONTHS = [
    *("January", "February", "March", "April", "May", "June", "July", "August", "September"),
    *("October", "November", "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep"),
    *("Sept", "Oct", "Nov", "Dec"),
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# A month abbreviation counts only next to a day or a year ("7 Dec 2026", "Dec. 7"): "Mar" or
# "Jun" alone may be part of a name the masking missed.
ENGLISH_DATE = re.compile(
    r"\b(?:" + "|".join(name for name in MONTHS if len(name) > 4 or name == "May") + r"|"
    + "|".join(WEEKDAYS) + r")\b"
    r"|\b(?:" + "|".join(MONTHS) + r")\.? \d{1,2}\b|\b\d{1,2} (?:" + "|".join(MONTHS) + r")\b"
    r"|\b[ap]\.m\.",
)  # fmt: skip
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sd]|\{[a-z_]+\}|<[^>]+>|%%")
WORD = re.compile(r"[A-Za-z][A-Za-z’'-]*")
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "aria-description", "aria-placeholder"}
# Scripts and styles are not seen; code, keyboard keys and sample output are commands and names.
HIDDEN_ELEMENTS = {"script", "style", "template", "noscript", "code", "kbd", "samp", "pre"}


class VisibleText(HTMLParser):
    """The text of a page a person sees or hears, in pieces."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN_ELEMENTS:
            self.hidden += 1
        attributes = dict(attrs)
        for name, value in attributes.items():
            if not value:
                continue
            if name in SHOWN_ATTRIBUTES or (name.startswith("data-") and not _is_data(value)):
                self.pieces.append(value)
        if tag == "input" and attributes.get("type") in ("submit", "button", "reset"):  # shown as its label
            self.pieces.append(attributes.get("value") or "")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in HIDDEN_ELEMENTS:
            self.hidden -= 1

    def handle_endtag(self, tag):
        if tag in HIDDEN_ELEMENTS and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.pieces.append(data)


def _is_data(value: str) -> bool:
    """A data- attribute that holds data, not text: JSON, a URL, an id, a selector, a keyword
    (data-kind="won", data-theme="dark"). Text for JavaScript has spaces or a capital."""
    value = value.strip()
    keyword = " " not in value and not value[:1].isupper()
    return keyword or value[:1] in "{[/#.?" or value.startswith(("http", "hx-"))


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return [" ".join(piece.split()) for piece in parser.pieces]


def english_phrases() -> dict[str, str]:
    """Each English phrase of the catalog worth looking for -> the message it comes from.

    A message is cut at its placeholders and tags: "Delete %(name)s?" gives "Delete". A piece is
    looked for when it has two words or more, or is one word of four letters or more; a piece
    whose English appears in some Chinese translation (CSV, API, SMTP…) is a shared token."""
    entries = [entry for entry in parse_po(PO_PATH) if entry.msgid]
    chinese = " ".join(PLACEHOLDER.sub(" ", text) for entry in entries for text in entry.msgstr.values())
    shared = set(WORD.findall(chinese))
    phrases: dict[str, str] = {}
    for entry in entries:
        for english in filter(None, (entry.msgid, entry.msgid_plural)):
            for piece in PLACEHOLDER.split(english):
                piece = " ".join(piece.split()).strip(" .,:;!?·—–-()“”\"'…/")
                words = WORD.findall(piece)
                if not words or (len(words) == 1 and len(words[0]) < 4):
                    continue
                if piece in chinese or (len(words) == 1 and words[0] in shared) or piece in ALLOWED:
                    continue
                if all(word in shared or word in ALLOWED for word in words):
                    continue  # "API token" when both words stay in English in the translations
                phrases.setdefault(piece, entry.english)
    return phrases


def user_strings() -> list[str]:
    """Every text value in the database (names, titles, notes, products…), longest first."""
    values: set[str] = set()
    for model in apps.get_models():
        fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField) and not field.choices
        ]
        if not fields or model._meta.app_label in ("sessions", "admin", "contenttypes"):
            continue
        for row in model._default_manager.values_list(*fields):
            values.update(value.strip() for value in row if isinstance(value, str) and len(value.strip()) > 1)
        for field in model._meta.concrete_fields:
            if isinstance(field, models.JSONField):
                for value in model._default_manager.values_list(field.name, flat=True):
                    values.update(_json_strings(value))
    return sorted(values, key=len, reverse=True)


def _json_strings(value) -> set[str]:
    if isinstance(value, str):
        return {value.strip()} if len(value.strip()) > 1 else set()
    if isinstance(value, dict):
        return set().union(*(_json_strings(item) for item in value.values()), set())
    if isinstance(value, list):
        return set().union(*(_json_strings(item) for item in value), set())
    return set()


def mask(pieces: list[str], user: list[str]) -> list[str]:
    """The pieces with user data blanked out (only data that could look like the catalog)."""
    masked = []
    for piece in pieces:
        for value in user:
            if value not in piece:
                continue
            if value.isascii() and value.isalpha():
                # A one-word name is masked as a word: "Mark" leaves "Markdown" alone.
                piece = re.sub(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])", "\x00", piece)
            else:
                piece = piece.replace(value, "\x00")
        masked.append(piece)
    return masked


def shared_words() -> set[str]:
    """Latin words the Chinese catalog itself uses (CSV, API, Stripe…): not English to a reader."""
    entries = [entry for entry in parse_po(PO_PATH) if entry.msgid]
    texts = [PLACEHOLDER.sub(" ", text) for entry in entries for text in entry.msgstr.values()]
    return {word for text in texts for word in WORD.findall(text)}


TECHNICAL = re.compile(r"<\S+|\S*(?:://|@|www\.)\S*|\S*[/_=\\]\S*|\S+\.[a-z]{2,4}\b")
STRAY_WORD = re.compile(r"(?<![\w.-])[A-Za-z][a-z’']{3,}(?:[ -][A-Za-z][a-z’']*)*(?![\w-])")


def stray_english(pieces: list[str], shared: set[str]) -> list[str]:
    """English words the catalog does not know: a string never marked for translation."""
    found = []
    for piece in pieces:
        for match in STRAY_WORD.finditer(TECHNICAL.sub(" ", piece)):
            words = [word for word in WORD.findall(match.group()) if len(word) > 3]
            if words and not all(word in shared or word in ALLOWED for word in words):
                found.append(f"English text {match.group()!r} (not in the catalog?) in {piece[:160]!r}")
    return found


def findings(
    pieces: list[str],
    phrases: dict[str, str],
    patterns: dict[str, re.Pattern],
    shared: set[str] | None = None,
) -> list[str]:
    pieces = [TECHNICAL.sub(" ", piece) for piece in pieces]  # URLs, e-mail addresses, markup
    found = [] if shared is None else stray_english(pieces, shared)
    text = "\n".join(pieces)
    for phrase, pattern in patterns.items():
        if pattern.search(text):
            piece = next(p for p in pieces if pattern.search(p))
            found.append(f"untranslated {phrase!r} (message {phrases[phrase]!r}) in {piece[:160]!r}")
    for match in ENGLISH_DATE.finditer(text):
        piece = next(p for p in pieces if match.group() in p)
        found.append(f"English date {match.group()!r} in {piece[:160]!r}")
    return found


def url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, URL name, converter names) of every page of the application."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, (namespace, pattern.namespace)))
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            route = prefix + str(pattern.pattern)
            if not route.startswith(OUTSIDE):
                yield route, ":".join(filter(None, (namespace, pattern.name))), pattern.pattern.converters


UPLOADED_COLUMNS = ["first name", "last name", "email"]

# ---------------------------------------------------------------------------------------------
# The data: demo data and one object of each kind that the demo does not make.


@pytest.fixture
def world(owner, settings, tmp_path):
    from solocrm.analytics import services as analytics
    from solocrm.contacts.models import Company, Contact, ImportJob
    from solocrm.sales.deals.models import Deal, Pipeline, Stage
    from solocrm.sales.leadforms.models import LeadForm
    from solocrm.sales.models import Product, Task
    from solocrm.sales.quotes import services as quotes
    from solocrm.sales.quotes.models import Quote
    from solocrm.support.kb import services as kb
    from solocrm.web.demo import load_demo

    settings.LANGUAGE_CODE = "zh-hans"
    end = date.today()
    load_demo(contacts=80, seed=7, end=end, user=owner)
    analytics.refresh(today=end)
    deal = Deal.objects.filter(contact__isnull=False, closed_at__isnull=True).order_by("id").first()
    draft = quotes.create_quote(
        deal,
        {"introduction": "感谢您的询价。"},
        lines=[
            {
                "product": None,
                "name": "园林设计",
                "quantity": Decimal("2.5"),
                "unit_price": Decimal("50190"),
                "discount_percent": Decimal("0"),
                "tax_rate": Decimal("13"),
            }
        ],
        actor=owner,
    )
    with translation.override("zh-hans"):  # as when the owner presses Send on a Chinese page
        sent = quotes.send_quote(draft, "buyer@example.com", actor=owner, base_url="http://testserver")
    form = LeadForm.objects.create(name="Website enquiries", source="website")
    from solocrm.support.tickets import services as tickets

    ticket = tickets.create_ticket(
        contact=deal.contact, subject="打印机坏了", body="请帮忙", source="email", user=owner
    )
    canned = tickets.save_canned_reply(None, title="感谢", body="您好 {first_name}", user=owner)
    category = kb.create_category({"name_en": "Billing", "name_zh_hans": "账单", "slug": "billing"})
    article = kb.create_article(
        {"status": "published", "slug": "refunds", "category": category},
        {"en": {"title": "Refunds", "body": "Ask us."}, "zh-hans": {"title": "退款", "body": "请联系我们。"}},
    )
    upload = BytesIO((",".join(UPLOADED_COLUMNS) + "\n伟,张,zhang.wei@example.com\n").encode())
    upload.name = "people.csv"
    return {
        "owner": owner,
        "contact": Contact.objects.order_by("id").first(),
        "other_contact": Contact.objects.order_by("-id").first(),
        "company": Company.objects.order_by("id").first(),
        "deal": deal,
        "quote": Quote.objects.get(pk=sent.pk),
        "task": Task.objects.order_by("id").first(),
        "product": Product.objects.order_by("id").first(),
        "pipeline": Pipeline.objects.order_by("id").first(),
        "stage": Stage.objects.order_by("id").first(),
        "leadform": form,
        "ticket": ticket,
        "canned": canned,
        "article": article,
        "article_category": category,
        "upload": upload,
        "ImportJob": ImportJob,
        "end": end,
    }


def _csat_token(world) -> str:
    """The CSAT link of a solved ticket (the help desk's public answer page)."""
    from django.utils import timezone

    from solocrm.support.helpdesk.services import csat_token
    from solocrm.support.tickets.models import Ticket
    from solocrm.support.tickets.services import next_number

    ticket = Ticket.objects.create(
        number=next_number(),
        subject="包裹没有到",
        contact=world["contact"],
        status="solved",
        solved_at=timezone.now(),
    )
    return csat_token(ticket, 4)


def _import_job(client, world) -> str:
    """An import of two people, taken through upload, preview and run (jobs run inline)."""
    response = client.post(reverse("contacts:import_upload"), {"kind": "contacts", "file": world["upload"]})
    assert response.status_code in (200, 302), response.status_code
    job = world["ImportJob"].objects.order_by("-id").first()
    assert job is not None, "the upload made no import"
    return job.uuid


def _mail_world() -> dict:
    """A mail account and a conversation with one message (the mail pages' parameters)."""
    from django.utils import timezone

    from solocrm.mail.models import Direction, MailAccount, MailMessage, MailThread

    account, _new = MailAccount.objects.get_or_create(
        name="工作邮箱",
        defaults={"email": "me@example.com", "imap_host": "imap.example.com", "imap_user": "me"},
    )
    thread = MailThread.objects.first() or MailThread.objects.create(
        subject="报价单", last_message_at=timezone.now()
    )
    if not thread.messages.exists():
        MailMessage.objects.create(
            message_key="m:walk@example.com", thread=thread, account=account, direction=Direction.IN,
            from_address="ada@example.com", subject="报价单", date=timezone.now(), text="您好",
        )  # fmt: skip
    return {"account": account, "thread": thread}


KWARGS = {
    # URL name (or its prefix before the first "_" of the name) -> how to fill its parameters.
    "users:revoke_token": None,  # POST only
    "contacts:": lambda w: {"public_id": w["contact"].uuid},
    "contacts:edit_field": lambda w: {"public_id": w["contact"].uuid, "key": "title"},
    "contacts:company_": lambda w: {"public_id": w["company"].uuid},
    "contacts:import_": lambda w: {"public_id": w["import"]},
    "sales:task_": lambda w: {"public_id": w["task"].uuid},
    "sales:contact_add_task": lambda w: {"public_id": w["contact"].uuid},
    "sales:product_": lambda w: {"public_id": w["product"].uuid},
    "sales:quote_create": lambda w: {"deal_id": w["deal"].uuid},
    "sales:quote_": lambda w: {"public_id": w["quote"].uuid},
    "sales:quote_line_": None,  # POST only (the quote builder's lines)
    "sales:attachment_upload": lambda w: {"kind": "quote", "owner_id": w["quote"].uuid},
    "sales:attachment_": None,  # POST only, or the file itself
    "sales:lead_convert": lambda w: {"public_id": w["contact"].uuid},
    "sales:leadform_": lambda w: {"public_id": w["leadform"].uuid},
    "sales:stage_add": lambda w: {"public_id": w["pipeline"].uuid},
    "sales:stage_": lambda w: {"public_id": w["stage"].uuid},
    "sales:deal_": lambda w: {"public_id": w["deal"].uuid},
    "public_quotes:show": lambda w: {"token": w["quote_token"]},
    "analytics:segment_detail": lambda w: {"code": "champions"},
    "analytics:persona_detail": lambda w: {"persona_id": 0},
    "jobs:cancel": None,  # POST only
    "mail:account_sync": None,  # POST only
    "mail:account_": lambda w: {"public_id": _mail_world()["account"].uuid},
    "mail:thread": lambda w: {"public_id": _mail_world()["thread"].uuid},
    "public_forms:": lambda w: {"public_id": w["leadform"].uuid},
    "support:ticket": lambda w: {"public_id": w["ticket"].uuid},
    "support:ticket_": None,  # POST only (reply, note, controls, links, merge)
    "support:canned_edit": lambda w: {"public_id": w["canned"].uuid},
    "support:canned_delete": None,  # POST only
    "helpdesk_public:csat": lambda w: {"token": w["csat_token"]},
    "mail_compose:cancel": None,  # POST only
    "mail_compose:send_again": None,  # POST only
    "mail_compose:template_": lambda w: {"public_id": _mail_template().uuid},
    "kb:": lambda w: {"public_id": w["article"].uuid},
    "kb:category_": lambda w: {"public_id": w["article_category"].uuid},
    "help:category": lambda w: {"slug": w["article_category"].slug},
    "help:article": lambda w: {"slug": w["article"].slug},
    "help:vote": None,  # POST only ("was this helpful?")
}


def _mail_template():
    from solocrm.mail.models import MailTemplate

    template, _new = MailTemplate.objects.get_or_create(
        name="跟进", defaults={"subject": "关于 {{ company }}", "body": "您好 {{ first_name }}"}
    )
    return template


# States a plain GET does not show: empty searches, filters, forms sent back with errors.
EXTRA_GETS = [
    ("contacts:list", "?q=zzzzzz"),
    ("sales:deal_list", "?status=won"),
    ("sales:task_list", "?show=done"),
    ("sales:quote_list", "?status=sent"),
    ("support:queue", "?sla=breached"),
    ("kb:list", "?q=zzzzzz"),
    ("kb:links", "?q=退款"),
    ("help:search", "?q=退款"),
    ("help:search", "?q=无此内容"),
]
# Pages that need a query string to show anything.
QUERIES = {
    "contacts:merge_preview": lambda w: f"?survivor={w['contact'].uuid}&other={w['other_contact'].uuid}",
}
FAILED_POSTS = [
    "contacts:create",
    "sales:deal_create",
    "sales:product_create",
    "contacts:company_create",
    "kb:create",
    "kb:categories",
]


def _kwargs_for(name: str, world):
    for key in sorted(KWARGS, key=len, reverse=True):
        if name == key or (key.endswith(("_", ":")) and name.startswith(key)):
            factory = KWARGS[key]
            return None if factory is None else factory(world)
    raise LookupError(name)


def test_every_page_in_chinese_has_no_english_string_of_the_catalog_and_no_english_date(client, world):
    from solocrm.sales.quotes import services as quotes

    client.force_login(world["owner"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    world["import"] = _import_job(client, world)
    world["quote_token"] = quotes.accept_token(world["quote"])
    world["csat_token"] = _csat_token(world)

    phrases = english_phrases()
    assert "Log in" in phrases and "Contacts" in phrases  # the net catches what it should
    shared = shared_words()
    patterns = {
        phrase: re.compile(r"(?<![A-Za-z])" + re.escape(phrase) + r"(?![A-Za-z])") for phrase in phrases
    }
    # The uploaded file's column names are the user's too.
    user = [value for value in [*user_strings(), *UPLOADED_COLUMNS] if WORD.search(value)]

    urls: list[tuple[str, str]] = []
    missing = []
    for route, name, converters in url_patterns():
        if name in SKIPPED:
            continue
        if not converters:
            urls.append((name, reverse(name) + (QUERIES[name](world) if name in QUERIES else "")))
            continue
        try:
            kwargs = _kwargs_for(name, world)
        except LookupError:
            missing.append(f"{name} ({route})")
            continue
        if kwargs is not None:
            urls.append((name, reverse(name, kwargs=kwargs)))
    assert not missing, "pages the walk cannot reach; give them an object in KWARGS:\n" + "\n".join(missing)
    urls += [(name, reverse(name) + query) for name, query in EXTRA_GETS]

    problems: dict[str, list[str]] = defaultdict(list)
    checked = []
    with translation.override("zh-hans"):
        for name, url in urls:
            response = client.get(url, headers={"accept-language": "zh-hans"})
            if response.status_code in (301, 302, 405) or "text/html" not in response.get("content-type", ""):
                continue
            assert response.status_code in (200, 404), f"{url}: {response.status_code}"
            if response.status_code == 404 and name != "analytics:persona_detail":
                problems[url].append("404: the walk's object is missing")
                continue
            checked.append(name)
            pieces = mask(visible_text(response.content.decode()), user)
            problems[url].extend(findings(pieces, phrases, patterns, shared))
        for name in FAILED_POSTS:
            url = reverse(name)
            response = client.post(url, {}, headers={"accept-language": "zh-hans"})
            assert response.status_code == 200, f"POST {url}: {response.status_code}"
            pieces = mask(visible_text(response.content.decode()), user)
            problems[f"POST {url}"].extend(findings(pieces, phrases, patterns, shared))

    assert mail.outbox, "the quote e-mail was not sent"
    for message in mail.outbox:  # the quote e-mail sent in Chinese
        parts = [
            message.subject,
            message.body,
            *(visible for html, _ in getattr(message, "alternatives", []) for visible in visible_text(html)),
        ]
        problems[f"e-mail {message.subject!r}"].extend(findings(mask(parts, user), phrases, patterns, shared))

    for must in ("web:home", "contacts:detail", "sales:board", "sales:quote_detail", "analytics:overview"):
        assert must in checked, f"{must} was not checked"
    assert len(checked) > 60
    report = [f"{url}\n    " + "\n    ".join(found) for url, found in problems.items() if found]
    assert not report, f"{len(report)} pages with English text in zh-hans:\n" + "\n".join(report)


def test_the_walk_catches_an_untranslated_message_and_an_english_date():
    phrases = english_phrases()
    patterns = {p: re.compile(r"(?<![A-Za-z])" + re.escape(p) + r"(?![A-Za-z])") for p in phrases}
    html = (
        '<main><h1>今天</h1><nav aria-label="Overview">概览</nav><p>星期一, 7 December</p>'
        "<script>const x = 'Log in';</script><p data-error='The deal could not be moved.'></p></main>"
    )
    found = findings(visible_text(html), phrases, patterns, shared_words())
    assert any("'Overview'" in item for item in found)  # not in the catalog: a string never marked
    assert any("English date 'December'" in item or "7 December" in item for item in found)
    assert not any("'Log in'" in item for item in found)  # scripts are not visible text
    page = "<p>2026年12月7日 星期一 · 50,190 CSV <code>solocrm worker</code> ada@example.com</p>"
    clean = findings(visible_text(page), phrases, patterns, shared_words())
    assert clean == []
    # User data is masked: a contact called "Overview Ltd" is not a finding.
    masked = mask(visible_text("<p>Overview Ltd 的订单</p>"), ["Overview Ltd"])
    assert findings(masked, phrases, patterns, shared_words()) == []


def test_quote_money_quantities_and_dates_read_chinese_on_the_quote_page(client, world):
    from solocrm.sales.quotes import services as quotes

    client.force_login(world["owner"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    quote = world["quote"]
    page = client.get(
        reverse("public_quotes:show", kwargs={"token": quotes.accept_token(quote)})
    ).content.decode()
    assert "2.5<" in page and "2.500" not in page
    assert "125,475.00" in page  # 2.5 × 50,190
    issued = quote.issued_on
    assert f"{issued.year}年{issued.month}月{issued.day}日" in page or issued.strftime("%Y-%m-%d") in page
    assert timedelta(0) <= quote.valid_until - issued
