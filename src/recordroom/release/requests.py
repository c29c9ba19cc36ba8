"""Intake and workflow of release-of-information requests: logging a request with
its due date (R-ACC-2, or the rule configured for the state and requester type),
verifying the requester, the one extension, status changes, and the worklist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from recordroom.audit.models import Outcome
from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from recordroom.mpi.models import Facility, Patient
from recordroom.mpi.services import in_scope
from recordroom.records.models import DocumentType, Encounter

from .disclosures import ALIASES, LEGAL_BASES
from .models import (
    ACCESS_TYPES,
    OPEN_STATUSES,
    Channel,
    DeadlineRule,
    Delivery,
    Format,
    ReleaseRequest,
    RequesterType,
    Status,
)

# Who may move a request where by hand (release, denial and quality review have
# their own services, which check far more).
TRANSITIONS: dict[str, set[str]] = {
    Status.RECEIVED: {Status.PENDING, Status.IN_PROGRESS, Status.CANCELLED},
    Status.PENDING: {Status.IN_PROGRESS, Status.CANCELLED},
    Status.IN_PROGRESS: {Status.PENDING, Status.CANCELLED},
    Status.QUALITY_REVIEW: {Status.IN_PROGRESS, Status.CANCELLED},
    Status.READY: {Status.IN_PROGRESS, Status.CANCELLED},
    Status.RELEASED: set(),
    Status.DENIED: set(),
    Status.CANCELLED: set(),
}


@dataclass
class RequestIn:
    patient_id: Any
    facility_code: str
    requester_type: str
    requester_name: str
    received_on: date
    channel: str
    format: str
    delivery: str
    requester_organization: str = ""
    requester_address: str = ""
    requester_email: str = ""
    requester_phone: str = ""
    representative_authority: str = ""
    state: str = ""
    identity_verified: bool = False
    verification_method: str = ""
    purpose: str = ""
    entire_record: bool = False
    entire_record_reason: str = ""
    date_from: date | None = None
    date_to: date | None = None
    encounter_ids: list[Any] = field(default_factory=list)
    document_types: list[str] = field(default_factory=list)
    legal_basis: str = ""
    legal_detail: dict[str, Any] = field(default_factory=dict)


def deadline_rule(requester_type: str, state: str) -> DeadlineRule:
    """The most specific rule of the active profile (RECORDROOM_ROI_DEADLINE_PROFILE):
    state and type, then type, then state, then the default row."""
    profile = settings.ROI_DEADLINE_PROFILE
    state = state.strip().upper()
    rows = list(
        DeadlineRule.objects.filter(
            Q(profile=profile) | Q(profile="hipaa"),
            Q(state=state) | Q(state=""),
            Q(requester_type=requester_type) | Q(requester_type=""),
        )
    )
    rows.sort(key=lambda r: (r.profile != profile, not r.requester_type, not r.state))
    if not rows:
        raise NotFound(
            "no deadline rule applies; add a default row (blank state and requester "
            "type) under Release of information > Deadline rules in the admin"
        )
    return rows[0]


def _choice(value: str, choices: Any, what: str, field_name: str) -> str:
    if value not in choices.values:
        raise ValidationFailed(
            f"unknown {what} {value!r}; use one of {', '.join(choices.values)}",
            field=field_name,
        )
    return value


def _check(actor: Actor, data: RequestIn) -> tuple[Patient, Facility]:
    """Everything a request must have before it is logged; the first problem is
    raised by name."""
    try:
        patient = Patient.objects.get(pk=data.patient_id)
    except (Patient.DoesNotExist, ValueError, TypeError, DjangoValidationError):
        raise NotFound(
            f"no patient {data.patient_id!r}: find the patient with the search "
            "(name, birth date, MRN) before logging the request; a request for a "
            "patient who cannot be identified is not logged",
            field="patient_id",
        ) from None
    if patient.merged_into_id:
        raise ValidationFailed(
            f"patient {patient.pk} was merged into {patient.merged_into_id}; log the "
            "request on that record", field="patient_id")  # fmt: skip
    if not in_scope(actor.user, patient):
        raise PermissionDenied(f"patient {patient.pk} has no record at your facilities",
                               patient_id=patient.pk)  # fmt: skip
    facility = Facility.objects.filter(code=data.facility_code).first()
    if facility is None:
        raise ValidationFailed(f"unknown facility {data.facility_code!r}",
                               field="facility_code")  # fmt: skip
    scope = actor.user.facility_ids() if actor.user is not None else None
    if scope is not None and facility.pk not in scope:
        raise PermissionDenied(f"facility {facility.code} is outside your facilities",
                               field="facility_code")  # fmt: skip
    _choice(data.requester_type, RequesterType, "requester type", "requester_type")
    _choice(data.channel, Channel, "channel", "channel")
    _choice(data.format, Format, "format", "format")
    _choice(data.delivery, Delivery, "delivery", "delivery")
    if data.legal_basis:  # the codes are data in disclosures.py
        if ALIASES.get(data.legal_basis, data.legal_basis) not in LEGAL_BASES:
            raise ValidationFailed(
                f"unknown legal basis {data.legal_basis!r}; use one of "
                f"{', '.join(LEGAL_BASES)}", field="legal_basis")  # fmt: skip
    if not data.requester_name.strip():
        raise ValidationFailed("name the requester", field="requester_name")
    if data.received_on > clock.today(facility):
        raise ValidationFailed(f"received date {data.received_on} is in the future "
                               f"at {facility.code} (today there is "
                               f"{clock.today(facility)})",
                               field="received_on")  # fmt: skip
    if (
        data.requester_type == RequesterType.REPRESENTATIVE
        and not data.representative_authority.strip()
    ):
        raise ValidationFailed(
            "a personal representative's authority (guardian, power of attorney, "
            "executor) must be described (R-AUTH-2 element 6, R-DISC-7)",
            field="representative_authority",
        )
    if data.identity_verified and not data.verification_method.strip():
        raise ValidationFailed("say how the requester's identity was verified "
                               "(R-DISC-7)", field="verification_method")  # fmt: skip
    if data.date_from and data.date_to and data.date_to < data.date_from:
        raise ValidationFailed(
            f"the date range ends ({data.date_to}) before it starts ({data.date_from})",
            field="date_to")  # fmt: skip
    asked = (data.entire_record or data.date_from or data.date_to
             or data.encounter_ids or data.document_types)  # fmt: skip
    if not asked:
        raise ValidationFailed(
            "say what is asked for: a date range, encounters, document types, or the "
            "entire record", field="entire_record")  # fmt: skip
    if (
        data.entire_record
        and _minimum_necessary(data)
        and not (data.entire_record_reason.strip())
    ):
        raise ValidationFailed(
            "the entire record goes to a third party only when it is specifically "
            "justified: say why (R-MIN-6), or ask for a date range, encounters or "
            "document types", field="entire_record_reason")  # fmt: skip
    if data.document_types:
        known = set(DocumentType.objects.filter(code__in=data.document_types)
                    .values_list("code", flat=True))  # fmt: skip
        unknown = sorted(set(data.document_types) - known)
        if unknown:
            raise ValidationFailed(f"unknown document type code(s) {', '.join(unknown)}",
                                   field="document_types")  # fmt: skip
    if data.delivery == Delivery.DOWNLOAD and not data.requester_email.strip():
        raise ValidationFailed("a download link needs the requester's email address",
                               field="requester_email")  # fmt: skip
    if data.delivery == Delivery.MAIL and not data.requester_address.strip():
        raise ValidationFailed("mail needs the requester's address",
                               field="requester_address")  # fmt: skip
    return patient, facility


def _minimum_necessary(data: RequestIn) -> bool:
    """Minimum necessary applies: not the individual's own access, not treatment
    (R-MIN-2), not a disclosure required by law."""
    return data.requester_type not in (*ACCESS_TYPES, RequesterType.PROVIDER) and (
        data.legal_basis != "required-by-law"
    )


def _next_number(year: int) -> str:
    prefix = f"ROI-{year}-"
    last = (
        ReleaseRequest.objects.filter(number__startswith=prefix)
        .order_by("-number").values_list("number", flat=True).first()
    )  # fmt: skip
    n = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{n:06d}"


def log_request(*, actor: Actor, data: RequestIn) -> ReleaseRequest:
    """Log a request with its due date. A refused one is audited as an attempt
    (release.refused, naming the reason) and nothing is written.

    Raises:
        NotFound: the patient cannot be found (or no deadline rule applies).
        PermissionDenied: the patient or facility is outside the actor's scope.
        ValidationFailed: a field is missing or wrong; its name is given.
    """
    try:
        patient, facility = _check(actor, data)
        encounters = list(Encounter.objects.filter(pk__in=data.encounter_ids,
                                                   patient=patient))  # fmt: skip
        if len(encounters) != len(set(map(str, data.encounter_ids))):
            raise ValidationFailed("an encounter asked for is not this patient's",
                                   field="encounter_ids")  # fmt: skip
        rule = deadline_rule(data.requester_type, data.state)
    except (NotFound, PermissionDenied, ValidationFailed) as exc:
        refuse(actor, None, "log request", str(exc.message),
               patient=_patient_or_none(data.patient_id))  # fmt: skip
        raise
    now = timezone.now()
    for _ in range(5):  # two desks logging at once: take the next number
        try:
            with transaction.atomic():
                req = ReleaseRequest.objects.create(
                    number=_next_number(now.year), patient=patient, facility=facility,
                    requester_type=data.requester_type,
                    requester_name=data.requester_name.strip(),
                    requester_organization=data.requester_organization.strip(),
                    requester_address=data.requester_address.strip(),
                    requester_email=data.requester_email.strip(),
                    requester_phone=data.requester_phone.strip(),
                    representative_authority=data.representative_authority.strip(),
                    state=data.state.upper(), received_on=data.received_on,
                    channel=data.channel, identity_verified=data.identity_verified,
                    verification_method=data.verification_method.strip(),
                    verified_by=actor.username if data.identity_verified else "",
                    purpose=data.purpose.strip(), entire_record=data.entire_record,
                    entire_record_reason=data.entire_record_reason.strip()[:300],
                    date_from=data.date_from, date_to=data.date_to,
                    document_types=sorted(set(data.document_types)),
                    format=data.format, delivery=data.delivery,
                    legal_basis=data.legal_basis, legal_detail=data.legal_detail,
                    due_on=clock.add_days(data.received_on, rule.days),
                    deadline_rule=_rule_label(rule),
                    created_at=now, created_by=actor.username,
                )  # fmt: skip
                req.encounters.set(encounters)
                record(actor=actor, action=actions.RELEASE_REQUEST_CREATE.name,
                       patient=patient, obj=req,
                       detail={"number": req.number, "requester_type": req.requester_type,
                               "due_on": str(req.due_on), "rule": req.deadline_rule})  # fmt: skip
            return req
        except IntegrityError:
            continue
    raise ValidationFailed("could not number the request; try again", field="number")


def _rule_label(rule: DeadlineRule) -> str:
    ext = f" + {rule.extension_days}" if rule.extension_days else ""
    where = f" ({rule.state})" if rule.state else ""
    return f"{rule.rule or rule.profile}{where}: {rule.days}{ext} days"[:80]


def _patient_or_none(pid: Any) -> Patient | None:
    try:
        return Patient.objects.filter(pk=pid).first()
    except (ValueError, TypeError, DjangoValidationError):  # not a patient id
        return None


def refuse(
    actor: Actor,
    req: ReleaseRequest | None,
    step: str,
    reason: str,
    *,
    patient: Patient | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit a refused attempt (outcome failure), outside any transaction that is
    being rolled back, so that the attempt stays on record."""
    record(
        actor=actor, action=actions.RELEASE_REFUSED.name,
        patient=patient or (req.patient if req else None), obj=req,
        outcome=Outcome.FAILURE,
        detail={"step": step, "reason": reason[:500], **(detail or {})},
    )  # fmt: skip


