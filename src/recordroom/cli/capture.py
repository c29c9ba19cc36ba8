"""`recordroom capture import|watch`: scans, faxes and outside records brought in for
capture from the command line (the worker reads them; `--wait` reads them here)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from .console import err, fail, out
from .setup import cli_actor, django_setup

capture_app = typer.Typer(
    help="Capture: bring in scanned paper and faxes to be read and filed.",
    no_args_is_help=True,
)

_SOURCE = typer.Option(
    "command line", "--source", help="Capture source name (made on first use)."
)
_FACILITY = typer.Option(
    "", "--facility", help="Facility code the papers belong to, e.g. NORTH."
)


def _source_and_facility(source: str, facility: str, kind: str) -> tuple[Any, Any]:
    from recordroom.capture.intake import source_named
    from recordroom.kernel.errors import RecordroomError
    from recordroom.records.models import Facility

    found = None
    if facility:
        found = Facility.objects.filter(code=facility.upper()).first()
        if found is None:
            known = ", ".join(Facility.objects.values_list("code", flat=True)[:20])
            fail(f"unknown facility code {facility!r}; known: {known or 'none'}")
    try:
        return source_named(source, kind=kind, facility=found), found
    except RecordroomError as exc:
        fail(exc.message)


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
            )
        elif path.is_file():
            found.append(path)
        else:
            fail(f"{path} is not a file or a folder")
    return found


@capture_app.command("import")
def import_(
    paths: list[Path] = typer.Argument(
        ..., help="Files (or folders of files) to capture."
    ),
    source: str = _SOURCE,
    facility: str = _FACILITY,
    wait: bool = typer.Option(
        False,
        "--wait",
        help="Read each batch here and now instead of leaving it to "
        "`recordroom worker`.",
    ),  # fmt: skip
) -> None:
    """Capture files once: each is kept and becomes a batch (PDF, TIFF, PNG, JPEG;
    anything else is refused by name). Exits 1 if any file was refused."""
    django_setup()
    from rich.progress import Progress

    from recordroom.capture.intake import receive_file
    from recordroom.capture.pipeline import run_batch

    files = _files(paths)
    src, fac = _source_and_facility(source, facility, "import")
    actor = cli_actor()
    batches = []
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("receiving", total=len(files) * (2 if wait else 1))
        for path in files:
            batch = receive_file(actor=actor, data=path.read_bytes(), filename=path.name,
                                 source=src, facility=fac)  # fmt: skip
            batches.append(batch)
            progress.advance(task)
        for index, batch in enumerate(batches):
            if not wait:
                break
            progress.update(task, description=f"reading {batch.filename}")
            batches[index] = run_batch(batch.pk)
            progress.advance(task)
    refused = 0
    for batch in batches:
        line = f"{batch.filename}: batch {batch.pk} {batch.status}"
        if batch.problem:
            line += f" ({batch.problem})"
        refused += batch.status == "refused"
        out.print(line, highlight=False)
    if not wait and any(b.status == "received" for b in batches):
        out.print("queued: `recordroom worker` reads them")
    if refused:
        raise typer.Exit(1)


@capture_app.command("watch")
def watch(
    folder: Path = typer.Argument(
        ..., help="The folder a scanner or fax line writes to."
    ),
    source: str = _SOURCE,
    facility: str = _FACILITY,
    kind: str = typer.Option(
        "scanner", "--kind", help="scanner or fax (a new source's kind)."
    ),
    interval: float = typer.Option(2.0, "--interval", help="Seconds between looks."),
    polls: int = typer.Option(
        0, "--polls", help="Stop after this many looks (0: run until stopped)."
    ),
) -> None:
    """Watch a folder until stopped: a file is taken once it is complete (unchanged
    across two looks), then moved to done/, or to rejected/ with NAME.reason.txt
    beside it when it cannot be read. Nothing is deleted."""
    django_setup()
    from recordroom.capture.watch import Watch, poll

    if not folder.is_dir():
        fail(f"{folder} is not a folder")
    src, fac = _source_and_facility(source, facility, kind)
    state = Watch(folder)
    actor = cli_actor()
    out.print(f"watching {folder} for {src.name} (Ctrl-C stops)")
    count = 0
    try:
        while True:
            for taken in poll(state, actor=actor, source=src, facility=fac):
                status = taken.batch.status if taken.batch else "rejected"
                note = f" ({taken.reason})" if taken.reason else ""
                out.print(f"{taken.path.name}: {status}{note}", highlight=False)
            count += 1
            if polls and count >= polls:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        out.print("stopped")


@capture_app.command("retrain")
def retrain(
    if_changed: bool = typer.Option(
        False, "--if-changed", help="Only when something was filed since the last model."
    ),
) -> None:
    """Retrain the document-type model now on the documents already filed (the
    indexers' corrections weigh more); the worker also does it nightly and after
    RECORDROOM_CAPTURE_RETRAIN_AFTER corrections."""
    django_setup()
    from recordroom.capture.reading.classify import filed_since_model
    from recordroom.capture.reading.classify import retrain as train_model

    if if_changed and not filed_since_model():
        out.print("nothing filed since the last model: not retrained")
        return
    model = train_model(actor=cli_actor())
    per_type = model.weights.get("samples", {})
    out.print(f"type model trained on {model.documents} documents "
              f"({len(per_type)} types)", highlight=False)  # fmt: skip
    for code, n in sorted(per_type.items()):
        out.print(f"  {code}: {n}", highlight=False)
