from solocrm.contacts.models import Contact


def test_a_western_name_reads_first_name_first():
    assert Contact(first_name="Ada", last_name="Lovelace").full_name == "Ada Lovelace"


def test_a_chinese_name_reads_family_name_first_without_a_space():
    assert Contact(first_name="小明", last_name="王").full_name == "王小明"


def test_a_contact_without_a_name_is_shown_by_its_email():
    assert str(Contact(email="ada@example.com")) == "ada@example.com"