def get_request(*, user: Any, request_id: Any) -> ReleaseRequest:
    """A request at one of the user's facilities.

    Raises:
        NotFound: no such request (or not one the user may see)."""
    try:
        req = ReleaseRequest.objects.select_related("patient", "facility").get(
            pk=request_id
        )
    except (ReleaseRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"no release request {request_id}") from None
    scope = user.facility_ids() if user is not None else None
    if scope is not None and req.facility_id not in scope:
        raise NotFound(f"no release request {request_id}")
    return req


# What may change after intake: what is asked for, the legal papers (assurances
# that arrive after the subpoena), the requester's contact and delivery.
EDITABLE = ("requester_organization", "requester_address", "requester_email",
            "requester_phone", "purpose", "entire_record", "entire_record_reason",
            "date_from", "date_to", "encounter_ids", "document_types", "format",
            "delivery", "legal_basis", "legal_detail")  # fmt: skip
SCOPE_FIELDS = ("entire_record", "date_from", "date_to", "encounter_ids",
                "document_types", "legal_basis", "legal_detail")  # fmt: skip


def update_request(
    *, actor: Actor, req: ReleaseRequest, changes: dict[str, Any]
) -> ReleaseRequest:
    """Change an open request: what it asks for, its legal papers (`legal_detail`
    is merged key by key; a key given as None is removed), contact and delivery. A
    change to the scope or the basis sends a built packet back to work: the
    selection, packet and review are redone. A refusal is audited.

    Raises:
        ValidationFailed: a field that cannot change after intake, the request is
            closed, or the changed request would not be valid (named as at intake).
    """
    try:
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise ValidationFailed(f"{', '.join(unknown)} cannot change after intake "
                                   "(cancel and log a new request)", field=unknown[0])  # fmt: skip
        if req.status not in OPEN_STATUSES:
            raise ValidationFailed(f"a {req.get_status_display().lower()} request is "
                                   "closed", field="status")  # fmt: skip
        papers = changes.get("legal_detail", {})
        if not isinstance(papers, dict):
            raise ValidationFailed("legal_detail is an object of the papers' keys",
                                   field="legal_detail")  # fmt: skip
        data = RequestIn(**{**_as_input(req), **changes})
        merged = {**(req.legal_detail or {}), **papers}
        data.legal_detail = {k: v for k, v in merged.items() if v is not None}
        _check(actor, data)
        encounters = list(Encounter.objects.filter(pk__in=data.encounter_ids,
                                                   patient=req.patient))  # fmt: skip
        if len(encounters) != len(set(map(str, data.encounter_ids))):
            raise ValidationFailed("an encounter asked for is not this patient's",
                                   field="encounter_ids")  # fmt: skip
    except (NotFound, PermissionDenied, ValidationFailed) as exc:
        refuse(actor, req, "update request", str(exc.message),
               detail={"field": exc.field or ""})  # fmt: skip
        raise
    before = _as_input(req)
    with transaction.atomic():
        for name in EDITABLE:
            if name != "encounter_ids":
                value = getattr(data, name)
                setattr(req, name, value.strip() if isinstance(value, str) else value)
        req.document_types = sorted(set(data.document_types))
        req.save()
        req.encounters.set(encounters)
        changed = sorted(k for k in EDITABLE if before[k] != _as_input(req)[k])
        if any(k in SCOPE_FIELDS for k in changed) and req.status in (
            Status.QUALITY_REVIEW, Status.READY,
        ):  # fmt: skip
            req.status = Status.IN_PROGRESS
            req.save(update_fields=["status", "updated_at"])
        record(actor=actor, action=actions.RELEASE_REQUEST_UPDATE.name,
               patient=req.patient, obj=req, detail={"changed": changed})  # fmt: skip
    return req


