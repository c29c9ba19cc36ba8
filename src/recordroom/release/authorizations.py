"""Authorizations and consents as received: recorded element by element, corrected,
revoked in writing (R-AUTH-8), and checked (R-AUTH-5); with the checks of a
request's legal basis and of sensitive records, which are re-exported here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.kernel.labels import check_labels
from recordroom.mpi.models import Patient
from recordroom.mpi.services import in_scope
from recordroom.mpi.zones import patient_facility
from recordroom.records.bombs import refuse_bombs
from recordroom.records.files import sniff

from .elements import (
    CHECKLISTS,
    COMPOUND_KINDS,
    CONDITIONING_EXCEPTIONS,
    Defect,
    Element,
    auth_zone,
    check_authorization,
    checklist,
    normalize_elements,
)
from .gates import gate_for, purpose_of, sensitive_gate
from .legal import (
    LEGAL_DETAIL_KEYS,
    PART2_NOTICE,
    BasisCheck,
    Gate,
    check_basis,
    part2_notice_needed,
    valid_authorizations,
)
from .models import Authorization, AuthorizationKind, ReleaseRequest

__all__ = [
    "CHECKLISTS", "COMPOUND_KINDS", "CONDITIONING_EXCEPTIONS", "LEGAL_DETAIL_KEYS",
    "PART2_NOTICE", "BasisCheck", "Defect", "Element", "Gate", "check_authorization",
    "check_basis", "checklist", "gate_for", "part2_notice_needed", "purpose_of",
    "record_authorization", "revoke", "sensitive_gate", "update_authorization",
    "valid_authorizations",
]  # fmt: skip

# Fields a specialist may correct after recording (update_authorization).
EDITABLE = (
    "recipient", "purpose", "description", "signed_on", "signed_by",
    "representative_signed", "tpo", "expires_on", "expiration_event",
    "expiration_event_occurred", "covers", "compound_with", "conditions_treatment",
    "conditioning_exception", "known_false",
)  # fmt: skip


def _clean(kind: str, values: dict[str, Any], zone: Any) -> dict[str, Any]:
    """Check and normalize field values; the first problem is raised by name. A
    signing date is checked against today in `zone` (the facility's)."""
    out = dict(values)
    for key in ("recipient", "purpose", "signed_by", "expiration_event"):
        if key in out:
            out[key] = str(out[key] or "").strip()[:300]
    if "description" in out:
        out["description"] = str(out["description"] or "").strip()[:500]
    if "covers" in out:
        out["covers"] = check_labels(list(out["covers"] or []))
    if out.get("compound_with"):
        code = str(out["compound_with"]).split(":", 1)[0].strip()
        if code not in COMPOUND_KINDS:
            raise ValidationFailed(
                f"unknown combination {code!r}: say what the form is combined with "
                f"as one of {', '.join(COMPOUND_KINDS)} (optionally 'code: note')",
                field="compound_with")  # fmt: skip
        out["compound_with"] = str(out["compound_with"]).strip()[:300]
    exception = out.get("conditioning_exception") or ""
    if exception and exception not in CONDITIONING_EXCEPTIONS:
        raise ValidationFailed(
            f"unknown conditioning exception {exception!r}; use one of "
            f"{', '.join(CONDITIONING_EXCEPTIONS)}", field="conditioning_exception")  # fmt: skip
    if out.get("tpo") and kind != AuthorizationKind.PART2:
        raise ValidationFailed("only a Part 2 consent can be a single consent for "
                               "treatment, payment and operations (R-P2-3)",
                               field="tpo")  # fmt: skip
    today = clock.today(zone)
    signed = out.get("signed_on")
    if signed and signed > today:
        raise ValidationFailed(f"signed date {signed} is in the future",
                               field="signed_on")  # fmt: skip
    return out


def record_authorization(
    *,
    actor: Actor,
    patient: Patient,
    request: ReleaseRequest | None = None,
    kind: str,
    elements: dict[str, Any],
    recipient: str = "",
    purpose: str = "",
    description: str = "",
    signed_on: date | None = None,
    signed_by: str = "",
    representative_signed: bool = False,
    tpo: bool = False,
    expires_on: date | None = None,
    expiration_event: str = "",
    expiration_event_occurred: bool = False,
    covers: list[str] | tuple[str, ...] = (),
    compound_with: str = "",
    conditions_treatment: bool = False,
    conditioning_exception: str = "",
    known_false: bool = False,
    scan: bytes | None = None,
) -> Authorization:
    """Record a signed authorization, consent or directive as received, with each
    element of its kind's checklist marked present or missing.

    `elements` maps checklist codes (elements.CHECKLISTS) to True/False or to
    {"present": bool, "note": str}; a code not listed is missing. `scan` (the
    signed form) is kept encrypted in the blob store (R-AUTH-9 retention).

    Raises:
        ValidationFailed: an unknown kind, element code, label, combination or
            exception; a request of another patient; a future signing date.
        PermissionDenied: the patient has no record at the actor's facilities.
    """
    if kind not in AuthorizationKind.values:
        raise ValidationFailed(f"unknown authorization kind {kind!r}; use one of "
                               f"{', '.join(AuthorizationKind.values)}", field="kind")  # fmt: skip
    if not in_scope(actor.user, patient):
        raise PermissionDenied(f"patient {patient.pk} has no record at your facilities",
                               patient_id=patient.pk)  # fmt: skip
    if request is not None and request.patient_id != patient.pk:
        raise ValidationFailed(f"request {request.number} is for another patient",
                               field="request")  # fmt: skip
    fields = _clean(kind, dict(
        recipient=recipient, purpose=purpose, description=description,
        signed_on=signed_on, signed_by=signed_by,
        representative_signed=representative_signed, tpo=tpo, expires_on=expires_on,
        expiration_event=expiration_event,
        expiration_event_occurred=expiration_event_occurred, covers=covers,
        compound_with=compound_with, conditions_treatment=conditions_treatment,
        conditioning_exception=conditioning_exception, known_false=known_false),
        request or patient_facility(patient, actor.user))  # fmt: skip
    stored = normalize_elements(kind, elements)
    if scan:
        refuse_bombs(scan, name="the signed form (scan)", media_type=sniff(scan) or "")
    scan_sha = default_store().put(scan).sha256 if scan else ""
    with transaction.atomic():
        auth = Authorization.objects.create(
            patient=patient, request=request, kind=kind, elements=stored,
            scan_sha256=scan_sha, recorded_at=timezone.now(),
            recorded_by=actor.username, **fields)  # fmt: skip
        _audit(actor, auth, {"recorded": kind})
    return auth


def update_authorization(
    *, actor: Actor, auth: Authorization, elements: dict[str, Any] | None = None,
    **changes: Any,
) -> Authorization:  # fmt: skip
    """Correct what was recorded: mark elements present or missing (merged over
    what is there) and change fields (EDITABLE). A revocation stays.

    Raises:
        ValidationFailed: an unknown field or element code, or a bad value.
    """
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(f"cannot change {', '.join(unknown)}; editable: "
                               f"{', '.join(EDITABLE)}", field=unknown[0])  # fmt: skip
    merged = {k: getattr(auth, k) for k in EDITABLE} | changes
    fields = _clean(auth.kind, merged, auth_zone(auth))
    before = {k: getattr(auth, k) for k in changes}
    with transaction.atomic():
        if elements:
            auth.elements = normalize_elements(auth.kind, elements, auth.elements)
        for key in changes:
            setattr(auth, key, fields[key])
        auth.save()
        _audit(actor, auth, {
            "changed": sorted(changes), "elements": sorted(elements or {}),
            "before": {k: str(v) for k, v in before.items()}})  # fmt: skip
    return auth


def revoke(
    *, actor: Actor, auth: Authorization, at: datetime, note: str
) -> Authorization:
    """Record the patient's written revocation (R-AUTH-8): nothing is released
    under the form after `at`; what was released before stands.

    Raises:
        ValidationFailed: no note of the written revocation, a time in the future,
            or a form already revoked.
    """
    if not note.strip():
        raise ValidationFailed("a revocation is in writing: say how it was received "
                               "(letter dated ..., form ...)", field="note")  # fmt: skip
    if at > clock.now():
        raise ValidationFailed(f"revocation time {at:%Y-%m-%d %H:%M} is in the future",
                               field="at")  # fmt: skip
    if auth.revoked_at:
        raise ValidationFailed(f"already revoked on {clock.short_date(auth.revoked_at, auth_zone(auth))}",
                               field="at")  # fmt: skip
    with transaction.atomic():
        auth.revoked_at, auth.revocation_note = at, note.strip()[:500]
        auth.save(update_fields=["revoked_at", "revocation_note", "updated_at"])
        _audit(
            actor, auth, {"revoked_at": at.isoformat(), "note": auth.revocation_note}
        )
    return auth


def _audit(actor: Actor, auth: Authorization, detail: dict[str, Any]) -> None:
    """release.authorization, with the defects as of today (by rule)."""
    defects = check_authorization(auth, on=clock.today(auth_zone(auth)))
    record(actor=actor, action=actions.RELEASE_AUTHORIZATION.name,
           patient=auth.patient_id, obj=auth,
           detail={**detail, "kind": auth.kind,
                   "request": str(auth.request_id or ""),
                   "defects": [f"{d.rule} {d.element}" for d in defects]})  # fmt: skip
