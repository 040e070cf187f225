"""The settings page (/settings/): who may open it, the environment's precedence, the encrypted
SMTP password, changes that apply without a restart (quote PDF, Today's time zone, the next
e-mail through a real SMTP server), the outbox wording and the banner."""

from __future__ import annotations

import email
import io
import os
import socket
from datetime import datetime
from email import policy
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import formats, translation
from PIL import Image

from solocrm.lib.business import DISPATCHING_BACKEND, business_settings
from solocrm.sales.quotes import pdf as quote_pdf
from solocrm.sales.quotes import services as quotes
from solocrm.sales.quotes.tests.quote_helpers import customer, deal, line, pdf_text  # noqa: F401
from solocrm.users import business
from solocrm.users.models import BusinessProfile

URL = reverse("web:settings")
PASSWORD = "correct-horse-battery-77"


def _form(**changes) -> dict:
    """A complete POST of the page with the defaults, changed by ``changes``."""
    data = {
        "business_name": "",
        "business_address": "",
        "currency": "USD",
        "time_zone": "UTC",
        "phone_region": "US",
        "language": "",
        "work_days": ["0", "1", "2", "3", "4"],
        "work_start": "09:00",
        "work_end": "17:00",
        "smtp_host": "",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_user": "",
        "smtp_password": "",
        "from_email": "",
    }
    data.update(changes)
    return data


