"""Reading interface messages for the people who watch the interfaces: a keyset page
(newest first, by status and type), one message, and its raw text (audited)."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from django.db.models import Exists, OuterRef, Q, QuerySet

from recordroom.accounts.labels import Access, access
from recordroom.audit.services import record
from recordroom.interop.models import InterfaceMessage, MessageStatus
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from recordroom.mpi.models import Facility, PatientIdentifier
from recordroom.records.access import chart_labels
from recordroom.records.chart import MAX_PAGE, Page
from recordroom.records.models import DocumentType

from .charsets import readable
from .mdm import DOCUMENT_TYPE

RAW_SHOWN = 256 * 1024  # characters of a raw message shown on a page at most
_SSN_TEXT = re.compile(r"\b(\d{3})-(\d{2})-(\d{4})\b")


def visible_messages(user: Any) -> QuerySet[InterfaceMessage]:
    """Messages from the user's facilities (by MSH-4), or about their patients."""
    rows = InterfaceMessage.objects.all()
    scope = user.facility_ids() if user is not None else None
    if scope is None:
        return rows
    codes = Facility.objects.filter(pk__in=scope).values_list("code", flat=True)
    sender = Q(pk__in=[])
    for code in codes:
        sender |= Q(sending_facility__iexact=code)
    theirs = PatientIdentifier.objects.filter(
        patient=OuterRef("patient_id"), facility_id__in=scope
    )
    return rows.filter(sender | Q(Exists(theirs)))


def message_page(
    *,
    user: Any,
    status: str = "",
    message_type: str = "",
    after: UUID | None = None,
    limit: int = 50,
) -> Page[InterfaceMessage]:
    """Newest first; `message_type` matches from the start ("ADT", "MDM^T02").

    Raises:
        ValidationFailed: an unknown status, a limit out of range, or an `after`
            that is not a message of this list.
    """
    if status and status not in MessageStatus.values:
        raise ValidationFailed(
            f"unknown status {status!r}; use one of {', '.join(MessageStatus.values)}",
            field="status",
        )
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(
            f"limit {limit} is out of range; ask for 1 to {MAX_PAGE} messages",
            field="limit",
        )
    rows = visible_messages(user)
    if status:
        rows = rows.filter(status=status)
    if message_type.strip():
        rows = rows.filter(message_type__startswith=message_type.strip().upper())
    if after is not None:
        anchor = rows.filter(pk=after).values_list("received_at", flat=True).first()
        if anchor is None:
            raise ValidationFailed(
                f"'after' {after} is not a message of this list; start again without "
                "it",
                field="after",
            )
        rows = rows.filter(
            Q(received_at__lt=anchor) | Q(received_at=anchor, pk__lt=after)
        )
    # A list never shows the raw message: leave its bytes (up to 256 KB a row) unread.
    page = list(rows.defer("raw").order_by("-received_at", "-pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return Page(page, page[-1].pk if more and page else None)


def get_message(*, user: Any, message_id: Any) -> InterfaceMessage:
    try:
        message = InterfaceMessage.objects.select_related("patient").get(pk=message_id)
    except Exception:  # invalid UUID text or missing row both mean: no such message
        raise NotFound(f"no interface message with id '{message_id}'") from None
    if not visible_messages(user).filter(pk=message.pk).exists():
        raise PermissionDenied(
            f"interface message {message_id} is from outside your facilities"
        )
    return message


def message_access(user: Any, message: InterfaceMessage) -> Access:
    """Whether `user` may read this message's text: it carries what its patient's chart
    does (a VIP or restricted chart's labels) and, for a document message (MDM), the
    labels its document type files the note with (a psychotherapy note, a Part 2 visit
    note), so the raw text is no back door around the viewer's label check."""
    codes: list[str] = []
    if message.patient is not None:
        codes += chart_labels(message.patient)
    if message.message_type.upper().startswith("MDM"):
        kind = _txa_document_type(message.raw_bytes())
        mapped = DOCUMENT_TYPE.get(kind.upper(), "")  # as the MDM handler reads it
        found = DocumentType.objects.filter(code__in=[c for c in (kind, mapped) if c])
        for doc_type in found:
            codes += list(doc_type.default_sensitivity or [])
    return access(user, codes, patient_id=message.patient_id)


def _txa_document_type(data: bytes) -> str:
    """TXA-2's code (the document type) of a raw HL7 v2 message; "" when absent."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\r")
    for line in text.replace("\n", "\r").split("\r"):
        line = line.strip("\x0b\x1c")
        if line.startswith("TXA") and len(line) > 3:
            fields = line.split(line[3])
            return fields[2].split("^")[0].strip() if len(fields) > 2 else ""
    return ""


def read_raw(*, actor: Actor, message: InterfaceMessage) -> tuple[str, bool]:
    """The message as text, segment per line, SSNs masked to their last four;
    audited as interface.view. Returns (text, whether it was cut short)."""
    data = message.raw_bytes()
    text = readable(data)  # in its character set (MSH-18), as it was applied
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\x0b\x1c\n")
    cut = len(text) > RAW_SHOWN
    text = "\n".join(_mask_pid(line) for line in text[:RAW_SHOWN].split("\n"))
    record(
        actor=actor,
        action=actions.INTERFACE_VIEW.name,
        patient=message.patient_id,
        obj=message,
        detail={"type": message.message_type, "control_id": message.control_id},
    )
    return _SSN_TEXT.sub(r"***-**-\3", text), cut


def _mask_pid(line: str) -> str:
    """PID-19 and SS-typed PID-3 identifiers show only their last four digits."""
    if not line.startswith("PID") or len(line) < 4:
        return line
    sep = line[3]
    fields = line.split(sep)
    if len(fields) > 19:
        fields[19] = _last4(fields[19])
    if len(fields) > 3:
        reps = fields[3].split("~")
        fields[3] = "~".join(
            _last4(r) if len(r.split("^")) > 4 and r.split("^")[4] == "SS" else r
            for r in reps
        )
    return sep.join(fields)


def _last4(value: str) -> str:
    digits = re.sub(r"\D", "", value.split("^")[0])
    if not digits:
        return value
    rest = value[len(value.split("^")[0]) :]
    return f"*****{digits[-4:]}{rest}"
