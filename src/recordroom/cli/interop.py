"""`recordroom import fhir` and `recordroom export fhir`: bulk FHIR in and out."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from .console import err, out
from .setup import cli_actor, django_setup

import_app = typer.Typer(help="Bulk imports.", no_args_is_help=True)


def _facility(code: str | None):  # type: ignore[no-untyped-def]
    """The receiving facility: the one named, or the only one; else name the choices."""
    from recordroom.records.facilities import list_facilities

    facilities = list_facilities()
    codes = ", ".join(f.code for f in facilities)
    if not facilities:
        _refuse(
            "no facility exists yet: create the receiving facility with "
            "`recordroom facility create CODE --name NAME --timezone ZONE`"
        )
    if code:
        found = next((f for f in facilities if f.code == code.upper()), None)
        if found is None:
            _refuse(f"no facility {code!r}; choose --facility from: {codes}")
        return found
    if len(facilities) > 1:
        _refuse(f"say which facility receives this import: --facility, one of {codes}")
    return facilities[0]


def _refuse(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(2)


@import_app.command("fhir")
def import_fhir(
    paths: list[Path] = typer.Argument(
        ..., help="Bundles (.json) or NDJSON files, or folders of them."
    ),
    facility: str = typer.Option(
        None,
        help="Receiving facility code: files visits and identifiers that do not "
        "name one of ours (default: the only facility; with several, required).",
    ),
    source: str = typer.Option(
        "fhir-import",
        help="Name of the sending system; a rerun from the same source adds nothing.",
    ),
) -> None:
    """Import FHIR R4 resources; idempotent and resumable; refused ones quarantined."""
    django_setup()
    from recordroom.interop.bulk.importer import STATUSES, discover
    from recordroom.interop.bulk.importer import import_fhir as run_import
    from recordroom.kernel.errors import RecordroomError

    receiving = _facility(facility)
    try:
        files = discover(paths)
    except RecordroomError as exc:
        err.print(f"[bold red]error:[/] {exc.message}")
        raise typer.Exit(2) from None
    total = sum(f.stat().st_size for f in files)
    with Progress("[progress.description]{task.description}", BarColumn(),
                  DownloadColumn(), TimeRemainingColumn(), console=err,
                  transient=True) as bar:  # fmt: skip
        task = bar.add_task(f"importing {len(files)} files", total=total)
        run, summary = run_import(
            actor=cli_actor(), paths=paths, source=source,
            facility=receiving,
            progress=lambda n: bar.advance(task, n),
        )  # fmt: skip
    table = Table(title=f"import {run.pk}: {summary.files} files")
    table.add_column("resource")
    for status in STATUSES:
        table.add_column(status, justify="right")
    types = sorted({t for c in summary.by_status.values() for t in c})
    for t in types:
        table.add_row(t, *(str(summary.by_status[s][t] or "") for s in STATUSES))
    totals = summary.totals()
    table.add_row("[bold]total", *(f"[bold]{totals[s]}" for s in STATUSES))
    out.print(table)
    if totals["rejected"]:
        out.print(f"{totals['rejected']} refused, kept in the quarantine with the reason "
                  f"(admin: Interop > Quarantine items, run {run.pk})")  # fmt: skip