def _as_input(req: ReleaseRequest) -> dict[str, Any]:
    fields = {f for f in RequestIn.__dataclass_fields__} - {
        "patient_id", "facility_code", "encounter_ids"}  # fmt: skip
    out = {name: getattr(req, name) for name in fields}
    out.update(patient_id=req.patient_id, facility_code=req.facility.code,
               encounter_ids=sorted(str(e) for e in
                                    req.encounters.values_list("pk", flat=True)))  # fmt: skip
    out["legal_detail"] = dict(req.legal_detail or {})
    out["document_types"] = list(req.document_types or [])
    return out


def set_status(
    *, actor: Actor, req: ReleaseRequest, status: str, note: str = ""
) -> ReleaseRequest:
    """Move a request by hand (pend it, take it up, cancel it).

    Raises:
        ValidationFailed: a move the workflow does not allow from here, or a
            pend or cancellation without a note."""
    _choice(status, Status, "status", "status")
    if status not in TRANSITIONS[req.status]:
        allowed = ", ".join(sorted(TRANSITIONS[req.status])) or "none"
        raise ValidationFailed(
            f"a {req.get_status_display().lower()} request cannot be moved to "
            f"{status} by hand (allowed: {allowed})", field="status")  # fmt: skip
    if status in (Status.PENDING, Status.CANCELLED) and not note.strip():
        raise ValidationFailed("say why", field="note")
    before = req.status
    with transaction.atomic():
        req.status, req.status_note = status, note.strip()[:500]
        if status == Status.CANCELLED:
            req.closed_at = timezone.now()
        req.save(update_fields=["status", "status_note", "closed_at", "updated_at"])
        record(actor=actor, action=actions.RELEASE_REQUEST_UPDATE.name,
               patient=req.patient, obj=req,
               detail={"status": [before, status], "note": req.status_note})  # fmt: skip
    return req


