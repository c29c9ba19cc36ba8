"""FHIR version triggers put back on SQLite after later migrations rebuilt watched
tables (mpi 0011 added override fields to mpi_patientmerge, mpi 0012 a sound key to
mpi_patientname): SQLite's AddField/AlterField remakes a table and drops its
triggers, so without this no write to those tables would change a Patient's
meta.versionId. PostgreSQL keeps triggers through ALTER TABLE: nothing to do there.

Idempotent (each trigger is dropped if present, then created), so a later migration
that rebuilds a watched table can run `reinstall` again."""

from importlib import import_module
from typing import Any

from django.db import migrations

_V1 = import_module("recordroom.interop.migrations.0006_fhir_resource_versions")


def reinstall(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for spec in _V1.WATCHED:
        table, _, _, all_ = spec
        events = ("insert", "update", "delete") if all_ else ("update",)
        for event in {*events, "insert"}:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_fhir_{event}")
        for sql in _V1.sqlite_sql(*spec):
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("interop", "0007_interface_message_raw_inline"),
        ("mpi", "0012_mrn_assignment_and_name_sound"),
        ("records", "0008_hl7_fields"),
    ]

    operations = [migrations.RunPython(reinstall, migrations.RunPython.noop)]
