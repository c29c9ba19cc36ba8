"""`recordroom client ...`: system clients that sign in with OAuth2 client credentials."""

from __future__ import annotations

import typer

from recordroom.accounts.roles import ROLES

from .console import fail, out
from .setup import cli_actor, django_setup

client_app = typer.Typer(
    help="System clients (OAuth2 client credentials, SMART scopes) for the FHIR API.",
    no_args_is_help=True,
)


@client_app.command("create")
def create(
    name: str,
    role: str = typer.Option(
        ..., help="Role key of its service user: " + ", ".join(ROLES)
    ),
    facility: list[str] = typer.Option(
        None, help="Facility code whose records it may reach (repeatable)."
    ),
    all_facilities: bool = typer.Option(False, help="Every facility in scope."),
    scope: str = typer.Option(
        ..., help='SMART scopes it may ask for, e.g. "system/*.read system/*.write".'
    ),
) -> None:
    """Register a system client; its client_id and secret are printed once."""
    django_setup()
    from recordroom.accounts.oauth import create_client
    from recordroom.kernel.errors import RecordroomError

    try:
        new = create_client(
            actor=cli_actor(),
            name=name,
            role=role,
            scopes=scope,
            facility_codes=list(facility or []),
            all_facilities=all_facilities,
        )
    except RecordroomError as exc:
        fail(exc.message)
    client = new.client
    out.print(
        f"created client '{client.name}' acting as user '{client.user.username}' "
        f"({ROLES[role].name}), scopes: {client.scopes}"
    )
    out.print("store the secret now; it is not kept:")
    print(f"client_id: {client.client_id}")
    print(f"client_secret: {new.secret}")


@client_app.command("revoke")
def revoke(client_id: str) -> None:
    """Revoke a client: no new tokens, and the ones it holds stop working."""
    django_setup()
    from recordroom.accounts.oauth import revoke_client
    from recordroom.kernel.errors import RecordroomError

    try:
        client = revoke_client(actor=cli_actor(), client_id=client_id)
    except RecordroomError as exc:
        fail(exc.message)
    out.print(f"revoked client '{client.name}' ({client_id})")


@client_app.command("list")
def list_clients() -> None:
    """List the clients with their client_id, scopes and state."""
    django_setup()
    from recordroom.accounts.models import ApiClient

    for c in ApiClient.objects.select_related("user").order_by("name"):
        state = "active" if c.active else "revoked"
        used = f"{c.last_used_at:%Y-%m-%d %H:%M}" if c.last_used_at else "never"
        out.print(f"{c.client_id}  {c.name}  {state}  last used {used}  {c.scopes}",
                  highlight=False, soft_wrap=True)  # fmt: skip
