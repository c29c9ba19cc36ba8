"""`recordroom mpi dashboard`: the MPI dashboard's measures as tables (a command
added to the `mpi` group)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from .mpi import err, mpi_app, out
from .setup import django_setup


def _rate_row(r: Any) -> list[str]:
    rate = "—" if r.percent is None else f"{r.percent:.1f}%"
    return [f"{r.records:,}", f"{r.confirmed:,}", f"{r.suspected:,}", rate]


def _when(value: Any) -> str:
    return f"{value:%Y-%m-%d}" if value else "—"


@mpi_app.command("dashboard")
def dashboard(
    user: str = typer.Option(
        None, "--user", help="Only the facilities of this user (default: all)."
    ),
) -> None:
    """Duplicate rate by facility and by who created the records, the worklist's
    size and age, and the automatic links of the last 30 days.

    Counts only: no patient is named (review the day's sample of automatic links
    on the Identity dashboard page).
    """
    django_setup()
    from recordroom.accounts.models import User
    from recordroom.mpi.dashboard import measures

    who = None
    if user:
        who = User.objects.filter(username=user).first()
        if who is None:
            err.print(f"[bold red]error:[/] no user {user!r}")
            raise typer.Exit(2)
    board = measures(who, sample_size=0)
    heads = ("records", "confirmed", "suspected", "rate")
    by_facility = Table(title="duplicate rate by facility")
    for col in ("facility", *heads):
        by_facility.add_column(col, justify="left" if col == "facility" else "right")
    for r in board.facilities:
        by_facility.add_row(r.key, *_rate_row(r))
    by_facility.add_row("all", *_rate_row(board.total), style="bold")
    out.print(by_facility)
    by_creator = Table(title="duplicate rate by who created the records")
    for col in ("created by", "through", *heads):
        by_creator.add_column(col, justify="right" if col in heads else "left")
    for r in board.creators:
        by_creator.add_row(r.key, r.label, *_rate_row(r))
    out.print(by_creator)
    w = board.worklist
    work = Table(title="worklists")
    for col in ("open", "count", "< 7 d", "7-30 d", "> 30 d", "oldest"):
        work.add_column(col, justify="left" if col == "open" else "right")
    work.add_row(f"duplicate pairs ({w.scan_pairs:,} scan, {w.registrations:,} "
                 "registrations)", f"{w.open_pairs:,}", f"{w.under_week:,}",
                 f"{w.week_to_month:,}", f"{w.over_month:,}", _when(w.oldest))  # fmt: skip
    work.add_row(
        "overlay signs", f"{w.overlays:,}", "", "", "", _when(w.oldest_overlay)
    )
    out.print(work)
    links = board.links
    out.print(
        f"automatic links since {links.since:%Y-%m-%d}: {links.linked:,} "
        f"({links.correct:,} reviewed correct, {links.wrong:,} wrong, "
        f"{links.unreviewed:,} not reviewed)"
    )
