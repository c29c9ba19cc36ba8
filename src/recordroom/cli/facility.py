"""`recordroom facility create|list`: facilities without the admin."""

from __future__ import annotations

import typer
from rich.table import Table

from .console import fail, out
from .setup import cli_actor, django_setup

facility_app = typer.Typer(
    help="Facilities: the hospitals and clinics whose records are kept here.",
    no_args_is_help=True,
)


@facility_app.command("create")
def create(
    code: str = typer.Argument(..., help="Short code, e.g. NORTH (upper case)."),
    name: str = typer.Option(..., help="Name as pages and letters show it."),
    timezone: str = typer.Option(
        ..., help="IANA time zone of its dates and deadlines, e.g. America/Chicago."
    ),
    mrn_system: str = typer.Option(
        "",
        help="Identifier system URI (or urn:oid:) of its MRNs; default: one "
        "derived from the code. Use the OID your interfaces send, if there is one.",
    ),
    npi: str = typer.Option("", help="The facility's organisational NPI."),
) -> None:
    """Create a facility (audited)."""
    django_setup()
    from recordroom.kernel.errors import RecordroomError
    from recordroom.records.facilities import create_facility

    try:
        facility = create_facility(
            actor=cli_actor(), code=code, name=name, timezone=timezone,
            mrn_system=mrn_system, npi=npi,
        )  # fmt: skip
    except RecordroomError as exc:
        fail(exc.message)
    out.print(
        f"created facility {facility.code}: {facility.name}, time zone "
        f"{facility.timezone}, MRN system {facility.mrn_system}"
    )


@facility_app.command("list")
def list_() -> None:
    """List the facilities: code, name, time zone, MRN system."""
    django_setup()
    from recordroom.records.facilities import list_facilities

    found = list_facilities()
    if not found:
        out.print(
            "no facilities yet: create one with `recordroom facility create CODE "
            "--name NAME --timezone ZONE`"
        )
        return
    table = Table()
    for column in ("code", "name", "time zone", "MRN system"):
        table.add_column(column)
    for f in found:
        table.add_row(f.code, f.name, f.timezone, f.mrn_system)
    out.print(table)
