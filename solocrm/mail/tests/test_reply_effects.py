"""What a customer's e-mail changes in sales: open deals are active again; a lead who answers
an e-mail of ours is marked answered (once); a lead who writes first still waits for us."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from solocrm.contacts.choices import InteractionKind, LifecycleStage
from solocrm.contacts.models import Interaction
from solocrm.mail import sync
from solocrm.sales.deals.models import Deal
from solocrm.sales.deals.services import create_deal

from .factory import message

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_email_from_a_contact_makes_their_open_deal_active(account, dovecot, ada):
    deal = create_deal({"title": "Website", "contact": ada})
    old = timezone.now() - timedelta(days=40)
    Deal.objects.filter(pk=deal.pk).update(last_activity_at=old)
    assert Deal.objects.stalled().filter(pk=deal.pk).exists()
    sent = timezone.now() - timedelta(hours=1)
    dovecot.append(message(subject="Any news?", date=sent))
    sync.sync_account(account)
    deal.refresh_from_db()
    assert abs(deal.last_activity_at - sent) < timedelta(seconds=1)
    assert not Deal.objects.stalled().filter(pk=deal.pk).exists()


def test_a_future_date_does_not_park_a_deal_in_the_future(account, dovecot, ada):
    deal = create_deal({"title": "Website", "contact": ada})
    dovecot.append(message(date=datetime(2099, 1, 1, tzinfo=UTC)))
    sync.sync_account(account)
    deal.refresh_from_db()
    assert deal.last_activity_at <= timezone.now()


def test_a_lead_answering_our_email_is_marked_answered_once(account, dovecot, ada):
    ada.lifecycle_stage = LifecycleStage.LEAD
    ada.save()
    now = timezone.now()
    dovecot.append(
        message(
            sender="owner@example.com", to="ada@customer.test", subject="Hello", date=now - timedelta(hours=2)
        ),
        folder="Sent",
    )
    dovecot.append(message(subject="Re: Hello", date=now - timedelta(hours=1)))
    dovecot.append(message(subject="Re: Hello again", date=now - timedelta(minutes=30)))
    sync.sync_account(account)
    marks = Interaction.objects.filter(
        contact=ada, kind=InteractionKind.SYSTEM, data__event=sync.LEAD_ANSWERED
    )
    assert marks.count() == 1 and marks.get().data["mail_message"]
    dovecot.append(message(subject="Third", date=now - timedelta(minutes=5)))
    sync.sync_account(account)
    assert marks.count() == 1


def test_a_lead_writing_first_still_waits_for_us(account, dovecot, ada):
    ada.lifecycle_stage = LifecycleStage.LEAD
    ada.save()
    dovecot.append(message(subject="Can you help?", date=timezone.now() - timedelta(minutes=3)))
    sync.sync_account(account)
    assert not Interaction.objects.filter(contact=ada, kind=InteractionKind.SYSTEM).exists()
    from solocrm.sales.leadforms.services import leads_waiting_for_reply

    assert ada.pk in [c.pk for c in leads_waiting_for_reply()]
