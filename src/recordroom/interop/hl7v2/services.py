"""Receive one HL7 v2 message: store it, apply it, and build its ACK.

`handle(raw)` never raises: whatever arrives is recorded as an InterfaceMessage (the
raw bytes encrypted in the blob store) and answered with an ACK -- AA applied, AE an
error in the content (nothing written), AR rejected (not HL7, unsupported type).
The ACK is built only after the transaction that applied the message has committed.
The handlers themselves live in adt.py and mdm.py; processed.py declares which
message types and events route to them (anything else is an AR naming it).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.exceptions import ValidationError

from recordroom.audit.services import record
from recordroom.interop.models import RAW_INLINE_MAX, InterfaceMessage, MessageStatus
from recordroom.kernel import actions, sqlrows, unit
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store, seal
from recordroom.kernel.errors import Conflict, NotFound, RecordroomError

from .ack import Ack, Applied, header
from .adt import unsupported_note
from .duplicates import earlier
from .parser import Hl7Error, Message, escape, parse
from .processed import MESSAGE_TYPES, TABLE_0076, Handler, accepted, processed

__all__ = ["Ack", "handle", "reprocess"]

log = logging.getLogger(__name__)

# Where a service's complaint about a field points in the message.
FIELD_LOCATION = {
    "birth_date": "PID-7",
    "deceased_date": "PID-29",
    "sex": "PID-8",
    "names": "PID-5",
    "identifiers.value": "PID-3",
    "identifiers.system": "PID-3",
    "identifiers.facility": "MSH-4",
    "account_number": "PV1-19",
    "encounter_class": "PV1-2",
    "patient_class": "PV1-2",
    "admit_at": "PV1-44",
    "discharge_at": "PV1-45",
    "discharge_disposition": "PV1-36",
    "location": "PV1-3",
    "status": "MSH-9",
    "file": "OBX-5",
    "media_type": "OBX-5",
    "filename": "TXA-12",
}


# Writes raw messages to the blob store (encrypt, fsync) while the caller applies them.
_RAW_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hl7-raw")

Durable = Callable[[], object]  # returns once the raw message is durable, or raises


def handle(raw: bytes) -> Ack:
    """Store, apply and acknowledge one message; never raises.

    The raw message is kept encrypted in its row (RAW_INLINE_MAX), so the one commit
    that makes the row and what the message changed durable makes it durable too. A
    larger one is written to the blob store (and fsynced) by a helper thread while
    the message is parsed and applied; the row that names it is committed only once
    that write has returned. One commit per message.
    """
    durable: Durable
    if len(raw) <= RAW_INLINE_MAX:  # kept in the row: durable with its commit
        sha256, sealed = seal(raw)
        row = sqlrows.new(InterfaceMessage, raw_sha256=sha256, raw_size=len(raw),
                          raw=sealed)  # fmt: skip
        durable = _stored
    else:
        durable = _RAW_WRITER.submit(default_store().put, raw).result
        sha256 = hashlib.sha256(raw).hexdigest()  # the blob's address
        row = sqlrows.new(InterfaceMessage, raw_sha256=sha256, raw_size=len(raw))
    try:
        msg = parse(raw)
        _route(row, msg)
    except Hl7Error as exc:
        _finish(row, MessageStatus.REJECTED, "AR", exc.message, durable)
        return Ack("AR", "", exc.message, exc.location, exc.code, row, {})
    row.warnings = "\n".join(msg.warnings)
    return _process(row, msg, durable)


REPROCESSABLE = (MessageStatus.ERROR, MessageStatus.REJECTED, MessageStatus.RECEIVED)


def _route(row: InterfaceMessage, msg: Message) -> None:
    """The routing facts of MSH kept on the row (never PHI)."""
    msh = msg.msh
    row.sending_app = msh.comp(3)[:180]
    row.sending_facility = msh.comp(4)[:180]
    row.control_id = msh.raw(10)[:199]
    row.message_type = "^".join(p for p in (msh.comp(9), msh.comp(9, 2)) if p)[:40]


def refuse_oversized(head: bytes, size: int, limit: int) -> Ack:
    """A message past the listener's size limit: recorded as rejected (its first
    bytes kept, encrypted, for the sender's MSH), answered AR naming the limit.
    Nothing of it is applied; never raises for what the head holds."""
    stored = default_store().put(head)
    text = (
        f"message is {size / 1048576:.1f} MB; the largest accepted is "
        f"{limit / 1048576:g} MB (RECORDROOM_HL7_MAX_MESSAGE_MB); nothing was applied"
    )
    row = InterfaceMessage(
        raw_sha256=stored.sha256,
        raw_size=size,
        status=MessageStatus.REJECTED,
        ack_code="AR",
        error=text,
    )
    msg: Message | None = None
    try:  # the MSH alone, to address the ACK and name the message
        msg = parse(head.replace(b"\n", b"\r").split(b"\r", 1)[0])
    except Hl7Error:
        pass
    if msg is not None:
        _route(row, msg)
    row.save(force_insert=True)
    return Ack("AR", row.control_id, text, "MSH", "207", row, header(msg))


def reprocess(message_id: Any, *, actor: Actor | None = None) -> Ack:
    """Apply again a message that ended in error or was rejected (after its cause
    was fixed: the patient registered, the facility added, the type now supported).

    With `actor` (a person at the web page, API or CLI) the attempt and its outcome
    are audited as interface.reprocess.

    Raises:
        NotFound: no such message.
        Conflict: the message was processed (or is a duplicate): nothing to redo.
    """
    try:
        row = InterfaceMessage.objects.get(pk=message_id)
    except (InterfaceMessage.DoesNotExist, ValueError, ValidationError):
        raise NotFound(f"no interface message {message_id}") from None
    if row.status not in REPROCESSABLE:
        raise Conflict(
            f"message {row.pk} is {row.status}; only messages in error or rejected "
            "are reprocessed"
        )
    before = row.status
    raw = row.raw_bytes()
    if len(raw) != row.raw_size:
        raise Conflict(
            f"message {row.pk} was larger than the size limit and only its beginning "
            "was kept; ask the sender to resend it within the limit"
        )
    try:
        msg = parse(raw)
    except Hl7Error as exc:
        _finish(row, MessageStatus.REJECTED, "AR", exc.message, _stored)
        ack = Ack("AR", row.control_id, exc.message, exc.location, exc.code, row, {})
    else:
        row.warnings = "\n".join(msg.warnings)
        ack = _process(row, msg, _stored)
    if actor is not None:
        record(
            actor=actor,
            action=actions.INTERFACE_REPROCESS.name,
            patient=row.patient_id,
            obj=row,
            detail={"before": before, "after": row.status, "ack": ack.code},
        )
    return ack


def _unsupported(
    row: InterfaceMessage, msg: Message, hdr: dict[str, str], durable: Durable
) -> Ack:
    """AR for a message type (table 0076) or trigger event (table 0003) that is not
    in processed.PROCESSED: ERR-3 200 or 201, ERR-5 the type or event itself."""
    kind, event = msg.msh.comp(9), msg.msh.comp(9, 2)
    if kind not in MESSAGE_TYPES:
        what = f"message type {kind or '(empty)'}"
        if kind in TABLE_0076:
            what += f" ({TABLE_0076[kind]})"
        name = escape(TABLE_0076.get(kind, ""))
        location, code, app_error = "MSH-9.1", "200", f"{escape(kind)}^{name}^HL70076"
    else:
        what = f"trigger event {kind}^{event or '(empty)'}"
        location, code, app_error = "MSH-9.2", "201", f"{escape(event)}^^HL70003"
    note = unsupported_note(event) if kind == "ADT" else ""
    text = f"{note}{what} is not processed by Recordroom; processed: {accepted()}"
    _finish(row, MessageStatus.REJECTED, "AR", text, durable)
    return Ack("AR", row.control_id, text, location, code, row, hdr, app_error)


def _process(row: InterfaceMessage, msg: Message, durable: Durable) -> Ack:
    hdr = header(msg)
    before = earlier(row, msg)
    if before.original is not None:
        note = (
            f"duplicate of message {row.control_id} received "
            f"{before.original.received_at:%Y-%m-%d %H:%M:%S} UTC; not applied again"
        )
        row.patient_id = before.original.patient_id
        code = before.original.ack_code or "AA"
        _finish(row, MessageStatus.DUPLICATE, code, note, durable)
        return Ack(code, row.control_id, note, "", "", row, hdr)
    reused = before.warning(row)
    row.warnings = "\n".join(w for w in (row.warnings, reused) if w)

    entry = processed(msg.msh.comp(9), msg.msh.comp(9, 2))
    if entry is None:
        return _unsupported(row, msg, hdr, durable)
    handler = entry.handler

    actor = Actor(channel="hl7", name=f"hl7:{row.sending_app or '?'}"[:150])
    try:
        applied = _apply(actor, row, msg, handler, durable)
    except Hl7Error as exc:
        text = f"{exc.location}: {exc.message}"
        _finish(row, MessageStatus.ERROR, "AE", text, durable)
        return Ack("AE", row.control_id, exc.message, exc.location, exc.code, row, hdr)
    except RecordroomError as exc:
        where = FIELD_LOCATION.get(exc.field or "", "")
        text = str(exc.message)
        code = "207" if isinstance(exc, Conflict) else "102"
        note = f"{where}: {text}" if where else text
        _finish(row, MessageStatus.ERROR, "AE", note, durable)
        return Ack("AE", row.control_id, text, where, code, row, hdr)
    except Exception as exc:  # never let one message bring the listener down
        log.exception("HL7 message %s failed", row.pk)
        text = f"internal error ({type(exc).__name__}); message kept as {row.pk}"
        _finish(row, MessageStatus.ERROR, "AE", text, durable)
        return Ack("AE", row.control_id, text, "", "207", row, hdr)
    note = "; ".join(n for n in (applied.note, reused) if n)
    if applied.ack != "AA":
        return Ack(applied.ack, row.control_id, applied.note, applied.location, "207",
                   row, hdr)  # fmt: skip
    return Ack("AA", row.control_id, note, "", "", row, hdr)


def _apply(
    actor: Actor,
    row: InterfaceMessage,
    msg: Message,
    handler: Handler,
    durable: Durable,
) -> Applied:
    """Run the handler and record the message as processed in one transaction,
    which commits only once the raw message is durable (the wait comes last, so
    that the writes above overlap the helper thread's fsyncs)."""
    new = row._state.adding
    try:
        # one unit of work: an error anywhere keeps nothing of the message, so the
        # services inside open no savepoints of their own (kernel.unit)
        with unit.unit():
            applied = handler(actor, msg)
            # what was kept otherwise than sent joins the message's warnings (the
            # reading's own: charset, reused id); any other note the ACK gave
            # the sender is the processed message's note
            warned = list(applied.detail.get("warnings") or [])
            row.warnings = "\n".join(w for w in (row.warnings, *warned) if w)
            row.status, row.ack_code = MessageStatus.PROCESSED, "AA"
            row.error = "" if applied.note == "; ".join(warned) else applied.note
            if applied.ack != "AA":  # held for review: an error to reprocess later
                row.status, row.ack_code = MessageStatus.ERROR, applied.ack
                row.error = f"{applied.location}: {applied.note}"
            row.patient = applied.patient
            _save(row, _stored)  # not committed before durable() below returns
            record(
                actor=actor,
                action=actions.INTERFACE_MESSAGE.name,
                patient=applied.patient,
                obj=row,
                detail={
                    "type": row.message_type,
                    "control_id": row.control_id,
                    "sender": f"{row.sending_app}/{row.sending_facility}",
                    **applied.detail,
                    **({"warnings": row.warnings.split("\n")} if row.warnings else {}),
                },
            )
            durable()
    except BaseException:
        row._state.adding = new  # its insert, if any, was rolled back with the rest
        raise
    return applied


def _finish(
    row: InterfaceMessage, status: str, ack: str, error: str, durable: Durable
) -> None:
    row.status, row.ack_code, row.error = status, ack, error
    _save(row, durable)


def _stored() -> None:
    """Nothing to wait for: the raw bytes are in the row itself, or (a message
    being reprocessed) stored already."""


def _save(row: InterfaceMessage, durable: Durable) -> None:
    """Insert a new message row once its raw bytes are durable (so no committed row
    names a blob that a crash could lose), or update the outcome of a stored one."""
    if row._state.adding:
        durable()
        sqlrows.insert([row])  # as save(force_insert=True), without building a query
    else:
        row.save(
            update_fields=[
                "status",
                "ack_code",
                "error",
                "patient",
                "warnings",
                "content_sha256",
            ]
        )
