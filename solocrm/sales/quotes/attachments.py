"""Files attached to deals and contacts (contracts, briefs, signed quotes).

A file is accepted only when its extension is on the allow-list AND its first bytes are what
that kind of file starts with, so an .exe renamed .pdf or a web page renamed .png is refused.
It is stored under SOLOCRM_ATTACHMENT_DIR with the attachment's UUID as its name (never the
user's: no path tricks, no clashes), written to a temporary file in the same folder and renamed
into place only together with the database row, so a failed save leaves nothing on disk."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from solocrm.contacts.models import Contact
from solocrm.lib.ids import uuid7
from solocrm.sales.deals.models import Deal
from solocrm.sales.quotes.models import Attachment
from solocrm.users.models import AuditLog

HEAD_BYTES = 8192
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_STORED_NAME = re.compile(r"[0-9a-f]{32}")
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|]")
_WEB_PAGE = re.compile(rb"^\s*(<!doctype\s+html|<html|<script|<svg|<\?xml[^>]*>\s*<svg)", re.IGNORECASE)


class AttachmentError(ValueError):
    """An upload that is refused; ``too_large`` uploads answer 413 in the API."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


# --- what a file really is ------------------------------------------------------------------


def _is_text(head: bytes, path: Path) -> bool:
    """Plain text: no NUL bytes, decodes as UTF-8 (or a legacy 8-bit text), not a web page."""
    if b"\x00" in head or _WEB_PAGE.match(head.lstrip(b"\xef\xbb\xbf")):
        return False
    return not head.startswith((b"MZ", b"\x7fELF", b"%PDF", b"PK\x03\x04", OLE))


def _zip_names(path: Path) -> set[str] | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _ooxml(folder: str) -> Callable[[bytes, Path], bool]:
    """Office Open XML (docx/xlsx/pptx): a zip with [Content_Types].xml and its part folder."""

    def check(head: bytes, path: Path) -> bool:
        names = _zip_names(path) if head.startswith(b"PK\x03\x04") else None
        return bool(names) and "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)

    return check


def _odf(mimetype: str) -> Callable[[bytes, Path], bool]:
    """OpenDocument (odt/ods): a zip whose first entry, "mimetype", names the kind."""

    def check(head: bytes, path: Path) -> bool:
        if not head.startswith(b"PK\x03\x04") or _zip_names(path) is None:
            return False
        with zipfile.ZipFile(path) as archive:
            try:
                # Read 100 bytes at most: a crafted entry could unpack to gigabytes.
                if archive.getinfo("mimetype").file_size > 100:
                    return False
                with archive.open("mimetype") as entry:
                    return entry.read(100).strip() == mimetype.encode()
            except (KeyError, zipfile.BadZipFile, OSError):
                return False

    return check


def _starts(*prefixes: bytes) -> Callable[[bytes, Path], bool]:
    return lambda head, path: head.startswith(prefixes)


def _webp(head: bytes, path: Path) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


@dataclass(frozen=True)
class Kind:
    content_type: str
    check: Callable[[bytes, Path], bool]


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
KINDS: dict[str, Kind] = {
    ".pdf": Kind("application/pdf", _starts(b"%PDF-")),
    ".png": Kind("image/png", _starts(b"\x89PNG\r\n\x1a\n")),
    ".jpg": Kind("image/jpeg", _starts(b"\xff\xd8\xff")),
    ".jpeg": Kind("image/jpeg", _starts(b"\xff\xd8\xff")),
    ".gif": Kind("image/gif", _starts(b"GIF87a", b"GIF89a")),
    ".webp": Kind("image/webp", _webp),
    ".txt": Kind("text/plain", _is_text),
    ".csv": Kind("text/csv", _is_text),
    ".docx": Kind(DOCX, _ooxml("word/")),
    ".xlsx": Kind(XLSX, _ooxml("xl/")),
    ".pptx": Kind(PPTX, _ooxml("ppt/")),
    ".odt": Kind(ODT, _odf(ODT)),
    ".ods": Kind(ODS, _odf(ODS)),
    ".doc": Kind("application/msword", _starts(OLE)),
    ".xls": Kind("application/vnd.ms-excel", _starts(OLE)),
}
ALLOWED_EXTENSIONS = tuple(KINDS)


