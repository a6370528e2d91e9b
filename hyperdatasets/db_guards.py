"""Database guards that keep Published versions read-only, below the services.

- A Published version row is never updated, except that its creator may be set to NULL when that
  user's account is deleted (``created_by`` is ``SET_NULL``); every other column must stay as it was.
- No frame or frame-label row is inserted into or updated in a Published version.
Deleting rows stays possible: deleting a dataset with ``force=True`` removes Published versions and their rows.

SQLite drops a table's triggers when a migration rebuilds the table, so the guards are (re)installed,
idempotently, after every ``migrate`` (``post_migrate``) as well as by migration 0002.
"""

from __future__ import annotations

VERSION_TABLE = "hyperdatasets_datasetversion"
ROW_TABLES = ("hyperdatasets_frame", "hyperdatasets_framelabel")
VERSION_MESSAGE = "published dataset version is read-only"
ROWS_MESSAGE = "frames of a published dataset version are read-only"
CREATOR_COLUMN = "created_by_id"


def _postgres(tables: set[str], version_columns: list[str]) -> list[str]:
    statements = []
    if VERSION_TABLE in tables:
        statements += [
            f"""CREATE OR REPLACE FUNCTION hyperdatasets_refuse_published_update() RETURNS trigger AS $$
            BEGIN
                IF NEW.{CREATOR_COLUMN} IS NULL AND OLD.{CREATOR_COLUMN} IS NOT NULL
                   AND to_jsonb(NEW) - '{CREATOR_COLUMN}' = to_jsonb(OLD) - '{CREATOR_COLUMN}' THEN
                    RETURN NEW;  -- the creator's account was deleted
                END IF;
                RAISE EXCEPTION USING MESSAGE = '{VERSION_MESSAGE} (id ' || OLD.id::text || ')',
                    ERRCODE = 'integrity_constraint_violation';
            END; $$ LANGUAGE plpgsql""",
            f"""CREATE OR REPLACE TRIGGER hyperdatasets_version_published_read_only
                BEFORE UPDATE ON {VERSION_TABLE} FOR EACH ROW WHEN (OLD.status = 'published')
                EXECUTE FUNCTION hyperdatasets_refuse_published_update()""",
        ]
    row_tables = [t for t in ROW_TABLES if t in tables]
    if row_tables:
        # One check per statement (transition tables), so COPY of a million rows pays for it once.
        statements.append(
            f"""CREATE OR REPLACE FUNCTION hyperdatasets_refuse_published_rows() RETURNS trigger AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM guarded_rows r JOIN {VERSION_TABLE} v ON v.id = r.version_id
                           WHERE v.status = 'published') THEN
                    RAISE EXCEPTION USING MESSAGE = '{ROWS_MESSAGE}', ERRCODE = 'integrity_constraint_violation';
                END IF;
                RETURN NULL;
            END; $$ LANGUAGE plpgsql"""
        )
    for table in row_tables:
        for event in ("INSERT", "UPDATE"):
            statements.append(
                f"""CREATE OR REPLACE TRIGGER {table}_{event.lower()}_guard AFTER {event} ON {table}
                    REFERENCING NEW TABLE AS guarded_rows FOR EACH STATEMENT
                    EXECUTE FUNCTION hyperdatasets_refuse_published_rows()"""
            )
    return statements


def _sqlite(tables: set[str], version_columns: list[str]) -> list[str]:
    statements = []
    if VERSION_TABLE in tables:
        unchanged = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in version_columns if c != CREATOR_COLUMN)
        creator_deleted = f"NEW.{CREATOR_COLUMN} IS NULL AND OLD.{CREATOR_COLUMN} IS NOT NULL AND {unchanged}"
        statements += [
            # Replaced, not kept: the exemption follows the table's columns.
            "DROP TRIGGER IF EXISTS hyperdatasets_version_published_read_only",
            f"""CREATE TRIGGER hyperdatasets_version_published_read_only
                BEFORE UPDATE ON {VERSION_TABLE} FOR EACH ROW
                WHEN OLD.status = 'published' AND NOT ({creator_deleted})
                BEGIN SELECT RAISE(ABORT, '{VERSION_MESSAGE}'); END""",
        ]
    for table in (t for t in ROW_TABLES if t in tables):
        for event in ("INSERT", "UPDATE"):
            statements.append(
                f"""CREATE TRIGGER IF NOT EXISTS {table}_{event.lower()}_guard BEFORE {event} ON {table}
                    FOR EACH ROW WHEN (SELECT status FROM {VERSION_TABLE} WHERE id = NEW.version_id) = 'published'
                    BEGIN SELECT RAISE(ABORT, '{ROWS_MESSAGE}'); END"""
            )
    return statements


def install_guards(connection) -> None:
    builders = {"postgresql": _postgres, "sqlite": _sqlite}
    if connection.vendor not in builders:
        raise RuntimeError(f"no read-only guards for database vendor {connection.vendor!r}")
    tables = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        columns = ([c.name for c in connection.introspection.get_table_description(cursor, VERSION_TABLE)]
                   if VERSION_TABLE in tables else [])
        for statement in builders[connection.vendor](tables, columns):
            cursor.execute(statement)


def post_migrate_install(sender, using: str = "default", **kwargs) -> None:
    from django.db import connections

    install_guards(connections[using])
