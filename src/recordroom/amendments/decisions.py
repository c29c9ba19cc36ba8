"""Deciding an amendment request: accept (the amendment appended to each entry as a
new version, the patient told, the people named sent it, R-AMD-4), deny with a
ground (R-AMD-3) and the letter (R-AMD-5), or both; then the statement of
disagreement, our rebuttal and the patient's wish to have the request and denial
sent with later disclosures (R-AMD-6); and an amendment from another covered entity
applied (R-AMD-7)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader, PdfWriter

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import Conflict, ValidationFailed
from recordroom.kernel.letterpdf import render
from recordroom.mpi.models import Facility, Patient
from recordroom.records import services as records
from recordroom.records.models import DocumentVersion, VersionKind

from . import letters
from .models import (
    AmendmentEntry,
    AmendmentLetter,
    AmendmentRequest,
    EntryOutcome,
    Ground,
    LetterKind,
    ReceivedHow,
    Status,
)
from .services import _letter, _open, _signer, log_request


def decide(*, actor: Actor, req: AmendmentRequest, accept: Sequence[Any] = (),
           deny: Sequence[Any] = (), amendment_text: str = "", ground: str = "",
           basis: str = "", originator_available: bool = True,
           tell_patient: bool = True) -> list[AmendmentLetter]:  # fmt: skip
    """Accept the entries in `accept`, deny those in `deny` (every entry in exactly
    one). Returns the letters written (to the patient, then one per person named).

    Raises:
        ValidationFailed: an entry in neither list or both, no amendment text for an
            acceptance, no ground or basis for a denial, or the ground "not created by
            us" when its originator can no longer act (R-AMD-3 (i)).
        Conflict: the request is already decided.
    """
    _open(req, "decided")
    entries = {str(e.document_id): e for e in req.entries.select_related(
        "document__doc_type", "document__facility", "version")}  # fmt: skip
    yes, no = {str(d) for d in accept}, {str(d) for d in deny}
    if yes & no or (yes | no) != set(entries):
        raise ValidationFailed("decide every entry of the request once: accept or "
                               "deny each", field="accept")  # fmt: skip
    if yes and not amendment_text.strip():
        raise ValidationFailed("write the amendment to append to the accepted entries",
                               field="amendment_text")  # fmt: skip
    if no:
        _check_ground(ground, basis, originator_available)
    status = Status.PARTIAL if yes and no else Status.ACCEPTED if yes else Status.DENIED
    req.amendment_text = amendment_text.strip() if yes else ""
    page = render(letters.amendment_page(req, _signer(actor))) if yes else b""
    with transaction.atomic():  # the new versions (document.version) commit with it
        amended = {d: _append(actor, req, entries[d], page) for d in sorted(yes)}
        for doc_id, entry in entries.items():
            entry.outcome = (
                EntryOutcome.ACCEPTED if doc_id in yes else EntryOutcome.DENIED
            )
            entry.amended_version = amended.get(doc_id)
            entry.save(update_fields=["outcome", "amended_version"])
        req.status, req.decided_at, req.decided_by = (
            status,
            timezone.now(),
            actor.username,
        )
        req.ground, req.basis = (ground, basis.strip()) if no else ("", "")
        req.save(update_fields=["status", "decided_at", "decided_by", "ground", "basis",
                                "amendment_text", "updated_at"])  # fmt: skip
        record(actor=actor, action=actions.AMENDMENT_DECIDE.name, patient=req.patient,
               obj=req, detail={"status": status, "accepted": sorted(yes),
                                "denied": sorted(no), "ground": req.ground,
                                "versions": [str(v.pk) for v in amended.values()]})  # fmt: skip
        return _decision_letters(actor, req, bool(yes), bool(no), tell_patient)


def _check_ground(ground: str, basis: str, originator_available: bool) -> None:
    if ground not in Ground.values:
        raise ValidationFailed(f"choose the ground of the denial: one of "
                               f"{', '.join(Ground.values)}", field="ground")  # fmt: skip
    if ground == Ground.NOT_CREATED_HERE and not originator_available:
        raise ValidationFailed(
            "information we did not create may be denied on that ground only while "
            "its originator can still act on the request; as it cannot, review the "
            "request on its merits", field="ground")  # fmt: skip
    if not basis.strip():
        raise ValidationFailed("explain the denial in plain words for the letter",
                               field="basis")  # fmt: skip


def _append(actor: Actor, req: AmendmentRequest, entry: AmendmentEntry,
            page: bytes) -> DocumentVersion:  # fmt: skip
    """The amendment appended to the entry (R-AMD-4 (1)): the current version's
    pages followed by the amendment page, as a new addendum version linked to it."""
    current = records.current_version(entry.document)
    data = page
    if current.media_type == "application/pdf":
        writer = PdfWriter()
        writer.append(PdfReader(io.BytesIO(default_store().get(current.sha256))))
        writer.append(PdfReader(io.BytesIO(page)))
        out = io.BytesIO()
        writer.write(out)
        data = out.getvalue()
    return records.add_version(
        actor=actor, document=entry.document, kind=VersionKind.ADDENDUM, data=data,
        filename=f"amendment-{req.number}.pdf", media_type="application/pdf",
        reason=f"amendment {req.number}"
        + (f" from {req.source_entity}" if req.source_entity else
           " at the patient's request"))  # fmt: skip


def _decision_letters(actor: Actor, req: AmendmentRequest, accepted: bool,
                      denied: bool, tell_patient: bool) -> list[AmendmentLetter]:  # fmt: skip
    who = _signer(actor)
    out = []
    if tell_patient:
        if denied:
            kind = LetterKind.PARTIAL if accepted else LetterKind.DENIAL
            out.append(_letter(actor, req, kind, letters.denial(req, who),
                               req.requested_by))  # fmt: skip
        else:
            out.append(_letter(actor, req, LetterKind.ACCEPTANCE,
                               letters.acceptance(req, who), req.requested_by))  # fmt: skip
    if accepted:
        for person in req.notify:
            out.append(_letter(actor, req, LetterKind.NOTICE,
                               letters.notice(req, person, who), person["name"]))  # fmt: skip
    return out


def _disputed(req: AmendmentRequest, step: str) -> None:
    if req.status not in (Status.DENIED, Status.PARTIAL):
        raise Conflict(f"request {req.number} is {req.get_status_display().lower()}: "
                       f"{step} follows a denial")  # fmt: skip


def file_disagreement(*, actor: Actor, req: AmendmentRequest, text: str,
                      received_on: date | None = None) -> AmendmentRequest:  # fmt: skip
    """Link the patient's statement of disagreement to the record (R-AMD-6 (d)(1),
    (d)(4)); from now on it goes with every disclosure of the disputed entries."""
    _disputed(req, "a statement of disagreement")
    if req.disagreement:
        raise Conflict(f"request {req.number} already has a statement of disagreement")
    text = text.strip()
    if not text:
        raise ValidationFailed("enter the statement as the patient wrote it",
                               field="text")  # fmt: skip
    if len(text) > letters.DISAGREEMENT_MAX_CHARS:
        raise ValidationFailed(
            f"the statement is {len(text):,} characters; the limit the denial letter "
            f"gave is {letters.DISAGREEMENT_MAX_CHARS:,}: ask the patient to shorten it",
            field="text")  # fmt: skip
    on = received_on or clock.today(req.facility)
    with transaction.atomic():
        req.disagreement, req.disagreement_on = text, on
        req.save(update_fields=["disagreement", "disagreement_on", "updated_at"])
        record(actor=actor, action=actions.AMENDMENT_STATEMENT.name,
               patient=req.patient, obj=req,
               detail={"statement": "disagreement", "received_on": str(on),
                       "characters": len(text)})  # fmt: skip
    return req


def write_rebuttal(*, actor: Actor, req: AmendmentRequest,
                   text: str) -> AmendmentLetter:  # fmt: skip
    """Our rebuttal, linked to the record, and its copy to the patient (R-AMD-6 (d)(3))."""
    _disputed(req, "a rebuttal")
    if not req.disagreement:
        raise Conflict(f"request {req.number} has no statement of disagreement to "
                       "rebut")  # fmt: skip
    if req.rebuttal:
        raise Conflict(f"request {req.number} already has a rebuttal")
    if not text.strip():
        raise ValidationFailed("write the rebuttal", field="text")
    with transaction.atomic():
        req.rebuttal, req.rebuttal_at = text.strip(), timezone.now()
        req.save(update_fields=["rebuttal", "rebuttal_at", "updated_at"])
        record(actor=actor, action=actions.AMENDMENT_STATEMENT.name,
               patient=req.patient, obj=req, detail={"statement": "rebuttal"})  # fmt: skip
        return _letter(actor, req, LetterKind.REBUTTAL,
                       letters.rebuttal(req, _signer(actor)), req.requested_by)  # fmt: skip


def ask_to_include(*, actor: Actor, req: AmendmentRequest) -> AmendmentRequest:
    """No statement filed, but the patient asks that the request and the denial go
    with every later disclosure of the information (R-AMD-5 (iii), R-AMD-6 (d)(5))."""
    _disputed(req, "sending the request and denial with disclosures")
    with transaction.atomic():
        req.include_with_disclosures = True
        req.save(update_fields=["include_with_disclosures", "updated_at"])
        record(actor=actor, action=actions.AMENDMENT_STATEMENT.name,
               patient=req.patient, obj=req, detail={"statement": "include"})  # fmt: skip
    return req


def apply_external_amendment(*, actor: Actor, patient: Patient, facility: Facility,
                             source_entity: str, received_on: date,
                             document_ids: Sequence[Any], amendment_text: str,
                             notify: Sequence[dict[str, str]] = ()) -> AmendmentRequest:  # fmt: skip
    """Another covered entity told us of an amendment: apply it to the entries
    (R-AMD-7), kept as a request received from that entity and accepted at once."""
    req = log_request(
        actor=actor, patient=patient, facility=facility, received_on=received_on,
        received_how=ReceivedHow.OTHER_ENTITY, requested_by=source_entity,
        change=amendment_text, reason=f"amendment made by {source_entity}",
        document_ids=document_ids, notify=notify, source_entity=source_entity)  # fmt: skip
    decide(actor=actor, req=req, accept=document_ids, amendment_text=amendment_text,
           tell_patient=False)  # fmt: skip
    req.refresh_from_db()
    return req
