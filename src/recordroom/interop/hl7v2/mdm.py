"""MDM events: documents with content filed (T02), their status changed (T03/T04),
edited or replaced by a new version (T08, T10), added to (T06) and cancelled (T11).

A document is known by the sender's unique document number (TXA-12), remembered as
an interop SourceKey when the document is filed. The notifications without content
(T01, T05, T07, T09) are valid messages Recordroom has nothing to file for: they
are acknowledged AA with a note (HL7 v2.5.1 2.9.2: AE is for an error in the
message, AR for a type not accepted; neither is true of them).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from recordroom.interop.models import SourceKey
from recordroom.kernel import clock
from recordroom.kernel.actor import Actor
from recordroom.mpi.models import Facility, Patient
from recordroom.records.models import (
    Document,
    DocumentSource,
    DocumentStatus,
    DocumentType,
    Encounter,
    Provider,
    VersionKind,
)
from recordroom.records.services import (
    add_version,
    change_document_status,
    current_version,
    file_document,
)

from . import pid as pidf
from .ack import Applied
from .content import Content, document_content
from .parser import Hl7Error, Message, Segment, parse_datetime

WITH_CONTENT = {"T02", "T04", "T06", "T08", "T10"}
NOTIFICATIONS = {
    "T01": "original",
    "T05": "addendum",
    "T07": "edit",
    "T09": "replacement",
}
KEY_TYPE = "Document"  # SourceKey.resource_type of a document number

# TXA-17 document completion status (HL7 table 0271) -> our document status
COMPLETION = {
    "AU": DocumentStatus.FINAL,  # authenticated
    "LA": DocumentStatus.FINAL,  # legally authenticated
    "DO": DocumentStatus.FINAL,  # documented
    "DI": DocumentStatus.PRELIMINARY,  # dictated
    "IP": DocumentStatus.PRELIMINARY,  # in progress
    "IN": DocumentStatus.PRELIMINARY,  # incomplete
    "PA": DocumentStatus.PRELIMINARY,  # pre-authenticated
}
# TXA-2 document type (HL7 table 0270) -> our DocumentType code (LOINC)
DOCUMENT_TYPE = {
    "CN": "11488-4",  # consultation
    "PC": "11488-4",  # psychiatric consultation
    "DI": "18748-4",  # diagnostic imaging
    "DS": "18842-5",  # discharge summary
    "ED": "34111-5",  # emergency department report
    "HP": "34117-2",  # history and physical
    "PH": "34117-2",  # psychiatric history and physical
    "OP": "11504-8",  # operative report
    "PN": "28570-0",  # procedure note
    "PR": "11506-3",  # progress note
    "SP": "11526-1",  # surgical pathology
    "TS": "18761-7",  # transfer summary
}
FALLBACK_TYPE = "11506-3"  # progress note: a clinical note that asks for a signature


def apply_mdm(actor: Actor, msg: Message) -> Applied:
    """Apply one MDM event (those in processed.PROCESSED) in the caller's transaction."""
    event = msg.msh.comp(9, 2)
    pid = pidf.require_pid(msg)
    txa = msg.segment("TXA")
    if txa is None:
        raise Hl7Error(f"MDM^{event} needs a TXA segment", "TXA", "100")
    facility, patient = pidf.known_patient(msg, pid)
    number = txa.comp(12)
    if event in NOTIFICATIONS:
        note = (
            f"{NOTIFICATIONS[event]} document notification {number or '(no TXA-12)'} "
            "received; no document filed: Recordroom files documents that come with "
            "their content"
        )
        return Applied(patient, {"document_number": number}, note)
    if not number:
        raise Hl7Error("TXA-12 (unique document number) is empty", "TXA-12", "101")
    source = _source(msg, txa)
    content = document_content(msg) if event in WITH_CONTENT else None
    if event in WITH_CONTENT and content is None:
        raise Hl7Error(
            f"MDM^{event} carries the document's content, but no OBX holds any "
            "(TX, FT or ED)",
            "OBX-5",
            "101",
        )
    if event == "T02":
        return _original(actor, msg, txa, patient, facility, source, content)
    document = _target(event, txa, source, patient)
    detail = {"document": str(document.pk), "document_number": number}
    if event in {"T03", "T04"}:
        _status(actor, document, txa)
    elif event == "T11":
        _cancel(actor, msg, document)
    else:
        _new_version(actor, msg, event, txa, document, content, source)
    return Applied(patient, detail)


