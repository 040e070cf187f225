import pytest

from solocrm.contacts.models import Contact


def test_a_western_name_reads_first_name_first():
    assert Contact(first_name="Ada", last_name="Lovelace").full_name == "Ada Lovelace"


def test_a_chinese_name_reads_family_name_first_without_a_space():
    assert Contact(first_name="小明", last_name="王").full_name == "王小明"


def test_a_contact_without_a_name_is_shown_by_its_email():
    assert str(Contact(email="ada@example.com")) == "ada@example.com"


@pytest.mark.django_db
def test_contact_pages_keep_room_for_updates_in_place_on_postgresql():
    """The refresh moves contacts to new stages: with free room in each page those new row
    versions can skip the contacts' indexes (migration 0012)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL storage setting")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [Contact._meta.db_table])
        assert "fillfactor=80" in (cursor.fetchone()[0] or [])