def verify_identity(
    *, actor: Actor, req: ReleaseRequest, method: str
) -> ReleaseRequest:
    """Record how the requester's identity and authority were verified (R-DISC-7,
    R-ACC-3)."""
    if not method.strip():
        raise ValidationFailed("say how the identity was verified",
                               field="verification_method")  # fmt: skip
    with transaction.atomic():
        req.identity_verified = True
        req.verification_method = method.strip()[:300]
        req.verified_by = actor.username
        req.save(update_fields=["identity_verified", "verification_method",
                                "verified_by", "updated_at"])  # fmt: skip
        record(actor=actor, action=actions.RELEASE_REQUEST_UPDATE.name,
               patient=req.patient, obj=req, detail={"verified": req.verification_method})  # fmt: skip
    return req


def extend(*, actor: Actor, req: ReleaseRequest, reason: str) -> ReleaseRequest:
    """Take the one extension the rule allows (R-ACC-2: at most 30 days, once, and
    only while the first period runs, with a written statement of the reason and
    the new date: the extension letter).

    Raises:
        ValidationFailed: no extension under the rule, one already taken, the
            first period has passed, or no reason."""
    rule = deadline_rule(req.requester_type, req.state)
    today = clock.today(req.facility)
    problem = ""
    if not rule.extension_days:
        problem = f"the rule for this request ({req.deadline_rule}) allows no extension"
    elif req.extended_to:
        problem = f"the one extension was already taken (to {req.extended_to})"
    elif today > req.due_on:
        problem = (f"the first period ended on {req.due_on}: an extension must be "
                   "given within it (R-ACC-2)")  # fmt: skip
    elif not reason.strip():
        problem = "the extension notice must state the reason for the delay"
    if problem:
        refuse(actor, req, "extend", problem)
        raise ValidationFailed(problem, field="extension_reason")
    with transaction.atomic():
        req.extended_to = clock.add_days(req.due_on, rule.extension_days)
        req.extension_reason = reason.strip()[:500]
        req.save(update_fields=["extended_to", "extension_reason", "updated_at"])
        record(actor=actor, action=actions.RELEASE_REQUEST_UPDATE.name,
               patient=req.patient, obj=req,
               detail={"extended_to": str(req.extended_to), "reason": req.extension_reason})  # fmt: skip
    return req


