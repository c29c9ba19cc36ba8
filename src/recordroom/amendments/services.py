"""Amendment services: logging a request with its 60-day clock (R-AMD-1/2), the one
extension with its notice, routing to the author and the author's review, the
decision (accept R-AMD-4, deny R-AMD-3/5, or both), the statement of disagreement
and the rebuttal (R-AMD-6), and an amendment sent by another covered entity
(R-AMD-7). Each write is audited in its own transaction (DESIGN.md rule 3)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from recordroom.kernel.letterpdf import LetterDoc, render
from recordroom.mpi.models import Facility, Patient
from recordroom.mpi.services import in_scope
from recordroom.records import services as records
from recordroom.records.models import Document, Provider

from . import letters
from .models import (
    OPEN_STATUSES,
    AmendmentEntry,
    AmendmentLetter,
    AmendmentRequest,
    LetterKind,
    ReceivedHow,
    Status,
)

# R-AMD-2 (RULES.md section 16, hipaa.amendment): days from receipt, one extension.
DAYS = 60
EXTENSION_DAYS = 30


def _signer(actor: Actor) -> list[str]:
    return actor.user.signature() if actor.user is not None else []


def _next_number(year: int) -> str:
    prefix = f"AMD-{year}-"
    last = (AmendmentRequest.objects.filter(number__startswith=prefix)
            .order_by("-number").values_list("number", flat=True).first())  # fmt: skip
    return f"{prefix}{int(last.removeprefix(prefix)) + 1 if last else 1:06d}"


def _check_scope(actor: Actor, patient: Patient, facility: Facility) -> None:
    if not in_scope(actor.user, patient):
        raise PermissionDenied(f"patient {patient.pk} has no record at your facilities",
                               patient_id=patient.pk)  # fmt: skip
    scope = actor.user.facility_ids() if actor.user is not None else None
    if scope is not None and facility.pk not in scope:
        raise PermissionDenied(f"facility {facility.code} is outside your facilities",
                               field="facility")  # fmt: skip


def log_request(*, actor: Actor, patient: Patient, facility: Facility,
                received_on: date, received_how: str, requested_by: str, change: str,
                reason: str, document_ids: Sequence[Any],
                notify: Sequence[dict[str, str]] = (), address: str = "",
                source_entity: str = "") -> AmendmentRequest:  # fmt: skip
    """Log a written request to amend (R-AMD-1: what to change and why) with its due
    date, 60 calendar days after receipt on the facility's calendar (R-AMD-2).

    Raises:
        ValidationFailed: a field is missing or wrong (named); PermissionDenied: the
            patient or facility is outside the actor's scope.
    """
    _check_scope(actor, patient, facility)
    if received_how not in ReceivedHow.values:
        raise ValidationFailed(f"unknown way of receipt {received_how!r}; use one of "
                               + ", ".join(ReceivedHow.values), field="received_how")  # fmt: skip
    for name, value in (("requested_by", requested_by), ("change", change),
                        ("reason", reason)):  # fmt: skip
        if not value.strip():
            words = {"requested_by": "who asks", "change": "what the patient asks to "
                     "change", "reason": "why the patient asks (a request must give a "
                     "reason)"}[name]  # fmt: skip
            raise ValidationFailed(f"say {words}", field=name)
    if received_how == ReceivedHow.OTHER_ENTITY and not source_entity.strip():
        raise ValidationFailed("name the covered entity that sent the amendment",
                               field="source_entity")  # fmt: skip
    today = clock.today(facility)
    if received_on > today:
        raise ValidationFailed(f"received date {received_on} is in the future at "
                               f"{facility.code} (today there is {today})",
                               field="received_on")  # fmt: skip
    docs = _documents(patient, document_ids)
    people = [_person(p) for p in notify]
    versions = {d.pk: records.current_version(d) for d in docs}
    now = timezone.now()
    for _ in range(5):  # two desks logging at once: take the next number
        try:
            with transaction.atomic():
                req = AmendmentRequest.objects.create(
                    number=_next_number(now.year), patient=patient, facility=facility,
                    received_on=received_on, received_how=received_how,
                    requested_by=requested_by.strip(), address=address.strip(),
                    change=change.strip(), reason=reason.strip(), notify=people,
                    source_entity=source_entity.strip(),
                    due_on=clock.add_days(received_on, DAYS), created_at=now,
                    created_by=actor.username)  # fmt: skip
                AmendmentEntry.objects.bulk_create(
                    [AmendmentEntry(request=req, document=d, version=versions[d.pk])
                     for d in docs])  # fmt: skip
                record(actor=actor, action=actions.AMENDMENT_REQUEST.name,
                       patient=patient, obj=req,
                       detail={"number": req.number, "due_on": str(req.due_on),
                               "documents": [str(d.pk) for d in docs],
                               "received_how": received_how, "notify": len(people)})  # fmt: skip
            return req
        except IntegrityError:
            continue
    raise ValidationFailed("could not number the request; try again", field="number")


def _documents(patient: Patient, document_ids: Sequence[Any]) -> list[Document]:
    ids = list(dict.fromkeys(str(d) for d in document_ids))
    if not ids:
        raise ValidationFailed("name the entries of the record the request concerns",
                               field="document_ids")  # fmt: skip
    try:
        docs = list(Document.objects.filter(pk__in=ids, patient=patient)
                    .select_related("author", "doc_type", "facility"))  # fmt: skip
    except Exception:  # a malformed id
        docs = []
    if len(docs) != len(ids):
        found = {str(d.pk) for d in docs}
        missing = [i for i in ids if i not in found]
        raise ValidationFailed(f"document(s) {', '.join(missing)} are not in this "
                               "patient's record", field="document_ids")  # fmt: skip
    return docs


def _person(p: dict[str, str]) -> dict[str, str]:
    name = str(p.get("name", "")).strip()
    if not name:
        raise ValidationFailed("each person to notify needs a name", field="notify")
    return {"name": name[:200], "address": str(p.get("address", "")).strip()[:500],
            "why": str(p.get("why", "named by the patient")).strip()[:200]}  # fmt: skip


def get_request(*, user: Any, request_id: Any) -> AmendmentRequest:
    """A request at one of the user's facilities (NotFound otherwise)."""
    try:
        req = AmendmentRequest.objects.select_related(
            "patient", "facility", "author").get(pk=request_id)  # fmt: skip
    except Exception:  # a missing row or a malformed id both mean: no such request
        raise NotFound(f"no amendment request {request_id}") from None
    scope = user.facility_ids() if user is not None else None
    if scope is not None and req.facility_id not in scope:
        raise NotFound(f"no amendment request {request_id}")
    return req


