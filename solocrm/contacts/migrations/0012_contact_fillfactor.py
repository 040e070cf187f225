"""PostgreSQL: leave a fifth of each page of contacts free, so that an update that changes no
indexed column (the analytics refresh moving a contact to a new lifecycle stage, an edited note)
can write the new row version into the same page, a "HOT" update that touches none of the
contacts' indexes (a dozen, the search text's trigram index the dearest). Without the room, every
moved contact adds an entry to every index. Pages written from now on keep the room; SQLite has
no such setting."""

from django.db import migrations

FILLFACTOR = 80


def set_fillfactor(value: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model("contacts", "Contact")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("contacts", "0011_search_text")]

    operations = [migrations.RunPython(set_fillfactor(FILLFACTOR), set_fillfactor(100), elidable=False)]
