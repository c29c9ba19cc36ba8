"""Receive one HL7 v2 message: store it, apply it, and build its ACK.

`handle(raw)` never raises: whatever arrives is recorded as an InterfaceMessage (the
raw bytes encrypted in the blob store) and answered with an ACK -- AA applied, AE an
error in the content (nothing written), AR rejected (not HL7, unsupported type).
The ACK is built only after the transaction that applied the message has committed.
The handlers themselves live in adt.py and mdm.py; HANDLERS routes to them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from recordroom.audit.services import record
from recordroom.interop.models import InterfaceMessage, MessageStatus
from recordroom.kernel import actions, sqlrows
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import Conflict, NotFound, RecordroomError

from .ack import Ack, Applied, header
from .adt import ADT_EVENTS, apply_adt, unsupported_note
from .mdm import MDM_EVENTS, apply_mdm
from .oru import ORU_EVENTS, apply_oru
from .parser import Hl7Error, Message, parse

__all__ = ["HANDLERS", "Ack", "handle", "reprocess"]

log = logging.getLogger(__name__)

Handler = Callable[[Actor, Message], Applied]
# (MSH-9.1, MSH-9.2) -> the handler that applies it
HANDLERS: dict[tuple[str, str], Handler] = {
    **{("ADT", event): apply_adt for event in ADT_EVENTS},
    **{("MDM", event): apply_mdm for event in MDM_EVENTS},
    **{("ORU", event): apply_oru for event in ORU_EVENTS},
}

# Where a service's complaint about a field points in the message.
FIELD_LOCATION = {
    "birth_date": "PID-7",
    "sex": "PID-8",
    "names": "PID-5",
    "identifiers.value": "PID-3",
    "identifiers.system": "PID-3",
    "identifiers.facility": "MSH-4",
    "account_number": "PV1-19",
    "encounter_class": "PV1-2",
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

    The raw message is written to the blob store (and fsynced) by a helper thread
    while the message is parsed and applied; the row that names it is committed only
    once that write has returned, in the same transaction as what the message
    changed. One commit per message.
    """
    durable = _RAW_WRITER.submit(default_store().put, raw).result
    sha256 = hashlib.sha256(raw).hexdigest()  # the blob's address
    row = InterfaceMessage(raw_sha256=sha256, raw_size=len(raw))
    try:
        msg = parse(raw)
        _route(row, msg)
    except Hl7Error as exc:
        _finish(row, MessageStatus.REJECTED, "AR", exc.message, durable)
        return Ack("AR", "", exc.message, exc.location, exc.code, row, {})
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
    raw = default_store().get(row.raw_sha256)
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


def _duplicate_of(row: InterfaceMessage) -> InterfaceMessage | None:
    """The processed message this one repeats (same sender and control id)."""
    if not row.control_id:
        return None
    # Plain SQL (kernel.sqlrows): every message asks this, and the ORM spent 0.7 ms
    # of CPU building the query.
    table = InterfaceMessage._meta.db_table
    return sqlrows.fetch_first(
        f"SELECT {sqlrows.columns(InterfaceMessage)} FROM {table} "  # noqa: S608
        "WHERE sending_facility = %s AND control_id = %s AND status = %s "
        "AND id <> %s ORDER BY received_at LIMIT 1",
        [
            row.sending_facility,
            row.control_id,
            MessageStatus.PROCESSED.value,
            sqlrows.param(InterfaceMessage, "id", row.pk),
        ],
        InterfaceMessage,
    )


def _unsupported_text(msg: Message, message_type: str) -> str:
    accepted = ", ".join(f"{kind}^{event}" for kind, event in sorted(HANDLERS))
    note = unsupported_note(msg.msh.comp(9, 2)) if msg.msh.comp(9) == "ADT" else ""
    return (
        f"{note}message type {message_type or '(empty)'} is not supported; "
        f"accepted: {accepted}"
    )


def _process(row: InterfaceMessage, msg: Message, durable: Durable) -> Ack:
    hdr = header(msg)
    original = _duplicate_of(row)
    if original is not None:
        note = (
            f"duplicate of message {row.control_id} received "
            f"{original.received_at:%Y-%m-%d %H:%M:%S} UTC; not applied again"
        )
        row.patient_id = original.patient_id
        code = original.ack_code or "AA"
        _finish(row, MessageStatus.DUPLICATE, code, note, durable)
        return Ack(code, row.control_id, note, "", "", row, hdr)

    handler = HANDLERS.get((msg.msh.comp(9), msg.msh.comp(9, 2)))
    if handler is None:
        text = _unsupported_text(msg, row.message_type)
        _finish(row, MessageStatus.REJECTED, "AR", text, durable)
        return Ack("AR", row.control_id, text, "MSH-9", "200", row, hdr)

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
    return Ack("AA", row.control_id, applied.note, "", "", row, hdr)


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
        with transaction.atomic():
            applied = handler(actor, msg)
            row.status, row.ack_code, row.error = MessageStatus.PROCESSED, "AA", ""
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
    """A message being reprocessed: its raw bytes are stored already."""


def _save(row: InterfaceMessage, durable: Durable) -> None:
    """Insert a new message row once its raw bytes are durable (so no committed row
    names a blob that a crash could lose), or update the outcome of a stored one."""
    if row._state.adding:
        durable()
        sqlrows.insert([row])  # as save(force_insert=True), without building a query
    else:
        row.save(update_fields=["status", "ack_code", "error", "patient"])
