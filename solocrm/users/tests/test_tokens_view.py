"""The API token page: list, create (secret shown once), revoke."""

import pytest
from django.urls import reverse

from solocrm.users.models import ApiToken

pytestmark = pytest.mark.django_db

TOKENS = "/account/tokens/"


def test_the_stranger_is_sent_to_login(client, owner):
    assert client.get(TOKENS)["Location"].startswith("/accounts/login/")


def test_creating_a_token_shows_the_secret_once(owner_client, owner):
    response = owner_client.post(TOKENS, {"name": "shop sync"})
    raw = response.context["raw_token"]
    assert raw.startswith("scrm_")
    assert raw in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert ApiToken.authenticate(raw) == owner
    token = ApiToken.objects.get(user=owner)
    assert token.name == "shop sync" and token.key_hash != raw
    later = owner_client.get(TOKENS).content.decode()
    assert raw not in later and "shop sync" in later


def test_a_token_needs_a_name(owner_client):
    response = owner_client.post(TOKENS, {"name": ""})
    assert "name" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_users_see_only_their_own_tokens(viewer_client, owner, viewer):
    ApiToken.issue(owner, "owner's notebook")
    ApiToken.issue(viewer, "viewer's report script")
    page = viewer_client.get(TOKENS).content.decode()
    assert "viewer&#x27;s report script" in page
    assert "notebook" not in page


def test_revoking_a_token_stops_it_working(assistant_client, assistant):
    token, raw = ApiToken.issue(assistant, "old script")
    response = assistant_client.post(reverse("users:revoke_token", args=[token.uuid]))
    assert response["Location"] == TOKENS
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiToken.authenticate(raw) is None


def test_nobody_can_revoke_someone_elses_token(viewer_client, owner):
    token, raw = ApiToken.issue(owner, "owner's token")
    response = viewer_client.post(reverse("users:revoke_token", args=[token.uuid]))
    assert response.status_code == 404
    assert ApiToken.authenticate(raw) == owner


def test_revoke_is_post_only(owner_client, owner):
    token, _raw = ApiToken.issue(owner, "t")
    assert owner_client.get(reverse("users:revoke_token", args=[token.uuid])).status_code == 405


def test_token_names_are_escaped(owner_client):
    page = owner_client.post(TOKENS, {"name": "<img src=x onerror=alert(1)>"}).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
