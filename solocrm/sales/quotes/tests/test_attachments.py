"""Files on deals and contacts: allowed and disguised types, size limits, safe names and
storage, download headers, deletion, and who may do what."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError

from solocrm.sales.quotes import attachments
from solocrm.sales.quotes.models import Attachment
from solocrm.users.models import AuditLog

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
ODT = _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def _stored_files(settings) -> list[Path]:
    folder = Path(settings.SOLOCRM_ATTACHMENT_DIR)
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("contract.pdf", PDF, "application/pdf"),
        ("photo.PNG", PNG, "image/png"),
        ("scan.jpeg", JPEG, "image/jpeg"),
        ("notes.txt", "Grüße, 你好\n".encode(), "text/plain"),
        ("data.csv", b"a,b\n1,2\n", "text/csv"),
        ("offer.docx", DOCX, attachments.DOCX),
        ("offer.odt", ODT, attachments.ODT),
        ("old.doc", OLE, "application/msword"),
        ("anim.gif", b"GIF89a" + b"\x00" * 10, "image/gif"),
        ("pic.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
    ],
)
def test_allowed_files_are_stored_under_their_uuid_with_a_hash(
    deal, owner, settings, name, content, content_type
):
    attachment = attachments.store_attachment(_upload(name, content), deal=deal, actor=owner)
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        name,
        content_type,
        len(content),
    )
    path = attachments.path_of(attachment)
    assert path.name == attachment.uuid.hex and path.read_bytes() == content
    import hashlib

    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert _stored_files(settings) == [path]  # no temporary file left behind
    assert AuditLog.objects.filter(action="attachment.create", object_uuid=attachment.uuid).exists()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 60, "not really a PDF"),
        ("photo.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "not really a PNG"),
        ("notes.txt", b"<html><body onload=alert(1)>", "not really a TXT"),
        ("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "cannot be attached"),
        ("tool.exe", b"MZ\x90\x00", "cannot be attached"),
        ("page.html", b"<p>hi</p>", "cannot be attached"),
        ("noextension", PDF, "cannot be attached"),
        ("fake.docx", b"PK\x03\x04not really a zip", "not really a DOCX"),
        ("sheet.xlsx", DOCX, "not really a XLSX"),  # a zip, but a Word document inside
        ("fake.doc", PDF, "not really a DOC"),
        ("text.odt", b"plain text", "not really a ODT"),
        ("binary.csv", b"a,b\x00\x01\x02", "not really a CSV"),
    ],
)
def test_disguised_or_unknown_files_are_refused_and_nothing_is_stored(deal, settings, name, content, reason):
    with pytest.raises(attachments.AttachmentError, match=reason):
        attachments.store_attachment(_upload(name, content), deal=deal)
    assert not Attachment.objects.exists() and _stored_files(settings) == []


def test_a_file_over_the_limit_is_refused_by_its_actual_size(deal, settings):
    settings.SOLOCRM_MAX_ATTACHMENT_BYTES = 1000
    upload = _upload("big.pdf", PDF + b"x" * 2000)
    upload.size = 10  # a client may claim anything: the bytes are counted while copying
    with pytest.raises(attachments.AttachmentError, match="larger than") as error:
        attachments.store_attachment(upload, deal=deal)
    assert error.value.too_large and _stored_files(settings) == []


def test_an_empty_file_is_refused(deal, settings):
    with pytest.raises(attachments.AttachmentError, match="empty"):
        attachments.store_attachment(_upload("empty.pdf", b""), deal=deal)
    assert _stored_files(settings) == []


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("/absolute/path/contract.pdf", "contract.pdf"),
        ('we"ird<>|:*?name.pdf', "we_ird______name.pdf"),
        ("line\nbreak\x00.pdf", "line_break_.pdf"),
        ("  report.pdf. ", "report.pdf"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
def test_path_tricks_in_names_never_reach_the_disk(deal, settings, name, safe):
    attachment = attachments.store_attachment(
        _upload(name, PDF if safe.endswith(".pdf") else b"hello"), deal=deal
    )
    assert attachment.original_name == safe
    assert attachments.path_of(attachment).parent == Path(settings.SOLOCRM_ATTACHMENT_DIR)


def test_a_failed_database_write_leaves_no_file(deal, settings, monkeypatch):
    def fail(*args, **kwargs):
        raise IntegrityError("boom")

    monkeypatch.setattr(Attachment, "save", fail)
    with pytest.raises(IntegrityError):
        attachments.store_attachment(_upload("contract.pdf", PDF), deal=deal)
    assert _stored_files(settings) == []


def test_a_stored_name_that_is_not_ours_is_never_opened(deal):
    attachment = attachments.store_attachment(_upload("contract.pdf", PDF), deal=deal)
    attachment.stored_name = "../../secret_key"
    with pytest.raises(FileNotFoundError):
        attachments.path_of(attachment)


def test_deleting_removes_the_record_and_the_file(deal, settings, django_capture_on_commit_callbacks):
    attachment = attachments.store_attachment(_upload("contract.pdf", PDF), deal=deal)
    with django_capture_on_commit_callbacks(execute=True):
        attachments.delete_attachment(attachment)
    assert not Attachment.objects.exists() and _stored_files(settings) == []


# --- the pages ----------------------------------------------------------------------------------


def test_uploading_on_a_contact_page_and_downloading_safely(owner_client, customer):
    response = owner_client.post(
        f"/sales/attachments/contact/{customer.uuid}/", {"file": _upload("Vertrag März.pdf", PDF)}
    )
    assert response.status_code == 302 and response["Location"] == f"/contacts/{customer.uuid}/"
    attachment = Attachment.objects.get(contact=customer)
    page = owner_client.get(f"/contacts/{customer.uuid}/").content.decode()
    assert "Vertrag März.pdf" in page and f"/sales/attachments/{attachment.uuid}/download/" in page
    download = owner_client.get(f"/sales/attachments/{attachment.uuid}/download/")
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''Vertrag%20M%C3%A4rz.pdf" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert b"".join(download.streaming_content) == PDF


def test_a_disguised_upload_gets_a_clear_message_on_the_page(owner_client, deal):
    response = owner_client.post(
        f"/sales/attachments/deal/{deal.uuid}/", {"file": _upload("photo.png", b"<html>")}, follow=True
    )
    assert "is not really a PNG file" in response.content.decode()
    assert not Attachment.objects.exists()


def test_an_oversize_upload_is_refused_from_its_content_length_before_it_is_read(
    owner_client, deal, settings
):
    settings.SOLOCRM_MAX_ATTACHMENT_BYTES = 1024
    body = b"x" * 200_000
    response = owner_client.post(
        f"/sales/attachments/deal/{deal.uuid}/",
        data=body,
        content_type="multipart/form-data; boundary=BoUnDaRy",
    )
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("larger than the limit of 1.0" in m for m in messages)
    assert not Attachment.objects.exists()


def test_the_upload_form_is_csrf_protected(owner, deal):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    response = strict.post(f"/sales/attachments/deal/{deal.uuid}/", {"file": _upload("a.pdf", PDF)})
    assert response.status_code == 403 and not Attachment.objects.exists()


def test_roles_for_attachments(owner, viewer, assistant, customer):
    from django.test import Client

    client, owner_client = Client(), Client()
    owner_client.force_login(owner)
    attachment = attachments.store_attachment(_upload("contract.pdf", PDF), contact=customer)
    url = f"/sales/attachments/contact/{customer.uuid}/"
    client.force_login(viewer)
    assert client.get(f"/sales/attachments/{attachment.uuid}/download/").status_code == 200
    assert client.post(url, {"file": _upload("b.pdf", PDF)}).status_code == 403
    client.force_login(assistant)
    assert client.post(url, {"file": _upload("b.pdf", PDF)}).status_code == 302
    assert client.post(f"/sales/attachments/{attachment.uuid}/delete/").status_code == 403
    assert owner_client.post(f"/sales/attachments/{attachment.uuid}/delete/").status_code == 302
    assert not Attachment.objects.filter(pk=attachment.pk).exists()


def test_a_stranger_can_neither_upload_nor_download(client, deal):
    attachment = attachments.store_attachment(_upload("contract.pdf", PDF), deal=deal)
    assert client.get(f"/sales/attachments/{attachment.uuid}/download/").status_code == 302
    response = client.post(f"/sales/attachments/deal/{deal.uuid}/", {"file": _upload("b.pdf", PDF)})
    assert response.status_code in (302, 403) and Attachment.objects.count() == 1


def test_an_unknown_owner_kind_is_a_404(owner_client, deal):
    assert owner_client.post(f"/sales/attachments/order/{deal.uuid}/", {}).status_code == 404
