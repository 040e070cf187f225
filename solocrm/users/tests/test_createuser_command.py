"""`solocrm createuser`."""

import getpass
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from solocrm.lib.access import role_of
from solocrm.users.models import AuditLog
from solocrm.users.setup import issue_setup_token, setup_needed

pytestmark = pytest.mark.django_db

GOOD = "amber-kettle-71\n"


def createuser(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    streams = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command("createuser", *args, stdout=out, **streams)
    return out.getvalue()


def test_it_creates_an_owner_with_staff_access_from_a_piped_password():
    createuser("olga", "--role", "owner", "--email", "Olga@Example.com", "--password-stdin", stdin=GOOD)
    user = get_user_model().objects.get(username="olga")
    assert role_of(user) == "owner"
    assert user.is_staff and not user.is_superuser
    assert user.email == "olga@example.com"
    assert user.check_password("amber-kettle-71")


@pytest.mark.parametrize("role", ["assistant", "viewer"])
def test_other_roles_get_no_staff_access(role):
    createuser("sam", "--role", role, "--password-stdin", stdin=GOOD)
    user = get_user_model().objects.get(username="sam")
    assert role_of(user) == role
    assert not user.is_staff


def test_it_asks_twice_for_the_password_on_a_terminal(monkeypatch):
    answers = iter(["amber-kettle-71", "amber-kettle-71"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(answers))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    createuser("tess", "--role", "viewer")
    assert get_user_model().objects.get(username="tess").check_password("amber-kettle-71")


def test_two_different_passwords_are_refused(monkeypatch):
    answers = iter(["amber-kettle-71", "amber-kettle-72"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(answers))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    with pytest.raises(CommandError, match="differ"):
        createuser("tess", "--role", "viewer")
    assert not get_user_model().objects.exists()


def test_without_a_terminal_it_asks_for_password_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="--password-stdin"):
        createuser("tess", "--role", "viewer")


@pytest.mark.parametrize("weak", ["12345678\n", "password\n", "short\n", "olga-olga\n"])
def test_django_password_validators_reject_weak_passwords(weak):
    with pytest.raises(CommandError):
        createuser("olga-olga", "--role", "owner", "--password-stdin", stdin=weak)
    assert not get_user_model().objects.exists()


def test_an_existing_user_name_is_refused_whatever_its_case(owner):
    with pytest.raises(CommandError, match="already exists"):
        createuser(owner.username.upper(), "--role", "viewer", "--password-stdin", stdin=GOOD)


def test_an_unknown_role_is_refused():
    with pytest.raises(CommandError):
        createuser("x", "--role", "admin", "--password-stdin", stdin=GOOD)


def test_a_bad_email_is_refused():
    with pytest.raises(CommandError, match="valid e-mail"):
        createuser("x", "--role", "viewer", "--email", "not-an-address", "--password-stdin", stdin=GOOD)


def test_creating_the_first_user_retires_the_set_up_token_and_is_audited(settings):
    issue_setup_token()
    createuser("olga", "--role", "owner", "--password-stdin", stdin=GOOD)
    assert not setup_needed()
    assert not (settings.DATA_DIR / "setup_token").exists()
    assert AuditLog.objects.filter(action="user.create", summary__startswith="olga").exists()
