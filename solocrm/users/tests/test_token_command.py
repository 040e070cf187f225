"""`solocrm token create|list|revoke`."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from solocrm.lib.access import set_role
from solocrm.users.models import ApiToken, AuditLog


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_the_raw_token_alone_and_stores_only_its_hash(owner):
    out, err = _run("create", "zapier")
    raw = out.strip()
    assert raw.startswith("scrm_")
    assert "\n" not in raw
    assert "shown only now" in err
    token = ApiToken.objects.get()
    assert (token.user, token.name) == (owner, "zapier")
    assert raw not in token.key_hash
    assert ApiToken.authenticate(raw) == owner
    assert AuditLog.objects.filter(action="token.create", object_uuid=token.uuid).exists()


def test_create_for_a_named_user(owner, viewer):
    _run("create", "reports", "--user", viewer.username)
    assert ApiToken.objects.get().user == viewer


def test_create_without_user_needs_exactly_one_owner(owner, django_user_model):
    set_role(django_user_model.objects.create_user("otto"), "owner")
    with pytest.raises(CommandError, match="--user"):
        _run("create", "ci")


def test_create_for_an_unknown_user_fails(owner):
    with pytest.raises(CommandError, match="nobody"):
        _run("create", "ci", "--user", "nobody")


def test_list_shows_name_hint_user_and_revocation(owner, viewer):
    ApiToken.issue(owner, "laptop")
    old, _raw = ApiToken.issue(viewer, "old-phone")
    old.revoke()
    out, _err = _run("list")
    assert "laptop" in out and "old-phone" in out
    assert old.hint in out
    assert viewer.username in out
    only_owner, _err = _run("list", "--user", owner.username)
    assert "laptop" in only_owner and "old-phone" not in only_owner


@pytest.mark.parametrize("by", ["hint", "uuid", "raw"])
def test_revoke_by_hint_id_or_value(owner, by):
    token, raw = ApiToken.issue(owner, "laptop")
    _run("revoke", {"hint": token.hint, "uuid": str(token.uuid), "raw": raw}[by])
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiToken.authenticate(raw) is None
    assert AuditLog.objects.filter(action="token.revoke", object_uuid=token.uuid).exists()


def test_revoke_of_an_unknown_token_fails(owner):
    with pytest.raises(CommandError, match="No token"):
        _run("revoke", "scrm_nope")


def test_revoking_twice_says_so(owner):
    token, _raw = ApiToken.issue(owner, "laptop")
    _run("revoke", str(token.uuid))
    _out, err = _run("revoke", str(token.uuid))
    assert "already revoked" in err
    assert AuditLog.objects.filter(action="token.revoke").count() == 1
