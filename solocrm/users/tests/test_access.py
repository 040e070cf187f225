import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from solocrm.contacts.models import Contact
from solocrm.lib.access import can, get_for, role_of


def test_each_persona_has_its_role(owner, assistant, viewer):
    assert (role_of(owner), role_of(assistant), role_of(viewer)) == ("owner", "assistant", "viewer")


def test_a_viewer_may_view_but_not_edit(viewer):
    assert can(viewer, "view")
    assert not can(viewer, "edit")


def test_an_assistant_may_edit_but_not_administer(assistant):
    assert can(assistant, "edit")
    assert not can(assistant, "admin")
    assert not can(assistant, "delete")


def test_a_stranger_may_do_nothing(db):
    from django.contrib.auth.models import AnonymousUser

    assert role_of(AnonymousUser()) is None
    assert not can(AnonymousUser(), "view")


def test_get_for_checks_the_role_before_the_object(viewer):
    contact = Contact.objects.create(first_name="Ada")
    assert get_for(viewer, Contact, contact.uuid) == contact
    with pytest.raises(PermissionDenied):
        get_for(viewer, Contact, contact.uuid, "edit")


@pytest.mark.parametrize("bad_id", ["not-a-uuid", str(uuid.uuid4()), "1"])
def test_get_for_answers_404_for_unknown_or_malformed_ids(owner, bad_id):
    with pytest.raises(Http404):
        get_for(owner, Contact, bad_id)
