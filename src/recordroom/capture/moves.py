"""Misfiles: a filed document moved to the right patient with a reason (`capture.move`),
its history kept (DocumentMove), and the move waiting for the privacy officer, who sees
who opened the document while it sat in the wrong chart (`capture.move_review`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from recordroom.accounts import permissions
from recordroom.audit.models import AuditEvent, Outcome
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from recordroom.mpi.models import Patient
from recordroom.mpi.services import in_scope
from recordroom.records.models import Document, DocumentStatus, Encounter

from .models import CaptureDocument, DocumentMove

# What counts as having seen a document: its page, its file shown, downloaded,
# printed, or sent out by FHIR.
SEEN = (
    actions.DOCUMENT_VIEW.name,
    actions.DOCUMENT_DOWNLOAD.name,
    actions.DOCUMENT_PRINT.name,
    actions.CHART_OPEN.name,
)


def move_document(
    *,
    actor: Actor,
    document: Document,
    to_patient: Patient,
    reason: str,
    to_encounter: Encounter | None = None,
) -> DocumentMove:
    """Move a filed document to the patient it belongs to. The document keeps its
    versions; its patient and visit change; the first chart keeps a note that a
    document was moved out (without its content), and the move waits for privacy
    review."""
    if actor.user is not None:
        permissions.require(actor.user, "move_documents")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "give the reason for the move (what showed it was misfiled)", field="reason"
        )
    if len(reason) > 500:
        raise ValidationFailed(
            f"the reason is {len(reason)} characters; keep it under 500", field="reason"
        )
    with transaction.atomic():
        doc = Document.objects.select_for_update().get(pk=document.pk)
        from_patient = Patient.objects.get(pk=doc.patient_id)
        if actor.user is not None:
            for who in (from_patient, to_patient):
                if not in_scope(actor.user, who):
                    raise PermissionDenied(
                        f"patient {who.pk} has no record at your facilities",
                        field="to_patient",
                    )
        if to_patient.pk == doc.patient_id:
            raise ValidationFailed(
                "the document is already in this patient's chart", field="to_patient"
            )
        if to_patient.merged_into_id:
            raise ValidationFailed(
                "that record was merged into another: move the document to the "
                "surviving record",
                field="to_patient",
            )
        if doc.status == DocumentStatus.ENTERED_IN_ERROR:
            raise Conflict("a document entered in error is not moved")
        if to_encounter is not None:
            if to_encounter.patient_id != to_patient.pk:
                raise ValidationFailed(
                    f"visit {to_encounter.account_number} is not that patient's",
                    field="to_encounter",
                )
            if to_encounter.facility_id != doc.facility_id:
                raise ValidationFailed(
                    f"visit {to_encounter.account_number} is at another facility "
                    "than the document",
                    field="to_encounter",
                )
        now = timezone.now()
        move = DocumentMove.objects.create(
            document=doc,
            from_patient=from_patient,
            to_patient=to_patient,
            from_encounter_id=doc.encounter_id,
            to_encounter=to_encounter,
            reason=reason,
            moved_by=actor.username,
            moved_at=now,
        )
        doc.patient = to_patient
        doc.encounter = to_encounter
        doc.save(update_fields=["patient", "encounter", "updated_at"])
        CaptureDocument.objects.filter(filed=doc).update(
            patient=to_patient, encounter=to_encounter
        )
        for who, direction in ((from_patient, "out"), (to_patient, "in")):
            record(
                actor=actor,
                action=actions.CAPTURE_MOVE.name,
                patient=who,
                obj=doc,
                detail={
                    "move": str(move.pk),
                    "direction": direction,
                    "from": str(from_patient.pk),
                    "to": str(to_patient.pk),
                    "reason": reason,
                },
            )
    return move


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str
    action: str
    at: datetime
    channel: str


def prior_viewers(move: DocumentMove) -> list[Viewer]:
    """Who opened the document while it sat in the wrong chart (from its filing, or
    its previous move in, until this move), from the audit trail."""
    doc = move.document
    since = (
        DocumentMove.objects.filter(
            document=doc, to_patient=move.from_patient, moved_at__lt=move.moved_at
        )
        .order_by("-moved_at")
        .values_list("moved_at", flat=True)
        .first()
    ) or doc.created_at
    objects = [
        str(doc.pk),
        *(str(v) for v in doc.versions.values_list("pk", flat=True)),
    ]
    events = AuditEvent.objects.filter(
        patient_id=str(move.from_patient_id),
        action__in=SEEN,
        outcome=Outcome.SUCCESS,
        object_id__in=objects,
        ts__gte=int(since.timestamp() * 1_000_000),
        ts__lte=int(move.moved_at.timestamp() * 1_000_000),
    ).order_by("id")
    return [
        Viewer(e.username or "(system)", e.role, e.action, e.at, e.channel)
        for e in events
    ]


def _require_review(actor: Actor) -> None:
    if actor.user is not None:
        permissions.require(actor.user, "review_misfiles")


def misfile_reviews(*, actor: Actor, pending: bool = True) -> QuerySet[DocumentMove]:
    """Moves for the privacy officer: waiting for review (or reviewed), oldest
    waiting first; within the officer's facilities (the document's facility)."""
    _require_review(actor)
    qs = DocumentMove.objects.select_related(
        "document", "document__doc_type", "document__facility",
        "from_patient", "to_patient",
    ).filter(privacy_reviewed_at__isnull=pending)  # fmt: skip
    scope = actor.user.facility_ids() if actor.user is not None else None
    if scope is not None:
        qs = qs.filter(document__facility_id__in=scope)
    return qs.order_by("moved_at" if pending else "-privacy_reviewed_at")


def get_move(*, actor: Actor, move_id: Any) -> DocumentMove:
    """A move at the reviewer's facilities (NotFound otherwise)."""
    _require_review(actor)
    qs = DocumentMove.objects.select_related(
        "document", "document__doc_type", "document__facility",
        "from_patient", "to_patient",
    )  # fmt: skip
    scope = actor.user.facility_ids() if actor.user is not None else None
    if scope is not None:
        qs = qs.filter(document__facility_id__in=scope)
    try:
        return qs.get(pk=move_id)
    except (DocumentMove.DoesNotExist, ValueError, TypeError, DjangoValidationError):
        raise NotFound(f"no misfile move '{move_id}' at your facilities") from None