def _source(msg: Message, txa: Segment) -> str:
    """Whose numbering TXA-12 is: its assigning authority, else the sender."""
    authority = txa.comp(12, 2) or txa.comp(12, 3)
    sender = f"{msg.msh.comp(3)}@{msg.msh.comp(4)}"
    return f"hl7v2:{authority or sender}"[:200]


def _known(source: str, number: str) -> Document | None:
    key = SourceKey.objects.filter(
        source=source, resource_type=KEY_TYPE, source_id=number[:200]
    ).first()
    if key is None:
        return None
    return Document.objects.filter(pk=key.target_id).first()


def _remember(
    source: str, number: str, document: Document, digest: str, raw: str
) -> None:
    SourceKey.objects.update_or_create(
        source=source,
        resource_type=KEY_TYPE,
        source_id=number[:200],
        defaults={"target_id": document.pk, "digest": digest, "raw_sha256": raw},
    )


def _target(event: str, txa: Segment, source: str, patient: Patient) -> Document:
    """The document a change is about: TXA-12, or for an addendum or replacement
    (a new number of its own) the parent's number in TXA-13."""
    order = [13, 12] if event in {"T06", "T10"} else [12, 13]
    for n in order:
        number = txa.comp(n)
        found = _known(source, number) if number else None
        if found is not None:
            if found.patient_id != patient.pk:
                raise Hl7Error(
                    f"document {number!r} (TXA-{n}) belongs to another patient than "
                    "the one PID-3 names",
                    "PID-3",
                    "204",
                )
            return found
    n = order[0]
    raise Hl7Error(
        f"no document {txa.comp(n) or txa.comp(12)!r} from this sender (TXA-{n}); "
        "send the original document (T02) first",
        f"TXA-{n}",
        "204",
    )


def _completion(txa: Segment, default: str | None = None) -> str:
    code = txa.comp(17).upper()
    if not code and default is not None:
        return default
    if code not in COMPLETION:
        raise Hl7Error(
            f"TXA-17 completion status {code or '(empty)'!r} is not one of "
            f"{', '.join(sorted(COMPLETION))}",
            "TXA-17",
            "103" if code else "101",
        )
    return COMPLETION[code]


def _doc_type(txa: Segment) -> tuple[DocumentType, str]:
    """TXA-2 as our type: a code of ours (LOINC) as is, a table-0270 code mapped,
    anything else filed as a progress note and said so in the ACK."""
    code = txa.comp(2)
    found = (
        DocumentType.objects.filter(code=code, active=True).first() if code else None
    )
    if found is None and code.upper() in DOCUMENT_TYPE:
        found = DocumentType.objects.filter(code=DOCUMENT_TYPE[code.upper()]).first()
    if found is not None:
        return found, ""
    fallback = DocumentType.objects.get(code=FALLBACK_TYPE)
    return fallback, (
        f"TXA-2 document type {code or '(empty)'!r} is not one Recordroom knows; "
        f"filed as {fallback.display}"
    )


def _author(txa: Segment) -> Provider | None:
    """TXA-9 (originator), TXA-22 (authenticator), TXA-5 (primary activity provider),
    the first whose ID is the NPI of a provider we know."""
    for n in (9, 22, 5):
        for rep in range(len(txa.reps(n))):
            npi = txa.comp(n, rep=rep)
            found = Provider.objects.filter(npi=npi).first() if npi else None
            if found is not None:
                return found
    return None


def _encounter(
    msg: Message, pid: Segment, facility: Facility, patient: Patient
) -> Encounter | None:
    pv1 = msg.segment("PV1")
    number = pid.comp(18) or (pv1.comp(19) if pv1 is not None else "")
    if not number:
        return None
    return Encounter.objects.filter(
        facility=facility, account_number=number[:40], patient=patient
    ).first()


