"""`recordroom completion ...`: chart analysis, the delinquency rate and the
delinquent providers, and the deficiency rules as YAML."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from .console import fail, out
from .setup import cli_actor, django_setup

completion_app = typer.Typer(
    help="Chart completion: deficiency analysis, delinquency, rules.",
    no_args_is_help=True,
)
rules_app = typer.Typer(help="Deficiency rules as YAML.", no_args_is_help=True)
completion_app.add_typer(rules_app, name="rules")


def _facility(code: str) -> Any:
    if not code:
        return None
    from recordroom.mpi.models import Facility

    found = Facility.objects.filter(code=code.strip().upper()).first()
    if found is None:
        fail(f"no facility {code!r}; `recordroom facility list` shows them")
    return found


@completion_app.command("analyze")
def analyze(
    facility: str = typer.Option("", help="Only this facility's visits (its code)."),
    since: str = typer.Option(
        "",
        help="Only visits discharged on or after this date (YYYY-MM-DD), with "
        "those in house and those with deficiencies still open.",
    ),  # fmt: skip
) -> None:
    """Analyse charts against the deficiency rules; print the open deficiencies by kind."""
    django_setup()
    from recordroom.completion.engine import analyze_many
    from recordroom.completion.models import Kind
    from recordroom.completion.selection import count_to_analyze, to_analyze

    start = None
    if since:
        try:
            start = datetime.combine(
                date.fromisoformat(since), datetime.min.time(), UTC
            )
        except ValueError:
            fail(f"--since {since!r} is not a date; give YYYY-MM-DD")
    where = _facility(facility)
    total = count_to_analyze(since=start, facility=where)
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=out,
                  transient=True, disable=total < 200) as bar:  # fmt: skip
        task = bar.add_task("analysing charts", total=total)
        totals = analyze_many(
            actor=cli_actor(),
            encounters=to_analyze(since=start, facility=where),
            progress=lambda n: bar.update(task, completed=n),
        )
    table = Table(title=f"{total} charts analysed: open deficiencies by kind")
    table.add_column("kind")
    table.add_column("open", justify="right")
    for kind in Kind:
        if totals.get(kind.value):
            table.add_row(kind.label, str(totals[kind.value]))
    table.add_row("[bold]total[/]", f"[bold]{sum(totals.values())}[/]")
    out.print(table)


@completion_app.command("delinquency")
def delinquency(
    facility: str = typer.Option("", help="Only this facility (its code)."),
    service: str = typer.Option("", help="Only this service (attending's specialty)."),
) -> None:
    """The delinquency rate (R-RC-7) and the providers with delinquent records."""
    django_setup()
    from recordroom.completion.delinquency import delinquency_rate, delinquent_providers

    where = _facility(facility)
    rate = delinquency_rate(facility=where, service=service)
    table = Table(title=f"Delinquency rate ({rate.method}, {rate.frequency})")
    for col in ("period", "delinquent at end", "discharges"):
        table.add_column(col, justify="left" if col == "period" else "right")
    for p in rate.periods:
        table.add_row(f"{p.start:%Y-%m-%d} to {p.end:%Y-%m-%d}", str(p.delinquent),
                      str(p.discharges))  # fmt: skip
    out.print(table)
    shown = "n/a" if rate.rate_pct is None else f"{rate.rate_pct}%"
    verdict = ("[bold red]over the threshold[/]" if rate.over_threshold
               else "within the threshold")  # fmt: skip
    out.print(
        f"average delinquent records {rate.average_delinquent}, average monthly "
        f"discharges {rate.average_monthly_discharges}: rate {shown} "
        f"(threshold {rate.threshold_pct}%) — {verdict}"
    )
    for note in rate.notes:
        out.print(f"note: {note}")
    rows = delinquent_providers(facility=where, service=service)
    people = Table(title=f"{len(rows)} providers with delinquent records")
    for col in ("provider", "NPI", "records", "deficiencies", "oldest discharge"):
        people.add_column(col)
    for r in rows:
        people.add_row(str(r.provider), r.provider.npi or "", str(r.records),
                       str(r.deficiencies), f"{r.oldest_discharge:%Y-%m-%d}")  # fmt: skip
    out.print(people)


@completion_app.command("letters")
def letters(
    facility: str = typer.Option("", help="Only this facility (its code)."),
    send: bool = typer.Option(
        True, "--send/--no-send",
        help="E-mail the letters to providers with an address (when "
        "RECORDROOM_EMAIL_HOST is set); --no-send only writes them.",
    ),  # fmt: skip
) -> None:
    """Write today's letters to providers owing records (PDF, kept) and e-mail them."""
    django_setup()
    from recordroom.completion.letters import email_ready, run_letters

    where = _facility(facility)
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=out,
                  transient=True) as bar:  # fmt: skip
        task = bar.add_task("writing letters", total=None)
        run = run_letters(
            actor=cli_actor(), facility=where, send=send,
            progress=lambda n, total: bar.update(task, completed=n, total=total),
        )  # fmt: skip
    table = Table(title=f"{len(run.written)} letters written")
    for col in ("provider", "facility", "letter", "records", "e-mail"):
        table.add_column(col)
    for lt in run.written:
        mailed = {"sent": f"sent to {lt.email}", "failed": f"failed: {lt.error}"}.get(
            lt.status, "to print")
        table.add_row(str(lt.provider), lt.facility.code, lt.get_level_display(),
                      str(lt.records), mailed)  # fmt: skip
    out.print(table)
    out.print(f"{run.sent} sent, {run.failed} failed, {run.not_sent} to print, "
              f"{run.skipped} already done today")  # fmt: skip
    if send and not email_ready():
        out.print("note: RECORDROOM_EMAIL_HOST is not set: no e-mail was sent")
    if run.failed:
        raise typer.Exit(1)


