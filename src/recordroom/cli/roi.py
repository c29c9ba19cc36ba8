"""`recordroom roi ...`: the release-of-information worklist and one request, from
the terminal (reads audited like the web pages: each listed patient's access log
shows the read)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from .console import err, out
from .setup import cli_actor, django_setup

roi_app = typer.Typer(
    help="Release of information: the aging worklist and one request.",
    no_args_is_help=True,
)


@roi_app.command("list")
def list_requests(
    overdue: bool = typer.Option(
        False, "--overdue", help="Only requests past their deadline."
    ),
    status: str = typer.Option("", help="Only this status (default: every open one)."),
) -> None:
    """Open requests, the nearest deadline first: age and days left, overdue marked."""
    django_setup()
    from recordroom.kernel.errors import RecordroomError
    from recordroom.release.api_common import audit_listed, patient_name
    from recordroom.release.requests import worklist

    actor = cli_actor()
    try:
        items = worklist(user=None, status=status, overdue_only=overdue, limit=1000)
    except RecordroomError as exc:
        err.print(f"[bold red]error:[/] {exc.message}")
        raise typer.Exit(2) from None
    audit_listed(actor, "release", [i.request.patient_id for i in items])
    late = sum(i.overdue for i in items)
    table = Table(title=f"{len(items)} requests, {late} overdue")
    for col in ("request", "patient", "requester", "status", "received", "age",
                "due", "days left"):  # fmt: skip
        table.add_column(
            col, justify="right" if col in ("age", "days left") else "left"
        )
    for i in items:
        r = i.request
        due = f"{r.due_on:%Y-%m-%d}" + (f" (ext. {r.extended_to:%Y-%m-%d})"
                                         if r.extended_to else "")  # fmt: skip
        left = f"[bold red]OVERDUE {-i.days_left}[/]" if i.overdue else str(i.days_left)
        table.add_row(r.number, patient_name(r),
                      f"{r.requester_name} ({r.requester_type})", r.status,
                      f"{r.received_on:%Y-%m-%d}", str(i.age_days), due, left)  # fmt: skip
    out.print(table)


@roi_app.command("show")
def show(
    number: str = typer.Argument(..., help="The request number, ROI-YYYY-NNNNNN."),
) -> None:
    """One request: requester, what is asked for, status and deadline."""
    django_setup()
    from recordroom.kernel.errors import RecordroomError
    from recordroom.release.api import request_out
    from recordroom.release.api_common import open_request
    from recordroom.release.models import ReleaseRequest

    pk = (
        ReleaseRequest.objects.filter(number=number.strip().upper())
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        err.print(f"[bold red]error:[/] no release request {number!r}")
        raise typer.Exit(2)
    try:
        req = open_request(cli_actor(), pk, part="request")
    except RecordroomError as exc:
        err.print(f"[bold red]error:[/] {exc.message}")
        raise typer.Exit(2) from None
    data = request_out(req)
    deadline = req.extended_to or req.due_on
    asked = "the entire record" if req.entire_record else "; ".join(
        part for part in (
            f"dates {req.date_from or '…'} to {req.date_to or '…'}"
            if req.date_from or req.date_to else "",
            f"{len(data['encounter_ids'])} encounter(s)" if data["encounter_ids"] else "",
            "types " + ", ".join(req.document_types) if req.document_types else "",
        ) if part
    )  # fmt: skip
    left = (f"[bold red]overdue by {-data['days_left']} days[/]" if data["overdue"]
            else f"{data['days_left']} days left")  # fmt: skip
    rows = [
        ("request", f"{req.number} ({req.get_status_display()})"),
        ("patient", f"{data['patient_name']} ({req.patient_id})"),
        ("requester", f"{req.requester_name}"
         + (f", {req.requester_organization}" if req.requester_organization else "")
         + f" — {req.get_requester_type_display()}"),
        ("received", f"{req.received_on:%Y-%m-%d} by {req.get_channel_display().lower()}"),
        ("identity", f"verified: {req.verification_method}" if req.identity_verified
         else "not verified"),
        ("asked for", asked),
        ("format / delivery", f"{req.get_format_display()} / {req.get_delivery_display()}"),
        ("deadline", f"{deadline:%Y-%m-%d} ({req.deadline_rule}); "
         + (f"extended: {req.extension_reason}; " if req.extended_to else "") + left),
    ]  # fmt: skip
    if req.status_note:
        rows.append(("note", req.status_note))
    rows += _progress(req)
    for label, value in rows:
        out.print(f"[bold]{label:>17}[/]  {value}")


def _progress(req: Any) -> list[tuple[str, str]]:
    """The basis check, the documents, the packet and the release, as it stands."""
    from recordroom.kernel import clock
    from recordroom.release.authorizations import check_basis
    from recordroom.release.packets import current_packet

    basis = check_basis(req)
    said = (f"ready: {basis.basis}" if basis.ok else
            f"{len(basis.defects)} defect(s): "
            + "; ".join(f"{d.element} ({d.rule})" for d in basis.defects))  # fmt: skip
    items = list(req.items.all())
    rows = [("basis", said)]
    if items:
        out = sum(not i.included for i in items)
        rows.append(("documents", f"{len(items) - out} included, {out} left out"))
    packet = current_packet(req)
    if packet is not None:
        rows.append(("packet", f"{packet.release_number}, {packet.pages} pages, built "
                     f"{clock.short_datetime(packet.built_at, req.facility)} by "
                     f"{packet.built_by}"))  # fmt: skip
    if req.release_number:
        on = clock.short_date(req.closed_at, req.facility)
        rows.append(("released", f"{req.release_number} on {on}"))
    return rows
