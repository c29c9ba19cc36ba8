"""The ACK answered for every message: MSH, MSA and (unless AA) an ERR naming the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from recordroom.interop.models import InterfaceMessage
from recordroom.mpi.models import Patient

from .parser import Message, escape

# HL7 table 0357 (message error condition codes) used in ERR-3.
ERROR_LABELS = {
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "201": "Unsupported event code",
    "204": "Unknown key identifier",
    "207": "Application internal error",
}


@dataclass
class Applied:
    """What a handler did: the patient concerned, facts for the audit event, and a
    note for the sender (MSA-3) when the message was accepted without a change."""

    patient: Patient
    detail: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    # AE: what was written (a merge held for review) commits, yet the message is
    # answered AE with the note in ERR, naming `location`.
    ack: str = "AA"
    location: str = ""


@dataclass
class Ack:
    code: str  # AA, AE, AR
    control_id: str
    text: str = ""
    location: str = ""
    error_code: str = ""
    message: InterfaceMessage | None = None
    header: dict[str, str] = field(default_factory=dict)
    app_error: str = ""  # ERR-5 application error code (CWE), e.g. "ORU^^HL70076"

    def encode(self) -> bytes:
        h = self.header
        now = timezone.now().strftime("%Y%m%d%H%M%S")
        trigger = h.get("trigger", "")
        msh = "|".join(
            [
                "MSH",
                "^~\\&",
                h.get("receiving_app", "RECORDROOM"),
                h.get("receiving_facility", ""),
                h.get("sending_app", ""),
                h.get("sending_facility", ""),
                now,
                "",
                f"ACK^{trigger}^ACK" if trigger else "ACK",
                f"ACK{now}{(self.message.pk.hex[-8:] if self.message else '')}",
                h.get("processing_id", "P") or "P",
                h.get("version", "2.5.1") or "2.5.1",
                *(["", "", "", "", "", h["charset"]] if h.get("charset") else []),
            ]
        )
        segments = [
            msh,
            f"MSA|{self.code}|{escape(self.control_id)}|{escape(self.text)}",
        ]
        if self.code != "AA":
            label = ERROR_LABELS.get(self.error_code or "207", "")
            segments.append(
                f"ERR||{_erl(self.location)}|{self.error_code or '207'}^{label}^"
                f"HL70357|E|{self.app_error}|||{escape(self.text)}"
            )
        # in the character set the message declared (MSH-18, echoed above)
        codec = h.get("codec", "utf-8") if h.get("charset") else "utf-8"
        return ("\r".join(segments) + "\r").encode(codec, errors="replace")


def _erl(location: str) -> str:
    """ERR-2 (ERL) for a location like "PID-3" or "MSH-9.2": segment^1^field[^1^comp]."""
    seg, _, num = location.partition("-")
    if not num:
        return seg
    fld, _, comp = num.partition(".")
    return f"{seg}^1^{fld}^1^{comp}" if comp else f"{seg}^1^{fld}"


def header(msg: Message | None) -> dict[str, str]:
    """The routing facts of a message that its ACK mirrors back."""
    if msg is None:
        return {}
    msh = msg.msh
    return {
        "sending_app": msh.raw(3),
        "sending_facility": msh.raw(4),
        "receiving_app": msh.raw(5) or "RECORDROOM",
        "receiving_facility": msh.raw(6),
        "trigger": msh.comp(9, 2),
        "processing_id": msh.comp(11),
        "version": msh.comp(12),
        "charset": msh.raw(18),
        "codec": msg.charset,
    }
