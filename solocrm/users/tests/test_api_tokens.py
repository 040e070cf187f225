"""GET/POST/DELETE /api/v1/tokens: everybody manages their own tokens, the owner everybody's."""

import uuid

from solocrm.users.models import ApiToken, AuditLog

URL = "/api/v1/tokens"


def _post(client, data, **kwargs):
    return client.post(URL, data, content_type="application/json", **kwargs)


def test_creating_a_token_returns_it_once_and_it_works(client, owner_client, owner):
    response = _post(owner_client, {"name": "zapier"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith(body["hint"])
    assert body["user"] == owner.username
    assert AuditLog.objects.filter(action="token.create", object_uuid=body["uuid"]).exists()
    listed = owner_client.get(URL).json()["items"]
    assert "token" not in listed[0]
    client.logout()
    assert (
        client.get("/api/v1/contacts", headers={"Authorization": f"Bearer {body['token']}"}).status_code
        == 200
    )


def test_the_owner_sees_every_token_and_creates_one_for_somebody_else(owner_client, viewer):
    ApiToken.issue(viewer, "viewer's")
    response = _post(owner_client, {"name": "for vera", "user": viewer.username})
    assert response.status_code == 201
    assert response.json()["user"] == viewer.username
    assert owner_client.get(URL).json()["count"] == 2


def test_a_viewer_sees_and_creates_only_their_own_tokens(viewer_client, viewer, owner):
    ApiToken.issue(owner, "owner's")
    response = _post(viewer_client, {"name": "reports"})
    assert response.status_code == 201
    assert [t["name"] for t in viewer_client.get(URL).json()["items"]] == ["reports"]
    assert _post(viewer_client, {"name": "sneaky", "user": owner.username}).status_code == 403


def test_a_user_revokes_their_own_token_but_not_somebody_elses(viewer_client, viewer, owner):
    mine, raw = ApiToken.issue(viewer, "mine")
    theirs, _raw = ApiToken.issue(owner, "theirs")
    assert viewer_client.delete(f"{URL}/{theirs.uuid}").status_code == 404
    assert viewer_client.delete(f"{URL}/{mine.uuid}").status_code == 204
    assert ApiToken.authenticate(raw) is None
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_the_owner_revokes_anybodys_token(owner_client, assistant):
    token, _raw = ApiToken.issue(assistant, "assistant's")
    assert owner_client.delete(f"{URL}/{token.uuid}").status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_token_for_an_unknown_user_or_without_a_name_is_a_422(owner_client):
    assert _post(owner_client, {"name": "x", "user": "nobody"}).status_code == 422
    assert _post(owner_client, {"name": ""}).status_code == 422


def test_an_unknown_token_id_is_a_404(owner_client):
    assert owner_client.delete(f"{URL}/{uuid.uuid4()}").status_code == 404


def test_a_stranger_gets_401(client, db):
    assert client.get(URL).status_code == 401
    assert _post(client, {"name": "x"}).status_code == 401
