"""Database guard: a Published version row is never updated again (deletion with force stays possible)."""

from django.db import migrations

TABLE = "hyperdatasets_datasetversion"
MESSAGE = "published dataset version is read-only"

POSTGRES_FORWARD = f"""
CREATE FUNCTION hyperdatasets_refuse_published_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = '{MESSAGE} (id ' || OLD.id::text || ')',
        ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER hyperdatasets_version_published_read_only
    BEFORE UPDATE ON {TABLE}
    FOR EACH ROW WHEN (OLD.status = 'published')
    EXECUTE FUNCTION hyperdatasets_refuse_published_update();
"""
POSTGRES_BACKWARD = f"""
DROP TRIGGER IF EXISTS hyperdatasets_version_published_read_only ON {TABLE};
DROP FUNCTION IF EXISTS hyperdatasets_refuse_published_update();
"""
SQLITE_FORWARD = f"""
CREATE TRIGGER hyperdatasets_version_published_read_only
BEFORE UPDATE ON {TABLE}
FOR EACH ROW WHEN OLD.status = 'published'
BEGIN
    SELECT RAISE(ABORT, '{MESSAGE}');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS hyperdatasets_version_published_read_only;"


def _run(schema_editor, sql_by_vendor):
    sql = sql_by_vendor.get(schema_editor.connection.vendor)
    if sql is None:
        raise RuntimeError(f"no read-only trigger for database vendor {schema_editor.connection.vendor!r}")
    schema_editor.execute(sql)


def forward(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD})


def backward(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [("hyperdatasets", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
