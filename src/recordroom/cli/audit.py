"""`recordroom audit ...`: verify the keyed chain and its signed checkpoints, write a
checkpoint, print the public key, export events."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import typer

from .console import fail, out
from .setup import cli_actor, django_setup

audit_app = typer.Typer(
    help="The audit trail: verify the keyed chain and its signed checkpoints, export.",
    no_args_is_help=True,
)


@audit_app.command("verify")
def audit_verify(
    checkpoints: Path = typer.Option(
        None,
        "--checkpoints",
        help="Checkpoint file to hold the chain to (default: "
        "RECORDROOM_AUDIT_CHECKPOINT_FILE).",
    ),
    public_key: Path = typer.Option(
        None,
        "--public-key",
        help="Verify as an auditor with this public key (PEM, from `audit public-key`) "
        "instead of the keys: ids, links and every checkpointed position are checked.",
    ),
) -> None:
    """Check the whole keyed chain and every signed checkpoint; exit 1 naming the first
    problem. Prints the head hash and the last checkpoint."""
    # An auditor holding only the public key needs neither the audit key nor the
    # others: the keyed check is skipped in that mode.
    django_setup(keys_optional=public_key is not None)
    from recordroom.audit.checkpoints import (
        CheckpointError,
        load_public_key,
        verify_all,
    )

    try:
        key = load_public_key(public_key) if public_key else None
        report = verify_all(checkpoints, key)
    except CheckpointError as exc:
        fail(str(exc))
    result = report.result
    out.print(f"head: event {result.head_id} {result.head_hash}", highlight=False)
    last = report.last
    if last:
        out.print(
            f"last checkpoint: {last.time} event {last.event_id} {last.hash} "
            f"({len(report.checkpoints)} checked)",
            highlight=False,
        )
    else:
        out.print("last checkpoint: none (run `recordroom audit checkpoint`)")
    if result.keyed_from and result.keyed_from > 1:
        plain = result.keyed_from - 1
        which = "event 1 carries" if plain == 1 else f"events 1-{plain} carry"
        out.print(
            f"{which} plain SHA-256 hashes from before the audit key, sealed by the "
            f"switch-over event {result.keyed_from}",
            highlight=False,
        )
    from recordroom.audit.checkpoints import warnings

    for warning in warnings(last, events=result.count, path=checkpoints):
        out.print(f"warning: {warning}", highlight=False)
    if result.intact:
        how = "links and checkpoints only (public key)" if public_key else "keyed"
        out.print(f"intact: {result.count} events ({how})")
        return
    fail(
        f"broken at event {result.broken_id}: {result.reason} "
        f"({result.count} events verified before it)"
    )


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the chain's head now and append it to the checkpoint file (the worker does
    this on its schedule)."""
    django_setup()
    from recordroom.audit.checkpoints import CheckpointError, write_checkpoint

    try:
        cp = write_checkpoint()
    except CheckpointError as exc:
        fail(str(exc))
    from django.conf import settings

    out.print(
        f"checkpoint {cp.time}: event {cp.event_id} {cp.hash} signed by key {cp.key}, "
        f"appended to {settings.AUDIT_CHECKPOINT_FILE}",
        highlight=False,
    )


@audit_app.command("public-key")
def audit_public_key(
    output: Path = typer.Option(
        None, "--output", "-o", help="File to write (default stdout)."
    ),
) -> None:
    """Print the checkpoints' public key (PEM) for auditors: `audit verify --public-key`."""
    django_setup()
    from recordroom.audit.checkpoints import public_key_pem

    pem = public_key_pem()
    if output:
        output.write_text(pem)
        out.print(f"public key written to {output}")
    else:
        sys.stdout.write(pem)


@audit_app.command("export")
def audit_export(
    output: Path = typer.Option(
        None, "--output", "-o", help="File to write (default stdout)."
    ),
    patient: str = typer.Option(None, help="Only events about this patient id."),
) -> None:
    """Export audit events as FHIR R4 AuditEvent NDJSON."""
    django_setup()
    from recordroom.audit.fhir import iter_ndjson
    from recordroom.audit.models import AuditEvent, Outcome
    from recordroom.audit.services import record
    from recordroom.kernel import actions

    if patient:
        try:
            patient = str(uuid.UUID(patient))
        except ValueError:
            fail(f"--patient must be a patient id (a UUID), got {patient!r}")
    events = AuditEvent.objects.order_by("id")
    if patient:
        events = events.filter(patient_id=patient)
    count, outcome = 0, Outcome.FAILURE
    fh = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        for line in iter_ndjson(events):
            fh.write(line)
            count += 1
        outcome = Outcome.SUCCESS
    finally:
        # Audited even when cut short (broken pipe, full disk, Ctrl-C): what was
        # written so far has left the system.
        if output:
            fh.close()
        record(
            actor=cli_actor(),
            action=actions.AUDIT_EXPORT.name,
            patient=patient or None,
            outcome=outcome,
            detail={"count": count, "output": str(output or "stdout")},
        )
    if output:
        out.print(f"exported {count} events to {output}")
