"""/sales/log/: log a call or meeting with its outcome and the next task in one step."""

from datetime import timedelta

import pytest
from django.utils import timezone

from solocrm.contacts.models import Contact, Interaction
from solocrm.sales.deals.services import create_deal
from solocrm.sales.tasks.models import Task
from solocrm.sales.tasks.services import create_task

pytestmark = pytest.mark.django_db
LOG = "/sales/log/"


@pytest.fixture
def ada(db):
    return Contact.objects.create(first_name="Ada", last_name="Lovelace", phone="+442079460958")


def _form(**extra) -> dict:
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    return {
        "kind": "call",
        "outcome": "connected",
        "occurred_at": now,
        "notes": "",
        "next_when": "3days",
        **extra,
    }


def test_the_phone_page_is_built_from_the_task(assistant_client, ada):
    task = create_task(title="Call Ada back", kind="call", contact=ada)
    page = assistant_client.get(LOG, {"task": str(task.uuid)}).content.decode()
    assert "Call Ada back" in page and 'href="tel:+442079460958"' in page
    assert f'name="task" value="{task.uuid}"' in page and f'name="contact" value="{ada.uuid}"' in page
    assert 'type="radio"' in page and "Log it and mark the task done" in page


def test_logging_a_call_finishes_the_task_and_plans_the_next(assistant_client, ada, assistant):
    deal = create_deal({"title": "Engine", "contact": ada})
    task = create_task(title="Call Ada back", kind="call", contact=ada)
    data = _form(
        task=str(task.uuid),
        contact=str(ada.uuid),
        deal=str(deal.uuid),
        outcome="interested",
        notes="wants <b>two</b>",
        next_title="Send quote",
        next_when="week",
    )
    response = assistant_client.post(LOG, data)
    assert response.status_code == 302, response.context["log_form"].errors
    assert response["Location"] == f"/contacts/{ada.uuid}/"
    call = Interaction.objects.get()
    assert (call.kind, call.deal, call.data["outcome"], call.author) == (
        "call",
        deal,
        "interested",
        assistant,
    )
    assert Task.objects.get(pk=task.pk).is_done
    follow_up = Task.objects.get(title="Send quote")
    assert timezone.localtime(follow_up.due_at).date() == timezone.localdate() + timedelta(days=7)
    assert (follow_up.deal, follow_up.contact, follow_up.all_day) == (deal, ada, True)


def test_a_custom_next_date(assistant_client, ada):
    day = timezone.localdate() + timedelta(days=12)
    data = _form(contact=str(ada.uuid), next_title="Visit", next_when="custom", next_date=day.isoformat())
    assistant_client.post(LOG, data)
    assert timezone.localtime(Task.objects.get().due_at).date() == day


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "survey"},
        {"outcome": "meh"},
        {"occurred_at": "2031-02-30T10:00"},
        {"occurred_at": "yesterday"},
        {"next_title": "x", "next_when": "custom"},
        {"next_title": "x", "next_when": "custom", "next_date": "2031-13-01"},
        {"next_when": "someday"},
        {"occurred_at": "2999-01-01T10:00"},
    ],
)
def test_bad_input_changes_nothing(assistant_client, ada, bad):
    task = create_task(title="Call", contact=ada)
    response = assistant_client.post(LOG, _form(contact=str(ada.uuid), task=str(task.uuid), **bad))
    assert response.status_code == 422
    assert not Interaction.objects.exists() and not Task.objects.get(pk=task.pk).is_done
    assert Task.objects.count() == 1


def test_unknown_ids_are_404_and_no_subject_goes_back_to_the_tasks(assistant_client, ada):
    assert assistant_client.get(LOG, {"contact": "00000000-0000-0000-0000-000000000000"}).status_code == 404
    assert assistant_client.get(LOG, {"contact": "not-a-uuid"}).status_code == 404
    assert assistant_client.get(LOG)["Location"] == "/sales/tasks/"


def test_a_deal_of_another_contact_cannot_be_chosen(assistant_client, ada):
    other = create_deal({"title": "Bob's", "contact": Contact.objects.create(first_name="Bob")})
    response = assistant_client.post(LOG, _form(contact=str(ada.uuid), deal=str(other.uuid)))
    assert response.status_code == 422 and not Interaction.objects.exists()


def test_roles(viewer_client, client, ada):
    assert viewer_client.get(LOG, {"contact": str(ada.uuid)}).status_code == 403
    assert viewer_client.post(LOG, _form(contact=str(ada.uuid))).status_code == 403
    client.logout()
    assert client.get(LOG, {"contact": str(ada.uuid)}).status_code == 302
    assert not Interaction.objects.exists()


def test_the_contact_page_carries_the_form(client, owner, viewer, ada):
    client.force_login(owner)
    page = client.get(f"/contacts/{ada.uuid}/?compose=call").content.decode()
    assert 'action="/sales/log/"' in page and f'name="contact" value="{ada.uuid}"' in page
    client.force_login(viewer)
    assert 'action="/sales/log/"' not in client.get(f"/contacts/{ada.uuid}/?compose=call").content.decode()


def test_notes_are_escaped_on_the_timeline(owner_client, ada):
    owner_client.post(LOG, _form(contact=str(ada.uuid), subject="<script>x()</script>"))
    page = owner_client.get(f"/contacts/{ada.uuid}/").content.decode()
    assert "<script>x()</script>" not in page and "&lt;script&gt;" in page