@dataclass
class WorkItem:
    request: ReleaseRequest
    age_days: int
    days_left: int
    overdue: bool


def worklist(
    *, user: Any, status: str = "", overdue_only: bool = False, limit: int = 200
) -> list[WorkItem]:
    """Open requests at the user's facilities, the nearest deadline first."""
    qs: QuerySet[ReleaseRequest] = ReleaseRequest.objects.select_related(
        "patient", "facility"
    ).filter(status__in=[status] if status else OPEN_STATUSES)
    scope = user.facility_ids() if user is not None else None
    if scope is not None:
        qs = qs.filter(facility_id__in=scope)
    items = []
    for req in qs.order_by("due_on", "number")[: limit * 2]:
        today = clock.today(req.facility)  # each request counts in its facility
        deadline = req.extended_to or req.due_on
        item = WorkItem(req, (today - req.received_on).days, (deadline - today).days,
                        deadline < today and req.status in OPEN_STATUSES)  # fmt: skip
        if item.overdue or not overdue_only:
            items.append(item)
    items.sort(key=lambda i: (i.days_left, i.request.number))
    return items[:limit]


def is_access_request(req: ReleaseRequest) -> bool:
    """The individual's own right of access (R-ACC), not a third party's request."""
    return req.requester_type in ACCESS_TYPES