def review_move(*, actor: Actor, move: DocumentMove, note: str) -> DocumentMove:
    """Close a misfile's privacy review with what was found and done (e.g. "viewed
    by the attending only, for care; no notification needed")."""
    _require_review(actor)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(
            "say what the review found and what was done", field="note"
        )
    with transaction.atomic():
        row = DocumentMove.objects.select_for_update().get(pk=move.pk)
        if row.privacy_reviewed_at is not None:
            raise Conflict(
                f"this move was already reviewed by {row.privacy_reviewed_by}"
            )
        viewers = prior_viewers(row)
        row.privacy_reviewed_by = actor.username
        row.privacy_reviewed_at = timezone.now()
        row.privacy_note = note[:500]
        row.save(update_fields=["privacy_reviewed_by", "privacy_reviewed_at",
                                "privacy_note"])  # fmt: skip
        record(
            actor=actor,
            action=actions.CAPTURE_MOVE_REVIEW.name,
            patient=row.from_patient_id,
            obj=row,
            detail={"document": str(row.document_id), "note": row.privacy_note,
                    "viewers": sorted({v.username for v in viewers})},
        )  # fmt: skip
    return row


def moved_out(patient: Patient, user: Any) -> list[DocumentMove]:
    """The moves out of a chart, for its page: that a document left, when, and its
    type (never its content nor where it went)."""
    qs = DocumentMove.objects.filter(from_patient=patient).select_related(
        "document__doc_type", "document__facility"
    )
    scope = user.facility_ids() if user is not None else None
    if scope is not None:
        qs = qs.filter(Q(document__facility_id__in=scope))
    return list(qs.order_by("-moved_at")[:50])
