"""`recordroom mpi overlays`: scan for charts that hold two people and list the
worklist (commands added to the `mpi` group)."""

from __future__ import annotations

import typer
from rich.table import Table

from .mpi import mpi_app, out
from .setup import cli_actor, django_setup


@mpi_app.command("overlays")
def overlays(
    scan: bool = typer.Option(
        True, help="Run the detectors first (--no-scan: list only)."
    ),
) -> None:
    """Find overlays (two SSNs, identity rewritten by an update, care after death)
    and list the open ones."""
    django_setup()
    from recordroom.mpi.models import OverlayFlag, OverlayStatus
    from recordroom.mpi.overlay import scan_overlays

    if scan:
        added = scan_overlays(actor=cli_actor())
        out.print(f"{added} new overlay signs")
    table = Table(title="open overlay signs")
    for col in ("patient", "kind", "found", "evidence"):
        table.add_column(col)
    rows = OverlayFlag.objects.filter(status=OverlayStatus.OPEN).order_by("detected_at")
    for f in rows[:500]:
        table.add_row(str(f.patient_id), f.kind, f"{f.detected_at:%Y-%m-%d}", f.summary)
    out.print(table)
