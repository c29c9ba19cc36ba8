"""Overlays: charts that hold two people. Detectors (a Protocol and a registry; the
built-ins register like any app's) find the signs; a scan files them on the
overlay worklist; a split moves chosen rows to another patient, new or existing,
and can be undone exactly."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.audit.services import EventSpec, record, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import Conflict, PermissionDenied, ValidationFailed

from .models import (
    IdentifierKind,
    OverlayFlag,
    OverlayStatus,
    Patient,
    PatientIdentifier,
    PatientSplit,
)
from .relations import relations
from .services import PatientIn, in_scope, register_patient


@dataclass(frozen=True)
class Signal:
    patient_id: Any
    kind: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)


class Detector(Protocol):
    kind: str

    def detect(self, patient_ids: list[Any] | None) -> Iterable[Signal]: ...


_DETECTORS: dict[str, Detector] = {}


def register_detector(detector: Detector) -> None:
    _DETECTORS[detector.kind] = detector


def detectors() -> list[Detector]:
    return list(_DETECTORS.values())


class TwoSsns:
    """Two different current SSNs on one chart."""

    kind = "two-ssns"

    def detect(self, patient_ids: list[Any] | None) -> Iterable[Signal]:
        rows = PatientIdentifier.objects.filter(
            kind=IdentifierKind.SSN, period_end__isnull=True
        )
        if patient_ids is not None:
            rows = rows.filter(patient_id__in=patient_ids)
        doubled = (rows.values("patient_id").annotate(n=Count("lookup", distinct=True))
                   .filter(n__gt=1))  # fmt: skip
        for row in doubled:
            last4 = sorted(rows.filter(patient_id=row["patient_id"])
                           .values_list("last4", flat=True))  # fmt: skip
            yield Signal(row["patient_id"], self.kind,
                         f"{row['n']} different SSNs (…{', …'.join(last4)})",
                         {"last4": last4})  # fmt: skip


class IdentityRewrite:
    """An update that rewrote who the patient is: the birth date moved by more than
    a year, the sex changed between male and female, or both the family and the
    given name changed at once (as when a registrar overwrites one person's chart
    with another's details). Read from the audit trail."""

    kind = "identity-rewrite"

    def detect(self, patient_ids: list[Any] | None) -> Iterable[Signal]:
        events = AuditEvent.objects.filter(action=actions.PATIENT_UPDATE.name)
        if patient_ids is not None:
            events = events.filter(patient_id__in=[str(p) for p in patient_ids])
        found: dict[str, list[str]] = {}
        for event in events.only("patient_id", "detail", "id").iterator():
            reason = _rewrite(json.loads(event.detail or "{}"))
            if reason:
                found.setdefault(event.patient_id, []).append(
                    f"event {event.id}: {reason}"
                )
        for pid, reasons in found.items():
            yield Signal(
                UUID(pid), self.kind, "; ".join(reasons)[:500], {"events": reasons}
            )


def _rewrite(detail: dict[str, Any]) -> str:
    before, after = detail.get("before") or {}, detail.get("after") or {}
    if before.get("birth_date") and after.get("birth_date"):
        days = abs((date.fromisoformat(str(after["birth_date"]))
                    - date.fromisoformat(str(before["birth_date"]))).days)  # fmt: skip
        if days > 365:
            return f"birth date {before['birth_date']} -> {after['birth_date']}"
    if {before.get("sex"), after.get("sex")} == {"male", "female"}:
        return f"sex {before['sex']} -> {after['sex']}"
    if detail.get("change") == "legal name":
        old = " ".join(detail.get("previous") or [])
        new = str(detail.get("new") or "")
        old_parts, new_parts = set(old.lower().split()), set(new.lower().split())
        if old and new and not old_parts & new_parts:
            return f"name {old} -> {new}"
    return ""


register_detector(TwoSsns())
register_detector(IdentityRewrite())


def scan_overlays(*, actor: Actor, patient_ids: list[Any] | None = None) -> int:
    """Run every detector; file each new sign on the worklist (one open flag per
    chart and kind). Returns how many flags were added."""
    added = 0
    for detector in detectors():
        for signal in detector.detect(patient_ids):
            if OverlayFlag.objects.filter(
                patient_id=signal.patient_id, kind=signal.kind, summary=signal.summary[:500],
                status=OverlayStatus.DISMISSED,
            ).exists():  # fmt: skip
                continue  # judged not an overlay on this same evidence
            try:
                with transaction.atomic():
                    OverlayFlag.objects.create(
                        patient_id=signal.patient_id, kind=signal.kind,
                        summary=signal.summary[:500], evidence=signal.evidence)  # fmt: skip
                    added += 1
            except IntegrityError:
                continue  # already on the worklist
    record(actor=actor, action=actions.MPI_OVERLAY_SCAN.name,
           detail={"added": added, "detectors": [d.kind for d in detectors()]})  # fmt: skip
    return added


def dismiss_flag(*, actor: Actor, flag: OverlayFlag, note: str) -> None:
    """Not an overlay: closed with why. A later scan does not raise the same
    evidence again; new evidence raises a new flag."""
    if not note.strip():
        raise ValidationFailed("say why this is not an overlay", field="note")
    with transaction.atomic():
        OverlayFlag.objects.filter(pk=flag.pk, status=OverlayStatus.OPEN).update(
            status=OverlayStatus.DISMISSED, resolved_at=timezone.now(),
            resolved_by=actor.username, note=note[:500])  # fmt: skip
        record(actor=actor, action=actions.MPI_OVERLAY_RESOLVE.name, patient=flag.patient_id,
               obj=flag, detail={"status": "dismissed", "note": note})  # fmt: skip


def split_patient(
    *,
    actor: Actor,
    source: Patient,
    move: dict[str, list[Any]],
    reason: str,
    target: Patient | None = None,
    new_patient: PatientIn | None = None,
    flag: OverlayFlag | None = None,
) -> PatientSplit:
    """Move the chosen rows (`move`: model label -> ids, e.g. "records.encounter")
    of `source` to `target`, or to a patient registered from `new_patient`. Rows
    that follow a moved row (a visit's documents, diagnoses, procedures) go with it.

    Raises:
        ValidationFailed: no reason, nothing chosen, both or neither target given,
            or a chosen row that is not the source's.
        PermissionDenied: a patient outside the actor's facilities.
    """
    if not reason.strip():
        raise ValidationFailed("say why these belong to another person", field="reason")
    if (target is None) == (new_patient is None):
        raise ValidationFailed("choose an existing patient or register a new one",
                               field="target")  # fmt: skip
    by_label = {r.label: r for r in relations()}
    unknown = set(move) - set(by_label)
    if unknown or not any(move.values()):
        raise ValidationFailed(f"choose encounters or documents to move (unknown: "
                               f"{', '.join(sorted(unknown)) or 'none'})", field="move")  # fmt: skip
    for p in (source, target):
        if p is not None and not in_scope(actor.user, p):
            raise PermissionDenied(f"patient {p.pk} has no record at your facilities",
                                   patient_id=p.pk)  # fmt: skip
    with transaction.atomic():
        created = target is None
        if target is None:
            assert new_patient is not None
            target = register_patient(actor=actor, data=new_patient)
        moved = _move_rows(source, target, move, by_label)
        split = PatientSplit.objects.create(
            source=source, target=target, target_created=created, flag=flag,
            split_at=timezone.now(), split_by=actor.username, reason=reason[:500],
            moved=moved)  # fmt: skip
        if flag is not None:
            OverlayFlag.objects.filter(pk=flag.pk).update(
                status=OverlayStatus.SPLIT, resolved_at=timezone.now(),
                resolved_by=actor.username, note=reason[:500])  # fmt: skip
        detail = {"split": str(split.pk), "source": str(source.pk),
                  "target": str(target.pk), "new_patient": created, "reason": reason,
                  "moved": {k: len(v) for k, v in moved.items()}}  # fmt: skip
        record_many([EventSpec(actor, actions.PATIENT_SPLIT.name, p, obj=split,
                               detail=detail) for p in (source, target)])  # fmt: skip
    return split


def _move_rows(source: Patient, target: Patient, move: dict[str, list[Any]],
               by_label: dict[str, Any]) -> dict[str, list[str]]:  # fmt: skip
    moved: dict[str, list[str]] = {}
    for label, ids in move.items():
        rel = by_label[label]
        rows = rel.model._default_manager.filter(pk__in=ids, **{rel.field: source})
        found = [str(pk) for pk in rows.values_list("pk", flat=True)]
        if len(found) != len(set(map(str, ids))):
            raise ValidationFailed(f"some chosen {label} rows are not this patient's",
                                   field="move")  # fmt: skip
        moved[label] = found
    for rel in relations():  # followers of what moved
        if rel.follows and moved.get(rel.follows[1]):
            fk, parent = rel.follows
            rows = rel.model._default_manager.filter(
                **{f"{fk}_id__in": moved[parent], rel.field: source}
            )
            extra = [str(pk) for pk in rows.values_list("pk", flat=True)]
            moved[rel.label] = sorted(set(moved.get(rel.label, [])) | set(extra))
    for label, ids in moved.items():
        rel = by_label[label]
        rel.model._default_manager.filter(pk__in=ids).update(**{rel.field: target})
    return moved


def undo_split(*, actor: Actor, split: PatientSplit, reason: str) -> None:
    """Put every moved row back on the source chart (a patient registered by the
    split stays, empty, as a record that existed)."""
    if not reason.strip():
        raise ValidationFailed("say why the split is undone", field="reason")
    with transaction.atomic():
        split = PatientSplit.objects.select_for_update().get(pk=split.pk)
        if split.undone_at:
            raise Conflict(f"split {split.pk} was already undone")
        by_label = {r.label: r for r in relations()}
        for label, ids in split.moved.items():
            rel = by_label[label]
            rel.model._default_manager.filter(pk__in=ids).update(
                **{rel.field: split.source_id}
            )
        PatientSplit.objects.filter(pk=split.pk).update(
            undone_at=timezone.now(), undone_by=actor.username, undo_reason=reason[:500]
        )
        if split.flag_id:
            OverlayFlag.objects.filter(pk=split.flag_id).update(
                status=OverlayStatus.OPEN
            )
        record_many([EventSpec(actor, actions.PATIENT_SPLIT_UNDO.name, pid, obj=split,
                               detail={"split": str(split.pk), "reason": reason})
                     for pid in (split.source_id, split.target_id)])  # fmt: skip
