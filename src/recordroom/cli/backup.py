"""`recordroom backup`, `restore` and `keys export`: thin adapters over
recordroom.backup, drawing its progress with Rich."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress as Bar
from rich.progress import TaskID

from .console import fail, out
from .setup import cli_actor, django_setup

keys_app = typer.Typer(
    help="The keys kept outside the database (export them apart from backups)."
)


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    with Bar(console=out, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or 1)
            bar.update(tasks[stage], completed=done, total=total or 1)

        yield update


def _run(service: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a backup service with the CLI's actor and a progress bar; a refusal or
    a failed check is printed (each problem named) and exits 1."""
    from recordroom.backup import RestoreFailed
    from recordroom.kernel.errors import RecordroomError

    try:
        with _progress() as update:
            return service(actor=cli_actor(), progress=update, **kwargs)
    except RestoreFailed as exc:
        fail(exc.message, exc.problems)
    except RecordroomError as exc:
        fail(exc.message)


def backup(
    dest: Path = typer.Argument(..., help="New folder to write the backup into."),
    keys_to: Path = typer.Option(
        None,
        "--keys-to",
        help="Also export the keys into this new folder (never inside DEST).",
    ),
) -> None:
    """Back up the database, documents and a manifest of hashes into DEST (keys apart)."""
    django_setup()
    from recordroom.backup import create_backup

    summary = _run(create_backup, dest=dest, keys_to=keys_to)
    head = summary.audit
    out.print(
        f"backup written to {summary.dest}: {summary.files} files, "
        f"{summary.size:,} bytes, {summary.vendor} database, audit chain at event "
        f"{head['head_id']} ({head['count']} events)"
    )
    if summary.keys:
        out.print(f"keys exported to {summary.keys[0].parent} (keep them apart)")
    else:
        out.print(
            "keys are not in the backup: export them once with `recordroom keys "
            "export KEYDEST` and keep them on another medium"
        )


def restore(
    src: Path = typer.Argument(..., help="Folder a `recordroom backup` wrote."),
    keys: Path = typer.Option(
        None, "--keys", help="Folder the keys were exported to (keys export)."
    ),
) -> None:
    """Restore a backup into an empty data folder (and empty database), verified."""
    django_setup(keys_optional=True)
    from recordroom.backup import restore_backup

    summary = _run(restore_backup, src=src, keys_src=keys)
    out.print(f"restored into {summary.data_dir} ({summary.vendor} database)")
    out.print(f"  backup taken {summary.taken_at} by version {summary.version}")
    out.print(f"  documents: {summary.blobs} decrypted and matching their hashes")
    out.print(f"  audit chain: intact, {summary.audit_events} events")
    for path in summary.keys:
        out.print(f"  key restored: {path}")


@keys_app.command("export")
def keys_export(
    dest: Path = typer.Argument(..., help="New folder for the keys (mode 0700)."),
) -> None:
    """Write every key into a new folder, files mode 0600; keep it apart from backups."""
    django_setup()
    from recordroom.backup import export_keys
    from recordroom.kernel.errors import RecordroomError

    try:
        written = export_keys(actor=cli_actor(), dest=dest)
    except RecordroomError as exc:
        fail(exc.message)
    for path in written:
        out.print(f"key written: {path}")
