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
    output: Path = typer.Option(
        None, "--output", "-o", help="CSV file to write (default stdout)."
    ),
) -> None:
    """Write the latest scan's candidate pairs as CSV.

    Columns: left_id,right_id,left_identifiers,right_identifiers,probability,
    match_weight; an identifiers cell lists system|value entries joined by ';'
    (an SSN only masked).
    """
    django_setup()
    from recordroom.kernel.errors import RecordroomError
    from recordroom.mpi.linkage.services import export_pairs

    fh = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        count = export_pairs(
            actor=cli_actor(), out=fh, min_probability=min_probability,
            destination=str(output or "stdout"),
        )  # fmt: skip
    except RecordroomError as exc:
        err.print(f"[bold red]error:[/] {exc.message}")
        raise typer.Exit(2) from None
    finally:
        if output:
            fh.close()
    if output:
        out.print(f"wrote {count:,} pairs to {output}")
