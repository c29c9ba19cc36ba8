"""`recordroom labels ...`: who may read which sensitivity label (admin data)."""

from __future__ import annotations

import typer
from rich.table import Table

from recordroom.accounts.roles import ROLES

from .console import fail, out
from .setup import cli_actor, django_setup

labels_app = typer.Typer(
    help="Sensitivity labels: who may read each (always or by break-the-glass).",
    no_args_is_help=True,
)


@labels_app.command("list")
def list_labels() -> None:
    """Each label, in plain words, with the roles and users that may read it."""
    django_setup()
    from recordroom.accounts.labels import label_table

    table = Table("label", "meaning", "always", "after break-the-glass")
    for code, words, always, glass in label_table():
        table.add_row(code, words, ", ".join(always) or "-", ", ".join(glass) or "-")
    out.print(table)


def _set(label: str, role: str, *, break_glass: bool, revoke: bool) -> None:
    django_setup()
    from recordroom.accounts.labels import set_grant
    from recordroom.kernel.errors import RecordroomError

    try:
        set_grant(actor=cli_actor(), label=label.upper(), role=role,
                  break_glass=break_glass, revoke=revoke)  # fmt: skip
    except RecordroomError as exc:
        fail(exc.message)


@labels_app.command("grant")
def grant(
    label: str,
    role: str = typer.Option(..., help="Role key: " + ", ".join(ROLES)),
    break_glass: bool = typer.Option(
        False, help="Only after giving a reason on the chart (break-the-glass)."
    ),
) -> None:
    """Let a role read a label (replaces its earlier grant of that label); audited."""
    _set(label, role, break_glass=break_glass, revoke=False)
    how = "after break-the-glass" if break_glass else "always"
    out.print(f"{ROLES[role].name} may now read {label.upper()} {how}")


@labels_app.command("revoke")
def revoke(
    label: str, role: str = typer.Option(..., help="Role key: " + ", ".join(ROLES))
) -> None:
    """Take a label away from a role; audited."""
    _set(label, role, break_glass=False, revoke=True)
    out.print(f"{ROLES[role].name} may no longer read {label.upper()}")