def worklist(*, user: Any, status: str = "", overdue: bool = False,
             on: date | None = None) -> QuerySet[AmendmentRequest]:  # fmt: skip
    """Requests by due date (the extended one when extended): open ones unless a
    status is named; `overdue` keeps the open ones past their deadline."""
    qs = AmendmentRequest.objects.select_related("patient", "facility", "author")
    scope = user.facility_ids() if user is not None else None
    if scope is not None:
        qs = qs.filter(facility_id__in=scope)
    if status:
        if status not in Status.values:
            raise ValidationFailed(f"unknown status {status!r}; use one of "
                                   + ", ".join(Status.values), field="status")  # fmt: skip
        qs = qs.filter(status=status)
    else:
        qs = qs.filter(status__in=OPEN_STATUSES)
    if overdue:
        rows = [r for r in qs if r.deadline < (on or clock.today(r.facility))]
        return qs.filter(pk__in=[r.pk for r in rows])
    return qs.order_by("due_on", "number")


def status_counts(*, user: Any) -> dict[str, int]:
    """How many requests at the user's facilities are in each status."""
    qs = AmendmentRequest.objects.all()
    scope = user.facility_ids() if user is not None else None
    if scope is not None:
        qs = qs.filter(facility_id__in=scope)
    counts = dict(qs.values_list("status").annotate(n=Count("id")).order_by())
    return {value: counts.get(value, 0) for value in Status.values}


def _open(req: AmendmentRequest, step: str) -> None:
    if not req.is_open:
        raise Conflict(f"request {req.number} is {req.get_status_display().lower()}; "
                       f"it cannot be {step}")  # fmt: skip


# --- letters -----------------------------------------------------------------------


def _letter(actor: Actor, req: AmendmentRequest, kind: str, doc: LetterDoc,
            recipient: str) -> AmendmentLetter:  # fmt: skip
    """Render, store (encrypted) and audit a letter; inside the caller's transaction."""
    data = render(doc)
    stored = default_store().put(data)
    letter = AmendmentLetter.objects.create(
        request=req, patient=req.patient, kind=kind, recipient=recipient[:200],
        sha256=stored.sha256, size=len(data), created_at=timezone.now(),
        created_by=actor.username)  # fmt: skip
    record(actor=actor, action=actions.AMENDMENT_LETTER.name, patient=req.patient,
           obj=letter, detail={"request": req.number, "kind": kind,
                               "sha256": stored.sha256})  # fmt: skip
    return letter


