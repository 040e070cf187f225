"""solocrm tickets export: the queue as CSV with the page's filters."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from solocrm.support.tickets import services
from solocrm.support.tickets.choices import TicketSource, TicketStatus


def test_the_export_has_the_filtered_tickets_with_formulas_defused(customer, tmp_path):
    open_one = services.create_ticket(
        contact=customer, subject="=HYPERLINK(1)", body="", source=TicketSource.API
    )
    done = services.create_ticket(contact=customer, subject="Done", body="", source=TicketSource.API)
    services.set_status(done, TicketStatus.SOLVED, user=None)
    out = io.StringIO()
    call_command("tickets", "export", "--status", "unsolved", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["number"] for row in rows] == [str(open_one.number)]
    assert rows[0]["subject"].startswith("'=") and rows[0]["email"] == customer.email
    target = tmp_path / "tickets.csv"
    call_command("tickets", "export", "--output", str(target), stderr=io.StringIO())
    assert len(list(csv.DictReader(target.open(encoding="utf-8")))) == 2


def test_a_bad_filter_is_a_clear_error(db):
    with pytest.raises(CommandError, match="sla"):
        call_command("tickets", "export", "--sla", "whenever", stdout=io.StringIO())
