"""Fixtures of the support tests: a customer, and the mail tests' real Dovecot server and
account (solocrm/mail/tests/conftest.py) for tickets from mail."""

import pytest

from solocrm.contacts.models import Contact
from solocrm.mail.tests.conftest import account, ada, dovecot  # noqa: F401 - reused fixtures


@pytest.fixture
def customer(db):
    return Contact.objects.create(first_name="Ada", last_name="Lovelace", email="ada@customer.test")


@pytest.fixture
def deal(customer, owner):
    from decimal import Decimal

    from solocrm.sales.deals.services import create_deal

    return create_deal(
        {"title": "Garden redesign", "contact": customer, "amount": Decimal("900")}, actor=owner
    )
