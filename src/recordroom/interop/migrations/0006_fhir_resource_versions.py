"""FHIR versions: a counter per served resource, bumped by database triggers on
every row a resource is read from, so that no write path can change a resource
without changing its meta.versionId (If-Match then catches every stale update)."""

from typing import Any

from django.db import migrations, models

TABLE = "interop_resourceversion"
# (table, FHIR type, columns naming the resource, bump on insert and delete too):
# a resource's own row counts its updates (its insert is version 1, with no row
# here unless the table has no timestamp to serve as lastUpdated); the rows a
# Patient is assembled from count every change.
WATCHED = [
    ("mpi_patient", "Patient", ("id",), False),
    ("mpi_patientname", "Patient", ("patient_id",), True),
    ("mpi_patientidentifier", "Patient", ("patient_id",), True),
    ("mpi_patientaddress", "Patient", ("patient_id",), True),
    ("mpi_patienttelecom", "Patient", ("patient_id",), True),
    ("mpi_patientmerge", "Patient", ("survivor_id", "retired_id"), True),
    ("mpi_pairdecision", "Patient", ("left_id", "right_id"), True),
    ("records_encounter", "Encounter", ("id",), False),
    ("records_condition", "Condition", ("id",), False),
    ("records_procedure", "Procedure", ("id",), False),
    ("records_provider", "Practitioner", ("id",), False),
    ("records_organization", "Organization", ("id",), False),
    ("records_document", "DocumentReference", ("id",), False),
    ("records_documentversion", "DocumentReference", ("document_id",), True),
]


def _sqlite_bump(rtype: str, ref: str, where: str = "") -> str:
    return (
        f"INSERT INTO {TABLE} (resource_type, resource_id, version, updated_at) "
        f"SELECT '{rtype}', {ref}, 2, strftime('%Y-%m-%d %H:%M:%f', 'now') "
        f"WHERE {ref} IS NOT NULL {where} "
        "ON CONFLICT (resource_type, resource_id) DO UPDATE SET "
        "version = version + 1, updated_at = excluded.updated_at;"
    )


# Practitioners have no timestamp of their own: their version 1 is recorded too.
STAMP_INSERT = {"records_provider"}


def sqlite_sql(table: str, rtype: str, cols: tuple[str, ...], all_: bool) -> list[str]:
    out = []
    if table in STAMP_INSERT:
        out.append(
            f"CREATE TRIGGER {table}_fhir_insert AFTER INSERT ON {table} FOR EACH ROW "
            f"BEGIN INSERT INTO {TABLE} (resource_type, resource_id, version, "
            f"updated_at) VALUES ('{rtype}', NEW.id, 1, "
            "strftime('%Y-%m-%d %H:%M:%f', 'now')) ON CONFLICT DO NOTHING; END"
        )
    events = ("INSERT", "UPDATE", "DELETE") if all_ else ("UPDATE",)
    for event in events:
        body = []
        for col in cols:
            if event != "DELETE":
                body.append(_sqlite_bump(rtype, f"NEW.{col}"))
            if event == "DELETE":
                body.append(_sqlite_bump(rtype, f"OLD.{col}"))
            if event == "UPDATE":  # moved to another resource (a merge): both change
                body.append(_sqlite_bump(rtype, f"OLD.{col}",
                                         f"AND OLD.{col} IS NOT NEW.{col}"))  # fmt: skip
        out.append(
            f"CREATE TRIGGER {table}_fhir_{event.lower()} AFTER {event} ON {table} "
            f"FOR EACH ROW BEGIN {' '.join(body)} END"
        )
    return out


PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION interop_fhir_version_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    ids text[];
    rid text;
BEGIN
    FOR i IN 1 .. TG_NARGS - 1 LOOP
        ids := ARRAY[]::text[];
        IF TG_OP <> 'DELETE' THEN
            ids := ids || (to_jsonb(NEW) ->> TG_ARGV[i]);
        END IF;
        IF TG_OP <> 'INSERT' THEN
            ids := ids || (to_jsonb(OLD) ->> TG_ARGV[i]);
        END IF;
        FOREACH rid IN ARRAY COALESCE((SELECT array_agg(DISTINCT x)
                FROM unnest(ids) x WHERE x IS NOT NULL), ARRAY[]::text[]) LOOP
            INSERT INTO {TABLE} (resource_type, resource_id, version, updated_at)
            VALUES (TG_ARGV[0], rid::uuid, 2, clock_timestamp())
            ON CONFLICT (resource_type, resource_id) DO UPDATE
            SET version = {TABLE}.version + 1, updated_at = EXCLUDED.updated_at;
        END LOOP;
    END LOOP;
    RETURN NULL;
END $$
"""


PG_FIRST = f"""
CREATE OR REPLACE FUNCTION interop_fhir_version_first() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {TABLE} (resource_type, resource_id, version, updated_at)
    VALUES (TG_ARGV[0], NEW.id, 1, clock_timestamp()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$
"""


def postgres_sql(
    table: str, rtype: str, cols: tuple[str, ...], all_: bool
) -> list[str]:
    events = "INSERT OR UPDATE OR DELETE" if all_ else "UPDATE"
    args = ", ".join(f"'{a}'" for a in (rtype, *cols))
    out = [
        f"CREATE TRIGGER {table}_fhir_version AFTER {events} ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION interop_fhir_version_bump({args})"
    ]
    if table in STAMP_INSERT:
        out.append(
            f"CREATE TRIGGER {table}_fhir_insert AFTER INSERT ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION interop_fhir_version_first('{rtype}')"
        )
    return out


def forward(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        schema_editor.execute(PG_FIRST)
    for spec in WATCHED:
        make = postgres_sql if vendor == "postgresql" else sqlite_sql
        for sql in make(*spec):
            schema_editor.execute(sql)


def backward(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for table, _, _, all_ in WATCHED:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER {table}_fhir_version ON {table}")
            if table in STAMP_INSERT:
                schema_editor.execute(f"DROP TRIGGER {table}_fhir_insert ON {table}")
            continue
        events = ("insert", "update", "delete") if all_ else ("update",)
        if table in STAMP_INSERT:
            events = ("insert", *events)
        for event in events:
            schema_editor.execute(f"DROP TRIGGER {table}_fhir_{event}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION interop_fhir_version_bump()")
        schema_editor.execute("DROP FUNCTION interop_fhir_version_first()")


class Migration(migrations.Migration):
    dependencies = [
        # after the tables it watches took their final shape (a SQLite table
        # rebuilt by a later AlterField loses its triggers)
        ("interop", "0005_interface_message_content_hash_warnings"),
        ("mpi", "0010_patient_demographics_us_core"),
        ("records", "0008_hl7_fields"),
    ]

    operations = [
        migrations.CreateModel(
            name="ResourceVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("resource_type", models.CharField(max_length=40)),
                ("resource_id", models.UUIDField()),
                ("version", models.PositiveIntegerField()),
                ("updated_at", models.DateTimeField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("resource_type", "resource_id"),
                        name="resourceversion_unique",
                    )
                ],
            },
        ),  # fmt: skip
        migrations.RunPython(forward, backward),
    ]
