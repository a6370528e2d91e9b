"""Database guard: a Published version row is never updated (deletion with force stays possible)."""

from django.db import migrations

from hyperdatasets.db_guards import install_guards


def forward(apps, schema_editor):
    install_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("hyperdatasets", "0001_initial")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
