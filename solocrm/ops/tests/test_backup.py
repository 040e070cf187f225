"""solocrm backup / restore in this process: a round trip keeps every value, and a damaged,
foreign or newer archive is refused with a clear error before anything changes."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from solocrm.contacts.models import Contact, Tag
from solocrm.ops import backup, restore
from solocrm.sales.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir(exist_ok=True)
    settings.SOLOCRM_ATTACHMENT_DIR = settings.DATA_DIR / "attachments"
    settings.MEDIA_ROOT = settings.DATA_DIR / "files"
    (settings.DATA_DIR / "secret_key").write_text("the-secret")
    return settings.DATA_DIR


@pytest.fixture
def people(db):
    vip = Tag.objects.create(name="vip")
    ada = Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    ada.tags.add(vip)
    Contact.objects.create(
        first_name="张", last_name="伟", email="zhang@example.cn", notes="<script>x</script>"
    )
    Order.objects.create(contact=ada, total=Decimal("12.34"))
    # an old creation time with microseconds: a restore must give back exactly this
    Contact.objects.filter(pk=ada.pk).update(
        created_at=timezone.now() - timedelta(days=400, microseconds=123457)
    )
    return ada


def _snapshot() -> list:
    return sorted(
        Contact.objects.values_list("uuid", "first_name", "email", "notes", "created_at", "updated_at")
    ) + sorted(Order.objects.values_list("uuid", "total", "contact__uuid"))


def test_a_restore_gives_back_every_row_and_value_and_the_files(data_dir, people, tmp_path):
    attachment = data_dir / "attachments" / "ab" / "abcdef"
    attachment.parent.mkdir(parents=True)
    attachment.write_bytes(b"%PDF- quote")
    before = _snapshot()
    report = backup.create_backup(tmp_path / "out" / "b.tar.gz")
    assert report.tables["contacts.contact"] == 2 and report.files == 2
    assert oct(report.path.stat().st_mode & 0o777) == "0o600"

    Contact.objects.filter(pk=people.pk).update(first_name="Changed")
    Contact.objects.create(first_name="New", email="new@example.com")
    attachment.write_bytes(b"tampered")
    (data_dir / "secret_key").write_text("another")
    with pytest.raises(restore.RestoreError, match="--force"):
        restore.restore_backup(report.path)
    restored = restore.restore_backup(report.path, force=True)

    assert _snapshot() == before
    assert list(Contact.objects.get(email="ada@example.com").tags.values_list("name", flat=True)) == ["vip"]
    assert restored.tables["contacts.contact"] == 2
    assert attachment.read_bytes() == b"%PDF- quote"
    assert (data_dir / "secret_key").read_text() == "the-secret"
    # ids continue after the restored ones (the sequences moved on PostgreSQL)
    assert Contact.objects.create(first_name="After", email="after@example.com").pk > people.pk


def _rewrite(source, target, change) -> None:
    """Copy an archive, passing each member's name and bytes through ``change``."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old:
            data = old.extractfile(member).read() if member.isfile() else b""
            name, data = change(member.name, data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))


def _manifest_changed(edit):
    def change(name, data):
        if name != "manifest.json":
            return name, data
        manifest = json.loads(data)
        edit(manifest)
        return name, json.dumps(manifest).encode()

    return change


@pytest.fixture
def archive(data_dir, people, tmp_path):
    return backup.create_backup(tmp_path / "good.tar.gz").path


def test_a_damaged_archive_is_refused_and_names_the_member(archive, tmp_path):
    bad = tmp_path / "bad.tar.gz"
    _rewrite(archive, bad, lambda n, d: (n, d.replace(b"Ada", b"Eve") if n.endswith("contact.jsonl") else d))
    with pytest.raises(restore.RestoreError, match=r"contacts\.contact\.jsonl does not match"):
        restore.check_archive(bad)
    with pytest.raises(CommandError, match="does not match"):
        call_command("backup", verify=str(bad))


def test_an_archive_with_a_path_outside_the_data_folder_is_refused(archive, tmp_path):
    evil = tmp_path / "evil.tar.gz"
    escape = "files/attachments/../../escaped"

    def add_escape(name, data):
        if name == "files/secret_key":
            return escape, b"x"
        return _manifest_changed(lambda m: m["files"].update({escape: hashlib.sha256(b"x").hexdigest()}))(
            name, data
        )

    _rewrite(archive, evil, add_escape)
    Contact.objects.create(first_name="Kept", email="kept@example.com")
    with pytest.raises(restore.RestoreError, match="unsafe path"):
        restore.restore_backup(evil, force=True)
    assert Contact.objects.filter(email="kept@example.com").exists()  # nothing changed
    assert not (tmp_path / "escaped").exists()


def test_a_backup_from_a_newer_version_is_refused_before_anything_changes(archive, tmp_path):
    newer = tmp_path / "newer.tar.gz"
    _rewrite(archive, newer, _manifest_changed(lambda m: m["migrations"].append(["contacts", "9999_future"])))
    Contact.objects.create(first_name="Kept", email="kept@example.com")
    with pytest.raises(restore.RestoreError, match="newer solocrm"):
        restore.restore_backup(newer, force=True)
    assert Contact.objects.filter(email="kept@example.com").exists()


def test_a_file_that_is_not_a_backup_gets_a_clear_error(tmp_path, db):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar")
    with pytest.raises(restore.RestoreError, match="Cannot read"):
        restore.check_archive(junk)
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz"):
        pass
    with pytest.raises(restore.RestoreError, match="not a solocrm backup"):
        restore.check_archive(empty)
