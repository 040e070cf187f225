"""One contact per normalised primary e-mail (contacts/identity.py).

An upgraded database may already hold contacts sharing a primary address (in any case). Before
the unique index is built, each such group keeps the address on its oldest contact; on every
later one the address moves to its other e-mails (nothing is lost, nothing is merged behind the
owner's back) and a timeline entry says why. The duplicates page then lists the group with the
reason "same e-mail address", for the owner to merge. See docs/decisions.md."""

from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower
from django.utils import timezone

from solocrm.contacts.identity import email_key

NOTE = "E-mail address %(email)s moved to the other e-mails: it is also the e-mail of an older contact"


def _normalise_unusual(Contact) -> None:
    """Addresses whose key is more than lower(): IDNA domains, a trailing dot. Few, if any."""
    unusual = Contact.objects.filter(
        models.Q(email__contains="xn--")
        | models.Q(email__endswith=".")
        | models.Q(email__regex=r"[^\x00-\x7f]")
    )
    for contact in unusual.only("id", "email").iterator():
        key = email_key(contact.email)
        if key != contact.email:
            Contact.objects.filter(pk=contact.pk).update(email=key)


def resolve_duplicates(apps, schema_editor) -> None:
    Contact = apps.get_model("contacts", "Contact")
    Interaction = apps.get_model("contacts", "Interaction")
    _normalise_unusual(Contact)
    shared = (
        Contact.objects.exclude(email="")
        .annotate(key=Lower("email"))
        .order_by()
        .values("key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("key", flat=True)
    )
    now = timezone.now()
    for key in list(shared):
        group = list(
            Contact.objects.annotate(key=Lower("email")).filter(key=key).order_by("created_at", "id")
        )
        for contact in group[1:]:
            address = contact.email
            others = list(contact.other_emails or [])
            if key not in {email_key(o) for o in others}:
                others.insert(0, key)  # normalised, as every address is stored from now on
            Contact.objects.filter(pk=contact.pk).update(email="", other_emails=others)
            Interaction.objects.create(
                contact_id=contact.pk,
                company_id=contact.company_id,
                kind="system",
                occurred_at=now,
                subject=(NOTE % {"email": address})[:300],
                data={"moved_email": address, "kept_by": str(group[0].uuid)},
            )


def add_other_email_index(apps, schema_editor) -> None:
    """Lets the identity rules find an address among the *other* e-mails without reading every
    contact: only contacts that have other e-mails are indexed, so imports of ordinary rows pay
    nothing for it."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX contact_other_emails ON contacts_contact USING gin (other_emails) "
            "WHERE other_emails <> '[]'::jsonb"
        )
    else:
        schema_editor.execute(
            "CREATE INDEX contact_other_emails ON contacts_contact (id) WHERE other_emails <> '[]'"
        )


def drop_other_email_index(apps, schema_editor) -> None:
    schema_editor.execute("DROP INDEX IF EXISTS contact_other_emails")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0009_merge_import_options")]

    operations = [
        migrations.RunPython(resolve_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="contact",
            constraint=models.UniqueConstraint(
                Lower("email"), condition=models.Q(email__gt=""), name="contact_email_ci_unique"
            ),
        ),
        migrations.RunPython(add_other_email_index, drop_other_email_index),
    ]
