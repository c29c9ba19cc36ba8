"""`recordroom hl7 ...`: the HL7 v2 MLLP listener and message reprocessing."""

from __future__ import annotations

import typer

from .console import err, out
from .setup import django_setup

hl7_app = typer.Typer(help="HL7 v2 interfaces over MLLP.", no_args_is_help=True)


@hl7_app.command("listen")
def listen(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(2575, help="Port to listen on."),
) -> None:
    """Receive HL7 v2 messages (ADT) over MLLP and answer each with an ACK."""
    django_setup()
    from .setup import pending_migrations

    if pending_migrations():
        err.print("the database is not migrated; run 'recordroom init' first")
        raise typer.Exit(1)
    from recordroom.interop.hl7v2.listen import run

    run(host, port)


@hl7_app.command("reprocess")
def reprocess(message_id: str) -> None:
    """Apply again a received message that ended in error."""
    django_setup()
    from recordroom.interop.hl7v2.services import reprocess as do_reprocess
    from recordroom.kernel.errors import RecordroomError

    from .setup import cli_actor

    try:
        ack = do_reprocess(message_id, actor=cli_actor())
    except RecordroomError as exc:
        err.print(f"error: {exc.message}")
        raise typer.Exit(1) from None
    out.print(f"{ack.code} {ack.text}".strip())
    if ack.code != "AA":
        raise typer.Exit(1)
