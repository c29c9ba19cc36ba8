"""Database helpers shared by migrations and services: append-only triggers."""

from __future__ import annotations

from typing import Any


def append_only_sql(table: str, vendor: str) -> list[str]:
    """Triggers that refuse UPDATE and DELETE on `table` (and TRUNCATE on PostgreSQL)."""
    msg = f"{table} is append-only: rows cannot be changed or deleted"
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{msg}'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{msg}'); END",
        ]
    if vendor == "postgresql":
        fn = f"{table}_append_only"
        return [
            f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{msg}' USING ERRCODE = 'integrity_constraint_violation'; "
            "END $$",
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {fn}()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        ]
    raise ValueError(f"no append-only triggers for database vendor {vendor!r}")


def drop_append_only_sql(table: str, vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete"]
    return [
        f"DROP TRIGGER {table}_no_change ON {table}",
        f"DROP TRIGGER {table}_no_truncate ON {table}",
        f"DROP FUNCTION {table}_append_only()",
    ]


def make_append_only(*tables: str) -> Any:
    """A migration operation installing append-only triggers on each table."""
    from django.db import migrations

    def forward(apps: Any, schema_editor: Any) -> None:
        for table in tables:
            for sql in append_only_sql(table, schema_editor.connection.vendor):
                schema_editor.execute(sql)

    def backward(apps: Any, schema_editor: Any) -> None:
        for table in tables:
            for sql in drop_append_only_sql(table, schema_editor.connection.vendor):
                schema_editor.execute(sql)

    return migrations.RunPython(forward, backward)


def search_key_collation(*columns: tuple[str, str]) -> Any:
    """On PostgreSQL, give search-key columns the byte-order "C" collation.

    Prefix searches are range scans (kernel.text.prefix_upper_bound) that rely on
    byte order; SQLite's default BINARY collation already is.
    """
    from django.db import migrations

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, column in columns:
            schema_editor.execute(
                f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(100) COLLATE "C"'
            )

    return migrations.RunPython(forward, migrations.RunPython.noop)
