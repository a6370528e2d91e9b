"""On PostgreSQL, the frame rows' ``meta`` gets a GIN index, so a query's meta equalities find their rows.

``(dataset_id, meta jsonb_path_ops)``, as the labels' index: ``btree_gin`` (created by 0007) for the
uuid, so a value common in one dataset does not slow the queries of another. Meta terms compile to
``meta @> '{...}'`` (``Dialect.meta_equals``), which this index answers; the planner uses it for a count
or a page whose order is not the page order, and ``frames_page`` for its candidate-first plan.
SQLite has no such index: its queries walk the page order as before.
"""

from django.db import migrations

INDEX = "frame_meta_gin"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON hyperdatasets_frame USING gin (dataset_id, meta jsonb_path_ops)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("hyperdatasets", "0010_idempotent_requests"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
