"""`solocrm import`: summary, --json, --dry-run, --mapping, exit codes."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from solocrm.contacts.models import Contact

FIXTURES = Path(__file__).parent / "fixtures"


def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("Who,Mail\nAda,ada@example.com\n,nope\n")
    return path


@pytest.mark.django_db
def test_json_prints_the_report_as_one_object(tmp_path):
    out = StringIO()
    call_command(
        "import",
        "contacts",
        str(people(tmp_path)),
        "--json",
        "--mapping",
        "Who=full_name",
        "Mail=email",
        stdout=out,
    )
    report = json.loads(out.getvalue())
    assert (report["kind"], report["created"], report["rejected"]) == ("contacts", 1, 1)
    assert report["errors"] == [
        {"line": 3, "column": "Mail", "reason": "“nope” is not a valid e-mail address"},
        {"line": 3, "column": "", "reason": "the row has no name, no e-mail, no phone and no company"},
    ]
    assert Path(report["rejected_path"]).exists()


@pytest.mark.django_db
def test_it_prints_a_plain_summary_when_not_on_a_terminal(tmp_path):
    out = StringIO()
    call_command("import", "contacts", str(FIXTURES / "google_contacts.csv"), "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Dry run" in text and "created" in text and "3" in text
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_source_names_the_import_in_the_consent_source(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Email,Newsletter\nada@example.com,yes\n")
    call_command("import", "contacts", str(path), "--source", "fair 2024", stdout=StringIO())
    assert Contact.objects.get().email_consent_source == "import: fair 2024"


@pytest.mark.django_db
def test_an_unreadable_file_is_a_command_error(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command("import", "contacts", str(path), stdout=StringIO())


@pytest.mark.django_db
def test_a_bad_mapping_argument_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="HEADER=FIELD"):
        call_command("import", "contacts", str(people(tmp_path)), "--mapping", "Who", stdout=StringIO())


def test_the_process_exits_with_1_and_a_message_on_stderr_for_an_unreadable_file(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"\x00\x01\x02" * 1000)
    env = {"SOLOCRM_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "solocrm.cli", "import", "contacts", str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parents[3],
        check=False,
    )
    assert done.returncode == 1
    assert "not a spreadsheet" in done.stderr
