"""The /api/v1/attachments endpoints: upload (multipart), list, download, delete; limits and roles."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from solocrm.sales.quotes.models import Attachment

URL = "/api/v1/attachments"
PDF = b"%PDF-1.4\n%%EOF\n"


def _file(name="contract.pdf", content=PDF):
    return SimpleUploadedFile(name, content)


def test_upload_list_download_and_delete(owner_client, deal, customer):
    response = owner_client.post(URL, {"file": _file(), "deal": str(deal.uuid)})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["content_type"], body["size"], body["deal"]) == (
        "contract.pdf",
        "application/pdf",
        len(PDF),
        str(deal.uuid),
    )
    owner_client.post(URL, {"file": _file("notes.txt", b"hello"), "contact": str(customer.uuid)})
    assert owner_client.get(URL, {"deal": str(deal.uuid)}).json()["count"] == 1
    assert owner_client.get(URL, {"contact": str(customer.uuid)}).json()["items"][0]["name"] == "notes.txt"
    download = owner_client.get(f"{URL}/{body['uuid']}/download")
    assert b"".join(download.streaming_content) == PDF
    assert download["X-Content-Type-Options"] == "nosniff" and "attachment" in download["Content-Disposition"]
    assert owner_client.delete(f"{URL}/{body['uuid']}").status_code == 204
    assert Attachment.objects.count() == 1


def test_a_disguised_file_is_a_422_and_an_oversize_one_a_413(owner_client, deal, settings):
    disguised = owner_client.post(URL, {"file": _file("photo.png", b"<html></html>"), "deal": str(deal.uuid)})
    assert disguised.status_code == 422 and "not really a PNG" in disguised.json()["detail"]
    settings.SOLOCRM_MAX_ATTACHMENT_BYTES = 10
    big = owner_client.post(URL, {"file": _file(content=PDF * 10), "deal": str(deal.uuid)})
    assert big.status_code == 413
    assert not Attachment.objects.exists()


def test_exactly_one_owner_is_needed(owner_client, deal, customer):
    assert owner_client.post(URL, {"file": _file()}).status_code == 422
    both = owner_client.post(URL, {"file": _file(), "deal": str(deal.uuid), "contact": str(customer.uuid)})
    assert both.status_code == 422
    unknown = owner_client.post(URL, {"file": _file(), "deal": "0190a4b2-0000-7000-8000-000000000000"})
    assert unknown.status_code == 422


def test_roles(viewer_client, assistant, deal, client):
    viewer_upload = viewer_client.post(URL, {"file": _file(), "deal": str(deal.uuid)})
    assert viewer_upload.status_code == 403
    client.force_login(assistant)
    made = client.post(URL, {"file": _file(), "deal": str(deal.uuid)})
    assert made.status_code == 201
    assert client.delete(f"{URL}/{made.json()['uuid']}").status_code == 403


def test_a_stranger_gets_401(client, deal):
    assert client.get(URL).status_code == 401
    assert client.post(URL, {"file": _file(), "deal": str(deal.uuid)}).status_code == 401


def test_an_upload_declared_too_large_is_refused_before_its_body_is_read(client, owner, settings):
    from solocrm.users.models import ApiToken

    settings.SOLOCRM_MAX_ATTACHMENT_BYTES = 1000
    raw = ApiToken.issue(owner, "t")[1]
    # The body is tiny, but the header claims 10 MB: nothing is parsed, the answer is 413 JSON.
    response = client.generic(
        "POST",
        "/api/v1/attachments",
        b"x",
        content_type="multipart/form-data; boundary=zz",
        headers={"authorization": f"Bearer {raw}"},
        CONTENT_LENGTH="10000000",
    )
    assert response.status_code == 413 and "detail" in response.json()