@completion_app.command("suspension")
def suspension(
    facility: str = typer.Option("", help="Only this facility (its code)."),
    csv_to: Path | None = typer.Option(None, "--csv", help="Also write it as CSV here."),
    pdf_to: Path | None = typer.Option(None, "--pdf", help="Also write it as PDF here."),
) -> None:
    """The suspension list for the medical staff office (R-RC-7)."""
    django_setup()
    from recordroom.completion.suspension_export import export_suspension_list

    where = _facility(facility)
    actor = cli_actor()
    rows, _ = export_suspension_list(actor=actor, facility=where)
    for fmt, path in (("csv", csv_to), ("pdf", pdf_to)):
        if path is not None:
            _, data = export_suspension_list(actor=actor, facility=where, fmt=fmt)
            path.write_bytes(data)
            out.print(f"{fmt.upper()} written to {path}")
    table = Table(title=f"Suspension list: {len(rows)} providers")
    for col in ("provider", "NPI", "facility", "records", "items", "oldest discharge",
                "days", "last letter"):  # fmt: skip
        table.add_column(col)
    for r in rows:
        table.add_row(str(r.provider), r.provider.npi or "", r.facility.code,
                      str(r.records), str(r.deficiencies),
                      f"{r.oldest_discharge:%Y-%m-%d}", str(r.days),
                      f"{r.last_letter:%Y-%m-%d}" if r.last_letter else "-")  # fmt: skip
    out.print(table)


@rules_app.command("export")
def export(
    path: Path = typer.Argument(..., help="The YAML file to write ('-' prints it)."),
    facility: str = typer.Option("", help="Only this facility's and shared rules."),
) -> None:
    """Write the deficiency rules as YAML."""
    django_setup()
    from recordroom.completion.rules import export_rules

    text = export_rules(facility=_facility(facility))
    if str(path) == "-":
        out.print(text, highlight=False, markup=False)
    else:
        path.write_text(text, encoding="utf-8")
        out.print(f"rules written to {path}")


@rules_app.command("import")
def import_(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A YAML file."),
    reason: str = typer.Option("imported", help="Why (kept with each new version)."),
) -> None:
    """Create or change deficiency rules by their code (each change a new version)."""
    django_setup()
    from recordroom.completion.rules import import_rules
    from recordroom.kernel.errors import RecordroomError

    try:
        result = import_rules(actor=cli_actor(), text=path.read_text("utf-8"),
                              reason=reason)  # fmt: skip
    except RecordroomError as exc:
        fail(exc.message)
    out.print(f"{len(result.created)} created, {len(result.changed)} changed, "
              f"{len(result.unchanged)} unchanged")  # fmt: skip