def _png(size=(40, 20), kind="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 60)).save(buffer, kind)
    return buffer.getvalue()


@pytest.fixture
def outbox_dir(settings, tmp_path):
    """solocrm's own backend (tests otherwise use Django's in-memory one), outbox in tmp."""
    settings.EMAIL_BACKEND = DISPATCHING_BACKEND
    settings.EMAIL_FILE_PATH = tmp_path / "outbox"
    return tmp_path / "outbox"


def test_only_the_owner_opens_the_page(client, owner, assistant, viewer):
    assert client.get(URL).status_code == 302 and "/accounts/login/" in client.get(URL)["Location"]
    for user in (assistant, viewer):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.post(URL, _form(business_name="Hijack")).status_code == 403
        assert client.post(reverse("web:settings_test_email"), {"to": "x@example.com"}).status_code == 403
    assert not BusinessProfile.objects.exists()
    client.force_login(owner)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    for section in ('id="business"', 'id="regional"', 'id="mail"', reverse("sales:pipeline_settings")):
        assert section in html


def test_saving_changes_the_effective_settings_at_once(owner_client):
    response = owner_client.post(
        URL,
        _form(business_name="Blue Fern Ltd", currency="eur", phone_region="DE", time_zone="Europe/Berlin"),
    )
    assert response.status_code == 302
    config = business_settings()
    assert (config.business_name, config.currency, config.phone_region, config.time_zone) == (
        "Blue Fern Ltd",
        "EUR",
        "DE",
        "Europe/Berlin",
    )
    assert config.work_start.hour == 9 and config.work_days == (0, 1, 2, 3, 4)


def test_invalid_values_are_refused_with_clear_errors(owner_client):
    response = owner_client.post(
        URL, _form(currency="E1R", time_zone="Mars/Olympus", smtp_port="99999", work_end="08:00")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "is not a three-letter currency code" in html
    assert "Select a valid choice" in html
    assert "less than or equal to 65535" in html
    assert "must end after it starts" in html
    assert not BusinessProfile.objects.exists()


def test_an_environment_variable_wins_and_the_page_shows_it_read_only(owner_client, monkeypatch):
    owner_client.post(URL, _form(currency="EUR"))
    monkeypatch.setenv("SOLOCRM_CURRENCY", "chf")
    assert business_settings().currency == "CHF"
    assert business_settings().locked == {"currency": "SOLOCRM_CURRENCY"}
    html = owner_client.get(URL).content.decode()
    assert "Set by SOLOCRM_CURRENCY." in html
    assert 'name="currency" value="CHF"' in html and "disabled" in html.split('name="currency"')[1][:80]
    owner_client.post(URL, _form(currency="GBP", business_name="Still saved"))
    assert BusinessProfile.objects.get().currency == "EUR"  # the page cannot change it
    assert business_settings().currency == "CHF" and business_settings().business_name == "Still saved"
    monkeypatch.delenv("SOLOCRM_CURRENCY")
    assert business_settings().currency == "EUR"


def test_the_smtp_password_is_encrypted_at_rest_and_never_shown(owner_client):
    owner_client.post(URL, _form(smtp_host="mail.example.com", smtp_user="olivia", smtp_password=PASSWORD))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {BusinessProfile._meta.db_table}")  # noqa: S608 (our table name)
        raw = " ".join(str(value) for value in cursor.fetchone())
    assert PASSWORD not in raw and "olivia" in raw
    assert business_settings().smtp_password == PASSWORD
    assert PASSWORD not in repr(business_settings())
    html = owner_client.get(URL).content.decode()
    assert PASSWORD not in html and "A password is stored" in html
    owner_client.post(URL, _form(smtp_host="mail.example.com", smtp_user="olivia"))  # blank keeps it
    assert business_settings().smtp_password == PASSWORD
    owner_client.post(URL, _form(smtp_host="mail.example.com", clear_password="on"))
    assert business_settings().smtp_password == ""
    assert "A password is stored" not in owner_client.get(URL).content.decode()


def test_the_business_name_and_logo_show_on_a_new_quote_pdf(owner_client, deal):  # noqa: F811
    quote = quotes.create_quote(deal, lines=[line("Planting plan", "1", "100.00")])
    assert "Blue Fern Ltd" not in pdf_text(quote_pdf.render_pdf(quote))
    logo = io.BytesIO(_png())
    logo.name = "fern.png"
    response = owner_client.post(
        URL, {**_form(business_name="Blue Fern Ltd", business_address="2 Oak Road"), "logo": logo}
    )
    assert response.status_code == 302
    config = business_settings()
    assert config.logo is not None and config.logo.read_bytes() == _png()
    new = quotes.create_quote(deal, lines=[line("Planting plan", "1", "100.00")])
    data = quote_pdf.render_pdf(new)
    text = pdf_text(data)
    assert "Blue Fern Ltd" in text and "2 Oak Road" in text
    assert b"/Subtype /Image" in data
    printable = owner_client.get(reverse("sales:quote_print", args=[new.uuid])).content.decode()
    assert "Blue Fern Ltd" in printable and reverse("web:settings_logo") in printable
    served = owner_client.get(reverse("web:settings_logo"))
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == _png()
    owner_client.post(URL, _form(business_name="Blue Fern Ltd", remove_logo="on"))
    assert business_settings().logo is None
    assert owner_client.get(reverse("web:settings_logo")).status_code == 404


@pytest.mark.parametrize(
    ("data", "name", "error"),
    [
        (b"GIF89a" + b"\0" * 30, "logo.png", "must be a PNG or JPEG image"),
        (_png(kind="GIF"), "logo.gif", "must be a PNG or JPEG image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg", "must be a PNG or JPEG image"),
        (b"\x89PNG" + b"0" * (1024 * 1024 + 1), "big.png", "at most 1 MB"),
        (_png(size=(4001, 10)), "wide.png", "at most 4000 pixels"),
    ],
)
def test_a_logo_that_is_not_a_small_png_or_jpeg_is_refused(owner_client, data, name, error):
    upload = io.BytesIO(data)
    upload.name = name
    response = owner_client.post(URL, {**_form(), "logo": upload})
    assert response.status_code == 400 and error in response.content.decode()
    assert business_settings().logo is None


def test_the_logo_is_served_to_signed_in_users_only(client, owner, viewer):
    business.update_settings({}, actor=owner, logo=_png(kind="JPEG"))
    assert client.get(reverse("web:settings_logo")).status_code == 302
    client.force_login(viewer)
    response = client.get(reverse("web:settings_logo"))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"


def _local_heading(zone: str) -> str:
    return formats.date_format(datetime.now(ZoneInfo(zone)), "l, j F")


def test_a_new_time_zone_shows_on_today_at_the_next_request(owner_client):
    # UTC+14 and UTC−11 are 25 hours apart: their dates always differ.
    owner_client.post(URL, _form(time_zone="Pacific/Kiritimati"))
    assert _local_heading("Pacific/Kiritimati") in owner_client.get("/").content.decode()
    owner_client.post(URL, _form(time_zone="Pacific/Pago_Pago"))
    html = owner_client.get("/").content.decode()
    assert _local_heading("Pacific/Pago_Pago") in html and _local_heading("Pacific/Kiritimati") not in html


def test_the_language_chosen_on_the_page_is_the_default(owner_client):
    owner_client.post(URL, _form(language="zh-hans"))
    assert business_settings().language == "zh-hans"
    response = owner_client.get(URL, headers={"accept-language": "en"})
    assert response["Content-Language"] == "zh-hans"
    owner_client.cookies["django_language"] = "en"  # the user's own choice in the menu wins
    assert owner_client.get(URL)["Content-Language"] == "en"


def test_a_change_made_by_another_process_is_seen_at_the_next_read(owner):
    business.update_settings({"business_name": "First"}, actor=owner)
    assert business_settings().business_name == "First"
    BusinessProfile.objects.update(business_name="Second")  # another process wrote it…
    assert business_settings().business_name == "First"  # …this one still has its copy
    path = business.version_path()
    tmp = path.with_name("other-process")
    tmp.write_text("changed elsewhere")
    os.replace(tmp, path)  # what the other process does once its transaction committed
    assert business_settings().business_name == "Second"


# --- mail -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    controller_module = pytest.importorskip("aiosmtpd.controller")
    inbox, port = _Inbox(), _free_port()
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


def test_an_smtp_server_set_on_the_page_gets_the_next_emails(owner_client, outbox_dir, smtp_server, deal):  # noqa: F811
    owner_client.post(
        URL,
        _form(
            business_name="Blue Fern Ltd",
            smtp_host="127.0.0.1",
            smtp_port=str(smtp_server.port),
            smtp_security="none",
            from_email="hello@bluefern.example",
        ),
    )
    response = owner_client.post(
        reverse("web:settings_test_email"), {"to": "olivia@example.com"}, follow=True
    )
    assert "Test e-mail sent to olivia@example.com." in response.content.decode()
    [(sender, recipients, raw)] = smtp_server.messages
    assert (sender, recipients) == ("hello@bluefern.example", ["olivia@example.com"])
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["From"] == "Blue Fern Ltd <hello@bluefern.example>"
    assert "Test e-mail from Blue Fern Ltd" in parsed["Subject"]

    quote = quotes.create_quote(deal, lines=[line("Planting plan", "1", "100.00")])
    response = owner_client.post(
        reverse("sales:quote_send", args=[quote.uuid]), {"to": "ada@example.com", "message": ""}, follow=True
    )
    assert f"Quote {quote.number} sent to ada@example.com." in response.content.decode()
    assert [m[1] for m in smtp_server.messages] == [["olivia@example.com"], ["ada@example.com"]]
    assert not outbox_dir.exists()


def test_a_mail_server_that_refuses_is_reported(owner_client, outbox_dir):
    owner_client.post(URL, _form(smtp_host="127.0.0.1", smtp_port=str(_free_port()), smtp_security="none"))
    response = owner_client.post(
        reverse("web:settings_test_email"), {"to": "olivia@example.com"}, follow=True
    )
    assert "The test e-mail could not be sent" in response.content.decode()


def test_without_a_mail_server_messages_say_saved_to_the_outbox(owner_client, outbox_dir, deal):  # noqa: F811
    response = owner_client.post(
        reverse("web:settings_test_email"), {"to": "olivia@example.com"}, follow=True
    )
    html = response.content.decode()
    assert "The test e-mail to olivia@example.com saved to the outbox — no mail server is set up." in html
    quote = quotes.create_quote(deal, lines=[line("Planting plan", "1", "100.00")])
    send_page = owner_client.get(reverse("sales:quote_send", args=[quote.uuid])).content.decode()
    assert "the e-mail will be saved to the outbox folder" in send_page
    response = owner_client.post(
        reverse("sales:quote_send", args=[quote.uuid]), {"to": "ada@example.com", "message": ""}, follow=True
    )
    html = response.content.decode()
    assert f"Quote {quote.number} saved to the outbox — no mail server is set up." in html
    assert f'href="{URL}#mail"' in html and "sent to ada@example.com" not in html
    assert len(list(outbox_dir.iterdir())) == 2


def _banner(user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    with translation.override("en"):
        return render_to_string("web/_banners.html", request=request)


def test_the_banner_tells_the_owner_and_the_others_when_mail_only_reaches_the_outbox(
    owner, assistant, outbox_dir
):
    owner_banner, assistant_banner = _banner(owner), _banner(assistant)
    assert "No mail server is set up" in owner_banner and f'href="{URL}#mail"' in owner_banner
    assert "The owner can set one up." in assistant_banner and URL not in assistant_banner
    business.update_settings({"smtp_host": "mail.example.com"}, actor=owner)
    assert "No mail server" not in _banner(owner) and "No mail server" not in _banner(assistant)


def test_an_smtp_host_from_the_environment_counts_as_set_up(owner, outbox_dir, monkeypatch):
    monkeypatch.setenv("SOLOCRM_SMTP_HOST", "mail.example.com")
    assert "No mail server" not in _banner(owner)


# --- command line and API ---------------------------------------------------------------------


def test_the_command_line_shows_and_sets_settings(owner, monkeypatch, capsys, tmp_path):
    call_command("settings", "set", "business_name", "Blue Fern Ltd")
    call_command("settings", "set", "work_days", "0,2,4")
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    call_command("settings", "set", "smtp_password", "-")
    logo = tmp_path / "logo.png"
    logo.write_bytes(_png())
    call_command("settings", "set", "logo", str(logo))
    config = business_settings()
    assert config.business_name == "Blue Fern Ltd" and config.work_days == (0, 2, 4)
    assert BusinessProfile.objects.get().currency == ""  # untouched: still the default
    assert config.smtp_password == PASSWORD and config.logo is not None
    with pytest.raises(CommandError, match="time_zone"):
        call_command("settings", "set", "time_zone", "Mars/Olympus")
    monkeypatch.setenv("SOLOCRM_CURRENCY", "CHF")
    with pytest.raises(CommandError, match="SOLOCRM_CURRENCY"):
        call_command("settings", "set", "currency", "EUR")
    capsys.readouterr()
    call_command("settings", "show")
    shown = capsys.readouterr().out
    assert "Blue Fern Ltd" in shown and "(settings page)" in shown and "(set by SOLOCRM_CURRENCY)" in shown
    assert PASSWORD not in shown and "(stored)" in shown


def test_the_api_reads_and_changes_settings_for_the_owner_only(owner_client, assistant, monkeypatch):
    url = "/api/v1/settings"
    assistant_client = Client()
    assistant_client.force_login(assistant)
    assert assistant_client.get(url).status_code == 403
    assert (
        assistant_client.patch(url, {"business_name": "X"}, content_type="application/json").status_code
        == 403
    )
    response = owner_client.patch(
        url,
        {"business_name": "Blue Fern Ltd", "time_zone": "Asia/Shanghai", "smtp_password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["business_name"] == "Blue Fern Ltd" and body["time_zone"] == "Asia/Shanghai"
    assert body["password_stored"] is True and PASSWORD not in response.content.decode()
    bad = owner_client.patch(url, {"currency": "E1R"}, content_type="application/json")
    assert bad.status_code == 422 and "currency" in bad.json()["detail"]
    monkeypatch.setenv("SOLOCRM_TIME_ZONE", "Europe/Berlin")
    locked = owner_client.patch(url, {"time_zone": "UTC"}, content_type="application/json")
    assert locked.status_code == 422 and "SOLOCRM_TIME_ZONE" in locked.json()["detail"]
    assert owner_client.get(url).json()["locked"] == {"time_zone": "SOLOCRM_TIME_ZONE"}


def test_the_digest_and_lead_form_pages_say_where_their_emails_go(owner_client, owner, outbox_dir):
    from solocrm.sales.leadforms import services as leadforms

    form = leadforms.create_lead_form({"name": "Website", "fields": ["email"], "source": "web"}, actor=owner)
    pages = [reverse("account:preferences"), reverse("sales:leadform_detail", args=[form.uuid])]
    for page in pages:
        html = owner_client.get(page).content.decode()
        assert "saved to the outbox" in html and f"{URL}#mail" in html
    business.update_settings({"smtp_host": "mail.example.com"}, actor=owner)
    for page in pages:
        assert "saved to the outbox" not in owner_client.get(page).content.decode()
