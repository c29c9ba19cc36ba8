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


@facility_app.command("mrn")
def mrn_settings(
    code: str = typer.Argument(..., help="The facility's code, e.g. NORTH."),
    source: str = typer.Option(
        "",
        help="'here': registration assigns MRNs from the sequence; 'external': "
        "they come from another system and are typed or sent.",
    ),
    next_number: int = typer.Option(
        0, "--next", help="The number the next registration is given (past any in use)."
    ),
    width: int = typer.Option(0, help="Digits of the number, zero padded (1-18)."),
    prefix: str = typer.Option(
        None,
        help="Letters or digits put before the number ('' for none).",
        show_default=False,
    ),
    check_digit: str = typer.Option(
        "", help="Check digit after the number: none, luhn or mod11."
    ),
) -> None:
    """Show a facility's MRN assignment settings, or change them (audited)."""
    django_setup()
    from recordroom.kernel.errors import RecordroomError
    from recordroom.mpi import mrn
    from recordroom.mpi.models import Facility

    facility = Facility.objects.filter(code__iexact=code.strip()).first()
    if facility is None:
        fail(f"no facility {code!r}; `recordroom facility list` shows them")
    asked = {"mrn_source": source, "mrn_next": next_number, "mrn_width": width,
             "mrn_prefix": prefix, "mrn_check_digit": check_digit}  # fmt: skip
    changes = {k: v for k, v in asked.items() if v not in ("", 0, None)}
    if prefix == "":
        changes["mrn_prefix"] = ""
    if changes:
        try:
            mrn.set_mrn_settings(actor=cli_actor(), facility=facility, changes=changes)
        except RecordroomError as exc:
            fail(exc.message)
    shown = mrn.describe(facility)
    assigned = shown["mrn_source"] == "here"
    out.print(
        f"{facility.code}: MRNs "
        + ("assigned here" if assigned else "from another system (typed or sent)")
        + f"; width {shown['mrn_width']}, prefix {shown['mrn_prefix'] or '(none)'}, "
        f"check digit {shown['mrn_check_digit']}, next number {shown['mrn_next']}"
        + (f" (issued as {shown['next_value']})" if assigned else "")
    )