def _when(msg: Message, txa: Segment, facility: Facility) -> datetime | None:
    tz = clock.zone_of(facility)
    return parse_datetime(txa.comp(4), "TXA-4", tz) or parse_datetime(
        txa.comp(6), "TXA-6", tz
    )


def _filename(number: str, content: Content) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in number)
    return f"{safe.strip('.')[:120] or 'document'}{content.extension}"


def _digest(content: Content) -> str:
    return hashlib.sha256(content.data).hexdigest()


def _original(
    actor: Actor,
    msg: Message,
    txa: Segment,
    patient: Patient,
    facility: Facility,
    source: str,
    content: Content | None,
) -> Applied:
    """T02: file the document, once (a resend of a known TXA-12 files nothing)."""
    assert content is not None
    number = txa.comp(12)
    known = _known(source, number)
    detail = {"document_number": number}
    if known is not None:
        note = f"document {number} was filed before (as {known.pk}); not filed again"
        return Applied(patient, {**detail, "document": str(known.pk)}, note)
    doc_type, note = _doc_type(txa)
    pid = pidf.require_pid(msg)
    document = file_document(
        actor=actor,
        patient=patient,
        doc_type=doc_type,
        data=content.data,
        filename=_filename(number, content),
        media_type=content.media_type,
        facility=facility,
        encounter=_encounter(msg, pid, facility, patient),
        service_start=_when(msg, txa, facility),
        author=_author(txa),
        status=_completion(txa, default=DocumentStatus.PRELIMINARY),
        source=DocumentSource.INTERFACE,
        title=_title(txa, doc_type),
    )
    _remember(source, number, document, _digest(content), "")
    return Applied(patient, {**detail, "document": str(document.pk)}, note)


def _title(txa: Segment, doc_type: DocumentType) -> str:
    named = txa.comp(2, 2)
    return (named or doc_type.display)[:200]


def _status(actor: Actor, document: Document, txa: Segment) -> None:
    """T03/T04: TXA-17's completion status; the same status again changes nothing."""
    status = _completion(txa)
    if document.status == status:
        return
    change_document_status(
        actor=actor,
        document=document,
        status=status,
        reason=f"TXA-17 completion status {txa.comp(17).upper()}",
    )


def _cancel(actor: Actor, msg: Message, document: Document) -> None:
    """T11: entered in error, with the reason (EVN-4) when the sender gives one."""
    if document.status == DocumentStatus.ENTERED_IN_ERROR:
        return
    evn = msg.segment("EVN")
    why = (evn.comp(4, 2) or evn.comp(4)) if evn is not None else ""
    reason = f"cancelled by {msg.msh.comp(3) or 'the sender'} (MDM^T11)"
    change_document_status(
        actor=actor,
        document=document,
        status=DocumentStatus.ENTERED_IN_ERROR,
        reason=f"{reason}: {why}" if why else reason,
    )


def _new_version(
    actor: Actor,
    msg: Message,
    event: str,
    txa: Segment,
    document: Document,
    content: Content | None,
    source: str,
) -> None:
    """T08 edit and T10 replacement: a correction; T06: an addendum. The addendum's or
    replacement's own number then finds the same document."""
    assert content is not None
    if current_version(document).sha256 == _digest(content):
        return  # the same content again (a resend under a new control id)
    kind = VersionKind.ADDENDUM if event == "T06" else VersionKind.CORRECTION
    what = {"T06": "addendum", "T08": "edit", "T10": "replacement"}[event]
    number = txa.comp(12)
    add_version(
        actor=actor,
        document=document,
        kind=kind,
        data=content.data,
        filename=_filename(number, content),
        media_type=content.media_type,
        reason=f"{what} {number} from {msg.msh.comp(3) or 'the sender'} (MDM^{event})",
    )
    if _known(source, number) is None:
        _remember(source, number, document, _digest(content), "")