def letter_bytes(letter: AmendmentLetter) -> bytes:
    """The letter's PDF, verified against its hash (IntegrityFailure if not)."""
    return default_store().get(letter.sha256)


# --- the clock and the author ----------------------------------------------------------


def extend(*, actor: Actor, req: AmendmentRequest, reason: str,
           on: date | None = None) -> AmendmentLetter:  # fmt: skip
    """The one extension of up to 30 days (R-AMD-2), only within the first 60 days,
    with its written notice giving the reason and the date of action."""
    _open(req, "extended")
    today = on or clock.today(req.facility)
    if req.extended_to is not None:
        raise Conflict(f"request {req.number} was already extended to "
                       f"{req.extended_to}; only one extension is allowed")  # fmt: skip
    if today > req.due_on:
        raise Conflict(f"the 60 days ended on {req.due_on}: an extension must be sent "
                       "within them; decide the request now")  # fmt: skip
    if not reason.strip():
        raise ValidationFailed("give the reason for the delay; it goes in the notice",
                               field="reason")  # fmt: skip
    with transaction.atomic():
        req.extended_to = clock.add_days(req.due_on, EXTENSION_DAYS)
        req.extension_reason = reason.strip()[:500]
        req.save(update_fields=["extended_to", "extension_reason", "updated_at"])
        record(actor=actor, action=actions.AMENDMENT_UPDATE.name, patient=req.patient,
               obj=req, detail={"step": "extend", "extended_to": str(req.extended_to),
                                "reason": req.extension_reason})  # fmt: skip
        return _letter(actor, req, LetterKind.EXTENSION,
                       letters.extension(req, _signer(actor)), req.requested_by)  # fmt: skip


def route_to_author(*, actor: Actor, req: AmendmentRequest,
                    author: Provider | None = None) -> AmendmentRequest:  # fmt: skip
    """Send the request to the author of the entries for review (the first entry's
    author unless one is named)."""
    _open(req, "routed")
    if author is None:
        entry = req.entries.select_related("document__author").filter(
            document__author__isnull=False).order_by("pk").first()  # fmt: skip
        author = entry.document.author if entry else None
    if author is None:
        raise ValidationFailed("the entries name no author: choose the provider who "
                               "should review the request", field="author")  # fmt: skip
    with transaction.atomic():
        req.author, req.routed_at, req.status = (
            author,
            timezone.now(),
            Status.AUTHOR_REVIEW,
        )
        req.save(update_fields=["author", "routed_at", "status", "updated_at"])
        record(actor=actor, action=actions.AMENDMENT_UPDATE.name, patient=req.patient,
               obj=req, detail={"step": "route", "author": str(author.pk)})  # fmt: skip
    return req


def author_review(*, actor: Actor, req: AmendmentRequest, agrees: bool,
                  comment: str) -> AmendmentRequest:  # fmt: skip
    """The author's opinion: whether the entry should be amended, and why. A provider
    signed in reviews only the requests routed to them."""
    _open(req, "reviewed")
    if req.author is None:
        raise Conflict(f"request {req.number} has not been routed to an author")
    linked = getattr(actor.user, "provider", None) if actor.user is not None else None
    if linked is not None and linked.pk != req.author_id:
        raise PermissionDenied(f"request {req.number} is routed to {req.author}, not "
                               "to you")  # fmt: skip
    if not comment.strip():
        raise ValidationFailed("say why the entry should or should not be amended",
                               field="comment")  # fmt: skip
    with transaction.atomic():
        req.author_agrees, req.author_comment = agrees, comment.strip()
        req.author_reviewed_at, req.author_reviewed_by = timezone.now(), actor.username
        req.status = Status.REVIEWED
        req.save(update_fields=["author_agrees", "author_comment", "author_reviewed_at",
                                "author_reviewed_by", "status", "updated_at"])  # fmt: skip
        record(actor=actor, action=actions.AMENDMENT_UPDATE.name, patient=req.patient,
               obj=req, detail={"step": "review", "agrees": agrees})  # fmt: skip
    return req