def safe_name(name: str) -> str:
    """The user's file name as shown and offered on download: no folders, no control or
    reserved characters, at most 255 characters with the extension kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_CHARS.sub("_", name).strip(" .")
    if not name:
        return "file"
    stem, dot, suffix = name.rpartition(".")
    if dot and len(suffix) <= 10 and len(name) > 255:
        return stem[: 254 - len(suffix)] + "." + suffix
    return name[:255]


def kind_of(name: str, head: bytes, path: Path) -> Kind:
    """The allowed kind of a file, checked by extension and content; else AttachmentError."""
    suffix = Path(name).suffix.lower()
    kind = KINDS.get(suffix)
    if kind is None:
        raise AttachmentError(
            _("Files of type “%(suffix)s” cannot be attached. Allowed: %(allowed)s.")
            % {"suffix": suffix or _("no extension"), "allowed": ", ".join(e.lstrip(".") for e in KINDS)}
        )
    if not kind.check(head, path):
        raise AttachmentError(
            _("“%(name)s” is not really a %(suffix)s file (its content says otherwise), so it was refused.")
            % {"name": name, "suffix": suffix.lstrip(".").upper()}
        )
    return kind


# --- storing ----------------------------------------------------------------------------------


def folder() -> Path:
    path = Path(settings.SOLOCRM_ATTACHMENT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


# The multipart boundaries and the other fields around the file.
ENVELOPE_BYTES = 64 * 1024


def declared_too_large(request) -> bool:
    """Whether the request says (Content-Length) it carries more than any allowed file: refused
    before its body is read."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return declared > settings.SOLOCRM_MAX_ATTACHMENT_BYTES + ENVELOPE_BYTES


def too_large_message() -> str:
    return _("The file is larger than the limit of %(limit)s.") % {
        "limit": filesizeformat(settings.SOLOCRM_MAX_ATTACHMENT_BYTES)
    }


def _write_temp(chunks: Iterable[bytes]) -> tuple[Path, int, str]:
    """Copy the upload to a temporary file beside the attachments, counting and hashing;
    stops as soon as it grows past the limit."""
    limit = settings.SOLOCRM_MAX_ATTACHMENT_BYTES
    digest, size = hashlib.sha256(), 0
    handle = tempfile.NamedTemporaryFile(dir=folder(), prefix=".upload-", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    try:
        with handle:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise AttachmentError(too_large_message(), too_large=True)
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size, digest.hexdigest()


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def store_attachment(
    upload, *, deal: Deal | None = None, contact: Contact | None = None, actor=None
) -> Attachment:
    """Keep ``upload`` (a Django UploadedFile) attached to ``deal`` or ``contact``.

    Raises AttachmentError for an empty, oversize or disallowed file; nothing is stored then."""
    if (deal is None) == (contact is None):
        raise ValueError("attach to exactly one deal or contact")
    if upload.size is not None and upload.size > settings.SOLOCRM_MAX_ATTACHMENT_BYTES:
        raise AttachmentError(too_large_message(), too_large=True)
    name = safe_name(upload.name or "")
    temp, size, sha256 = _write_temp(upload.chunks())
    try:
        if size == 0:
            raise AttachmentError(_("The file is empty."))
        kind = kind_of(name, _head(temp), temp)
        return _save(temp, name, kind, size, sha256, deal=deal, contact=contact, actor=actor)
    finally:
        temp.unlink(missing_ok=True)  # renamed away on success; removed on any failure


def _save(temp: Path, name: str, kind: Kind, size: int, sha256: str, *, deal, contact, actor) -> Attachment:
    public_id = uuid7()
    final = folder() / public_id.hex
    attachment = Attachment(
        uuid=public_id,
        deal=deal,
        contact=contact,
        original_name=name,
        stored_name=public_id.hex,
        content_type=kind.content_type,
        size=size,
        sha256=sha256,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        with transaction.atomic():
            attachment.full_clean(exclude=["uuid"])
            attachment.save()
            target = deal or contact
            AuditLog.record(actor, "attachment.create", attachment, summary=f"{name} → {target}"[:300])
            os.replace(temp, final)  # the same folder, so the rename is atomic
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    return attachment


def path_of(attachment: Attachment) -> Path:
    """Where the file is on disk; refuses a stored name that is not one of ours."""
    if not _STORED_NAME.fullmatch(attachment.stored_name):
        raise FileNotFoundError(attachment.stored_name)
    return Path(settings.SOLOCRM_ATTACHMENT_DIR) / attachment.stored_name


def download_response(attachment: Attachment) -> FileResponse:
    """The file as a download, for the web page and the API alike; Http404 when it is gone."""
    try:
        handle = path_of(attachment).open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a browser rendered it, a file from a customer may run nothing on our origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@transaction.atomic
def delete_attachment(attachment: Attachment, *, actor=None) -> None:
    """Delete the record, and the file once the deletion is committed."""
    path = path_of(attachment)
    AuditLog.record(actor, "attachment.delete", attachment, summary=attachment.original_name)
    attachment.delete()
    transaction.on_commit(lambda: path.unlink(missing_ok=True))
