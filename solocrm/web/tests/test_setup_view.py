"""The first-run set-up page that creates the owner account."""

import sys
import types

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from solocrm.lib.access import role_of
from solocrm.users.setup import check_setup_token, issue_setup_token

pytestmark = pytest.mark.django_db

SETUP = "/setup/"


def _form(token: str, **changes) -> dict:
    data = {
        "token": token,
        "username": "olivia",
        "email": "olivia@example.com",
        "password1": "a-long-and-unusual-passphrase",
        "password2": "a-long-and-unusual-passphrase",
    }
    return data | changes


def test_every_page_sends_the_first_visitor_to_setup(client):
    response = client.get("/contacts/")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:setup") == SETUP


def test_it_asks_for_the_token_and_the_owner_details(client):
    issue_setup_token()
    page = client.get(SETUP).content.decode()
    for name in ("token", "username", "email", "password1", "password2", "load_demo"):
        assert f'name="{name}"' in page


def test_it_creates_the_owner_logs_them_in_and_goes_home(client):
    token = issue_setup_token()
    response = client.post(SETUP, _form(token))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    owner = get_user_model().objects.get()
    assert owner.username == "olivia" and owner.email == "olivia@example.com"
    assert owner.is_staff and role_of(owner) == "owner"
    assert client.get(reverse("web:home")).context["user"] == owner
    assert not check_setup_token(token)  # used once, gone


def test_a_wrong_token_creates_nobody(client):
    issue_setup_token()
    response = client.post(SETUP, _form("not-the-token"))
    assert response.status_code == 200
    assert "not the set-up token" in response.context["form"].errors["token"][0]
    assert not get_user_model().objects.exists()


def test_without_any_token_issued_setup_cannot_succeed(client):
    response = client.post(SETUP, _form(""))
    assert response.status_code == 200
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"password1": "12345678", "password2": "12345678"}, "password2"),
        ({"password2": "something-else-entirely"}, "password2"),
        ({"email": ""}, "email"),
        ({"username": "bad name!"}, "username"),
    ],
)
def test_it_refuses_weak_or_incomplete_owner_details(client, changes, field):
    token = issue_setup_token()
    response = client.post(SETUP, _form(token, **changes))
    assert field in response.context["form"].errors
    assert not get_user_model().objects.exists()
    assert check_setup_token(token)  # still valid for the next try


def test_setup_is_gone_once_a_user_exists(client, owner):
    issue_setup_token()
    assert client.get(SETUP).status_code == 404
    assert client.post(SETUP, _form(issue_setup_token(), username="mallory")).status_code == 404
    assert not get_user_model().objects.filter(username="mallory").exists()


def _fake_demo_module(load_demo) -> types.ModuleType:
    # The real generator writes 2,000 customers; these tests are about the page's wiring.
    fake = types.ModuleType("solocrm.web.demo")
    fake.DemoDataExists = type("DemoDataExists", (Exception,), {})
    fake.load_demo = load_demo
    return fake


def test_the_demo_box_loads_the_demo_data_for_the_new_owner(client, monkeypatch):
    calls = []
    fake = _fake_demo_module(lambda progress=None, **options: calls.append((progress, options)))
    monkeypatch.setitem(sys.modules, "solocrm.web.demo", fake)
    client.post(SETUP, _form(issue_setup_token(), load_demo="on"))
    owner = get_user_model().objects.get(username="olivia")
    assert calls == [(None, {"user": owner})]


def test_without_the_demo_box_no_demo_data_is_loaded(client, monkeypatch):
    calls = []
    monkeypatch.setitem(sys.modules, "solocrm.web.demo", _fake_demo_module(lambda **kw: calls.append(kw)))
    client.post(SETUP, _form(issue_setup_token()))
    assert calls == []


def test_a_missing_demo_module_gives_a_message_not_an_error(client, monkeypatch):
    monkeypatch.setitem(sys.modules, "solocrm.web.demo", None)  # makes the import fail
    response = client.post(SETUP, _form(issue_setup_token(), load_demo="on"), follow=True)
    assert response.status_code == 200
    assert "Demo data is not available" in response.content.decode()
    assert get_user_model().objects.filter(username="olivia").exists()


def test_a_failing_demo_loader_keeps_the_owner_account(client, monkeypatch):
    def broken(progress=None, **options):
        raise RuntimeError("disk full")

    monkeypatch.setitem(sys.modules, "solocrm.web.demo", _fake_demo_module(broken))
    response = client.post(SETUP, _form(issue_setup_token(), load_demo="on"), follow=True)
    assert "Loading the demo data failed" in response.content.decode()
    assert get_user_model().objects.filter(username="olivia").exists()


def test_the_username_is_escaped_when_the_form_is_shown_again(client):
    issue_setup_token()
    response = client.post(SETUP, _form("wrong", username="<script>x</script>"))
    page = response.content.decode()
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
