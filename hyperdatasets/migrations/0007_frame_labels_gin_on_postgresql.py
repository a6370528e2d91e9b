"""On PostgreSQL, label filters read the frame rows' own ``labels`` column through a GIN index.

The index is on ``(dataset_id, labels::jsonb)`` (``btree_gin`` for the uuid, ``jsonb_path_ops`` for the
labels), so a label that is rare in one dataset is found without reading the datasets where it is common.
It is filled as frame rows are written, in the same COPY, where the separate ``FrameLabel`` rows cost a second
COPY and two more index entries per label. ``btree_gin`` ships with PostgreSQL and is a trusted extension:
the database owner can create it. SQLite keeps the ``FrameLabel`` rows; on PostgreSQL they are emptied here
(and rebuilt from the frame rows when this migration is reversed).
"""

from django.db import migrations

INDEX = "frame_labels_gin"
GUARD = "hyperdatasets_framelabel_insert_guard"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON hyperdatasets_frame "
        "USING gin (dataset_id, ((labels)::jsonb) jsonb_path_ops)"
    )
    schema_editor.execute("DELETE FROM hyperdatasets_framelabel")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    # The rows of Published versions are rebuilt too: the read-only guard stands aside for this statement.
    schema_editor.execute(f"ALTER TABLE hyperdatasets_framelabel DISABLE TRIGGER {GUARD}")
    schema_editor.execute(
        "INSERT INTO hyperdatasets_framelabel (dataset_id, version_id, frame_id, label) "
        "SELECT DISTINCT f.dataset_id, f.version_id, f.frame_id, l.label FROM hyperdatasets_frame f "
        "CROSS JOIN LATERAL jsonb_array_elements_text(f.labels::jsonb) AS l(label) WHERE NOT f.deleted"
    )
    schema_editor.execute(f"ALTER TABLE hyperdatasets_framelabel ENABLE TRIGGER {GUARD}")


class Migration(migrations.Migration):

    dependencies = [
        ("hyperdatasets", "0006_frame_rows_without_dataset_key"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
