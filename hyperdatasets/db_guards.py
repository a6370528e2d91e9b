"""Database guards that keep Published versions read-only, below the services.

- A Published version row is never updated.
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


def _postgres(tables: set[str]) -> list[str]:
    statements = []
    if VERSION_TABLE in tables:
        statements += [
            f"""CREATE OR REPLACE FUNCTION hyperdatasets_refuse_published_update() RETURNS trigger AS $$
            BEGIN
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


def _sqlite(tables: set[str]) -> list[str]:
    statements = []
    if VERSION_TABLE in tables:
        statements.append(
            f"""CREATE TRIGGER IF NOT EXISTS hyperdatasets_version_published_read_only
                BEFORE UPDATE ON {VERSION_TABLE} FOR EACH ROW WHEN OLD.status = 'published'
                BEGIN SELECT RAISE(ABORT, '{VERSION_MESSAGE}'); END"""
        )
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
        for statement in builders[connection.vendor](tables):
            cursor.execute(statement)


def post_migrate_install(sender, using: str = "default", **kwargs) -> None:
    from django.db import connections

    install_guards(connections[using])
