"""The search text of contacts and companies (lib.search) and the database's index over it
(lib.search_index: SQLite FTS5 trigram, PostgreSQL pg_trgm GIN), filled for existing rows in
batches before the index is built (building it once is faster than updating it row by row)."""

from django.db import migrations, models

from solocrm.lib import search_index
from solocrm.lib.search import search_text

BATCH = 5000


def fill_contacts(apps, schema_editor):
    # The historical model has no methods: the text is built from the same function the model uses.
    from solocrm.contacts.models import contact_search_text

    Contact = apps.get_model("contacts", "Contact")
    fields = ("id", "first_name", "last_name", "email", "other_emails", "phone", "other_phones", "company__name")
    last = 0
    while True:
        rows = list(Contact.objects.filter(id__gt=last).order_by("id").values_list(*fields)[:BATCH])
        if not rows:
            return
        last = rows[-1][0]
        search_index.write(
            Contact,
            [(contact_search_text(f, la, e, oe, p, op, c or ""), pk) for pk, f, la, e, oe, p, op, c in rows],
        )


def fill_companies(apps, schema_editor):
    Company = apps.get_model("contacts", "Company")
    last = 0
    while True:
        rows = list(
            Company.objects.filter(id__gt=last).order_by("id").values_list("id", "name", "industry", "domain", "phone")[
                :BATCH
            ]
        )
        if not rows:
            return
        last = rows[-1][0]
        search_index.write(
            Company,
            [(search_text(n, i, emails=[d] if d else [], phones=[p]), pk) for pk, n, i, d, p in rows],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0010_unique_contact_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="company",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False, verbose_name="search text"),
        ),
        migrations.AddField(
            model_name="contact",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False, verbose_name="search text"),
        ),
        migrations.RunPython(fill_companies, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(fill_contacts, migrations.RunPython.noop, elidable=False),
        search_index.operations("contacts_company"),
        search_index.operations("contacts_contact"),
    ]
