"""`recordroom mpi ...`: the duplicate scan of the patient index and its pairs."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TimeElapsedColumn,
)

from .console import err, out
from .setup import cli_actor, django_setup

mpi_app = typer.Typer(
    help="The master patient index: duplicate scans and candidate pairs.",
    no_args_is_help=True,
)
_PHASES = {"load": "reading the index", "train": "training the model",
           "score": "scoring candidate pairs"}  # fmt: skip


@mpi_app.command("scan")
def scan(
    restart: bool = typer.Option(
        False, "--restart", help="Start a new scan instead of resuming one."
    ),
    seed: int = typer.Option(
        1, help="Random seed of training (same seed, same model)."
    ),
    min_probability: float = typer.Option(
        0.05, help="Keep pairs at least this likely to be one person."
    ),
) -> None:
    """Scan the whole index for duplicates: candidate pairs grouped into clusters.

    Resumable: an interrupted scan continues where it stopped when run again (with
    the model it had trained), unless the index changed meanwhile.
    """
    django_setup()
    from recordroom.kernel.errors import RecordroomError
    from recordroom.mpi.linkage.services import scan_index

    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err, transient=True,
    ) as progress:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(_PHASES.get(phase, phase), total=total)
            progress.update(tasks[phase], completed=done, total=total)

        try:
            run = scan_index(
                actor=cli_actor(), progress=report, resume=not restart, seed=seed,
                min_probability=min_probability,
            )  # fmt: skip
        except RecordroomError as exc:
            err.print(f"[bold red]error:[/] {exc.message}")
            raise typer.Exit(2) from None
    out.print(
        f"scan {run.pk}: {run.records:,} records, {run.candidate_pairs:,} candidate "
        f"pairs compared, {run.stored_pairs:,} kept (probability >= "
        f"{run.min_probability:g}) in {run.clusters:,} clusters"
    )
    skipped = [b for b in run.blocking if b.get("blocks_skipped")]
    for b in skipped:
        out.print(
            f"  blocking {b['rule']}: {b['blocks_skipped']} blocks too common even "
            f"after the fallback ({b['records_skipped']} records) were not compared "
            "by this rule"
        )


@mpi_app.command("pairs")
def pairs(
    min_probability: float = typer.Option(
        0.0, "--min-probability", help="Only pairs at least this likely (0 to 1)."
    ),
    max_probability: float = typer.Option(
        None, "--max-probability", help="Only pairs at most this likely (0 to 1)."
    ),
    facility: str = typer.Option(
        "", "--facility", help="Only pairs with a record at this facility (code)."
    ),
    min_age: int = typer.Option(
        None, "--min-age", help="Only pairs on the worklist at least this many days."
    ),
    max_age: int = typer.Option(
        None, "--max-age", help="Only pairs on the worklist at most this many days."
    ),
    status: str = typer.Option(
        "all",
        "--status",
        help="open, assigned, deferred, resolved, unresolved (the first three), all.",
    ),  # fmt: skip
    assignee: str = typer.Option(
        "", "--assignee", help="Only pairs assigned to this user name ('none': nobody)."
    ),
    sort: str = typer.Option(
        "probability", "--sort", help="probability, age (oldest first) or newest."
    ),
    output: Path = typer.Option(
        None, "--output", "-o", help="CSV file to write (default stdout)."
    ),
) -> None:
    """Write the latest scan's candidate pairs as CSV, filtered as the worklist is.

    Columns: left_id,right_id,left_identifiers,right_identifiers,probability,
    match_weight,status,resolution,assignee,on_worklist_since; an identifiers cell
    lists system|value entries joined by ';' (an SSN only masked). Every status
    unless --status narrows it.
    """
    django_setup()
    from recordroom.kernel.errors import RecordroomError
    from recordroom.mpi.linkage.services import export_pairs
    from recordroom.mpi.pair_worklist import PairFilter

    params = {"max_probability": max_probability, "facility": facility,
              "min_age": min_age, "max_age": max_age, "status": status,
              "assignee": assignee, "sort": sort}  # fmt: skip
    try:
        filters = PairFilter.parse(params)
    except RecordroomError as exc:
        err.print(f"[bold red]error:[/] {exc.message}")
        raise typer.Exit(2) from None
    fh = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        count = export_pairs(
            actor=cli_actor(), out=fh, min_probability=min_probability,
            destination=str(output or "stdout"), filters=filters,
        )  # fmt: skip
    except RecordroomError as exc:
        err.print(f"[bold red]error:[/] {exc.message}")
        raise typer.Exit(2) from None
    finally:
        if output:
            fh.close()
    if output:
        out.print(f"wrote {count:,} pairs to {output}")


@mpi_app.command("assign")
def assign(
    pair: list[str] = typer.Argument(
        ..., help="Pairs as LEFT_ID:RIGHT_ID (the two records' ids, as in the CSV)."
    ),
    to: str = typer.Option(
        "", "--to", help="User name to assign to; leave out to take the pairs back."
    ),
) -> None:
    """Assign duplicate pairs to a specialist on the worklist (or take them back)."""
    django_setup()
    from uuid import UUID

    from recordroom.kernel.errors import RecordroomError
    from recordroom.mpi.pair_worklist import assign_pairs

    try:
        pairs = [tuple(UUID(x) for x in p.split(":")) for p in pair]
        if any(len(p) != 2 for p in pairs):
            raise ValueError
    except ValueError:
        err.print("[bold red]error:[/] give each pair as LEFT_ID:RIGHT_ID, two "
                  f"patient ids, got {' '.join(pair)!r:.120}")  # fmt: skip
        raise typer.Exit(2) from None
    try:
        count = assign_pairs(actor=cli_actor(), pairs=pairs, assignee=to or None)  # type: ignore[arg-type]
    except RecordroomError as exc:
        err.print(f"[bold red]error:[/] {exc.message}")
        raise typer.Exit(2) from None
    out.print(f"{count} pair{'s' if count != 1 else ''} "
              + (f"assigned to {to}" if to else "taken back (open again)"))  # fmt: skip
