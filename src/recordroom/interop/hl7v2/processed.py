"""What Recordroom processes from HL7 v2, declared once: (MSH-9.1, MSH-9.2) -> the
handler that applies it and a line saying what it does. The ACK, the Interfaces page
and the administrator guide read this list; a type is supported by adding one line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from recordroom.kernel.actor import Actor

from .ack import Applied
from .adt import apply_adt
from .mdm import apply_mdm
from .oru import apply_oru
from .parser import Message

Handler = Callable[[Actor, Message], Applied]


@dataclass(frozen=True)
class Processed:
    message_type: str  # HL7 table 0076
    event: str  # HL7 table 0003
    handler: Handler
    description: str

    @property
    def code(self) -> str:
        return f"{self.message_type}^{self.event}"


PROCESSED: tuple[Processed, ...] = (
    Processed("ADT", "A01", apply_adt, "admit: registers or updates the patient and records the visit"),
    Processed("ADT", "A02", apply_adt, "transfer: the visit's location and class"),
    Processed("ADT", "A03", apply_adt, "discharge: the visit's discharge time and disposition"),
    Processed("ADT", "A04", apply_adt, "register an outpatient: the patient and the visit"),
    Processed("ADT", "A05", apply_adt, "pre-admit: the patient and a planned visit"),
    Processed("ADT", "A08", apply_adt, "update patient information, contacts and a known visit"),
    Processed("ADT", "A11", apply_adt, "cancel admit: the visit is cancelled"),
    Processed("ADT", "A13", apply_adt, "cancel discharge: the visit is in progress again"),
    Processed("ADT", "A28", apply_adt, "add person information: registers or updates the patient"),
    Processed("ADT", "A31", apply_adt, "update person information and contacts"),
    Processed("ADT", "A40", apply_adt, "merge patient: MRG-1's record into PID-3's"),
    Processed("MDM", "T01", apply_mdm, "original document notification: acknowledged, nothing filed"),
    Processed("MDM", "T02", apply_mdm, "original document with content: filed"),
    Processed("MDM", "T03", apply_mdm, "document status change"),
    Processed("MDM", "T04", apply_mdm, "document status change with content"),
    Processed("MDM", "T05", apply_mdm, "addendum notification: acknowledged, nothing filed"),
    Processed("MDM", "T06", apply_mdm, "addendum with content: a new version of the parent"),
    Processed("MDM", "T07", apply_mdm, "edit notification: acknowledged, nothing filed"),
    Processed("MDM", "T08", apply_mdm, "edit with content: a corrected version"),
    Processed("MDM", "T09", apply_mdm, "replacement notification: acknowledged, nothing filed"),
    Processed("MDM", "T10", apply_mdm, "replacement with content: a corrected version"),
    Processed("MDM", "T11", apply_mdm, "document cancel: entered in error"),
    Processed("ORU", "R01", apply_oru, "unsolicited observation: lab and radiology results filed to the patient and visit"),
)  # fmt: skip

BY_CODE: dict[tuple[str, str], Processed] = {
    (p.message_type, p.event): p for p in PROCESSED
}
MESSAGE_TYPES = frozenset(p.message_type for p in PROCESSED)


def processed(message_type: str, event: str) -> Processed | None:
    """The registry entry for MSH-9's type and event, or None when not processed
    (codes as the tables spell them: upper case)."""
    return BY_CODE.get((message_type, event))


def accepted() -> str:
    """The processed types as an ACK lists them: ADT^A01, ADT^A02, …"""
    return ", ".join(p.code for p in PROCESSED)


# HL7 table 0076 (message type): the names an ACK gives for a type we do not process.
TABLE_0076 = {
    "ACK": "general acknowledgment",
    "ADT": "ADT message",
    "BAR": "add/change billing account",
    "DFT": "detailed financial transaction",
    "MDM": "medical document management",
    "MFN": "master files notification",
    "OML": "laboratory order",
    "ORM": "pharmacy/treatment order",
    "ORU": "unsolicited transmission of an observation message",
    "QBP": "query by parameter",
    "RAS": "pharmacy/treatment administration",
    "RDE": "pharmacy/treatment encoded order",
    "RDS": "pharmacy/treatment dispense",
    "SIU": "schedule information unsolicited",
    "VXU": "unsolicited vaccination record update",
}
