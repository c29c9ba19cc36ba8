"""`recordroom client ...`: system clients that sign in with OAuth2 client credentials
(a secret, or a private_key_jwt assertion checked against their registered JWKS)."""

from __future__ import annotations

from pathlib import Path

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
    jwks: Path = typer.Option(
        None,
        help="JWKS file of its public keys (RS384 or ES384): it signs private_key_jwt "
        "assertions (SMART Backend Services) and gets no secret.",
    ),
) -> None:
    """Register a system client; its client_id (and secret, if any) printed once."""
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
            jwks=_read_jwks(jwks) if jwks else None,
        )
    except RecordroomError as exc:
        fail(exc.message)
    client = new.client
    out.print(
        f"created client '{client.name}' acting as user '{client.user.username}' "
        f"({ROLES[role].name}), scopes: {client.scopes}"
    )
    if not new.secret:
        _print_keys(client.jwks)
        print(f"client_id: {client.client_id}")
        return
    out.print("store the secret now; it is not kept:")
    print(f"client_id: {client.client_id}")
    print(f"client_secret: {new.secret}")


@client_app.command("set-jwks")
def set_jwks(
    client_id: str,
    file: Path = typer.Option(
        ..., "--file", help="JWKS file of the client's public keys (JSON)."
    ),
) -> None:
    """Register or replace the public keys a client signs private_key_jwt assertions
    with (SMART Backend Services); a secret it has keeps working."""
    django_setup()
    from recordroom.accounts.oauth import set_client_jwks
    from recordroom.kernel.errors import RecordroomError

    try:
        client = set_client_jwks(
            actor=cli_actor(), client_id=client_id, jwks=_read_jwks(file)
        )
    except RecordroomError as exc:
        fail(exc.message)
    out.print(f"client '{client.name}' ({client_id}) now has these keys:")
    _print_keys(client.jwks)


def _read_jwks(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the JWKS file {path}: {exc}")


def _print_keys(jwks: str) -> None:
    from recordroom.accounts.assertions import key_ids

    out.print(
        "it authenticates with private_key_jwt assertions signed by key(s): "
        + ", ".join(key_ids(jwks)),
        highlight=False,
    )


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
        auth = "+".join(
            a for a, on in (("secret", c.secret_digest), ("jwks", c.jwks)) if on
        )
        used = f"{c.last_used_at:%Y-%m-%d %H:%M}" if c.last_used_at else "never"
        out.print(f"{c.client_id}  {c.name}  {state}  {auth}  last used {used}  "
                  f"{c.scopes}",
                  highlight=False, soft_wrap=True)  # fmt: skip
