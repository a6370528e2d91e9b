"""On PostgreSQL the frame rows' ``labels`` (each ROI's labels, once per ROI) become ``jsonb``.

Label rules read that column for every frame they check (``?``, ``@>``, a count of one label): as text, each
read parsed the JSON again, several times per row for a rule with a count range. Stored as ``jsonb`` it is
parsed once, when written (COPY takes the same text). The GIN index on ``(dataset_id, labels::jsonb)`` is
rebuilt on the column itself; the queries' ``labels::jsonb`` is then a no-op cast and still matches it. The
model keeps a text field (SQLite stores text; readers take either form: ``selectors.frames.load_json``).
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE hyperdatasets_frame ALTER COLUMN labels TYPE jsonb USING labels::jsonb")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # The index is on the column itself now: it goes, and comes back on the text's cast (as 0007 made it).
        schema_editor.execute("DROP INDEX IF EXISTS frame_labels_gin")
        schema_editor.execute("ALTER TABLE hyperdatasets_frame ALTER COLUMN labels TYPE text USING labels::text")
        schema_editor.execute("CREATE INDEX frame_labels_gin ON hyperdatasets_frame "
                              "USING gin (dataset_id, ((labels)::jsonb) jsonb_path_ops)")


class Migration(migrations.Migration):

    dependencies = [
        ("hyperdatasets", "0011_frame_meta_gin_on_postgresql"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
